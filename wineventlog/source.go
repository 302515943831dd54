package wineventlog

import (
	"fmt"
	"io"
)

// source buffers the raw input with its absolute offset, so that framing
// works on source bytes and positions stay exact for any encoding.
//
// Framing looks at a projection with one byte per code unit: the unit itself
// when it is ASCII, projOther for other characters and projBOM for U+FEFF. For UTF-8
// the projection is the buffer itself; for UTF-16 it lets the same byte
// scanners find markup at even offsets only.
type source struct {
	r     io.Reader
	unit  int // bytes per code unit
	be    bool
	buf   []byte // raw bytes; buf[0] is at input offset base
	base  int64
	proj  []byte
	pos   int // consumed units
	eof   bool
	err   error
	limit int // most bytes buf may hold
}

// The projection's stand-ins for code units that are not ASCII.
const (
	projOther = 0x80
	projBOM   = 0x81 // U+FEFF: a BOM inside the stream
)

func newSource(r io.Reader, maxEvent int) *source {
	return &source{r: r, unit: 1, limit: maxEvent + readChunk}
}

func (s *source) setEncoding(enc encoding) {
	if enc == encUTF8 {
		return
	}
	s.unit = 2
	s.be = enc == encUTF16BE
	s.proj = s.proj[:0]
	s.project()
}

// window is the unconsumed input in units.
func (s *source) window() []byte {
	if s.unit == 1 {
		return s.buf[s.pos:]
	}
	return s.proj[s.pos:]
}

// offset is the input offset of unit k of the window.
func (s *source) offset(k int) int64 {
	return s.base + int64((s.pos+k)*s.unit)
}

func (s *source) advance(k int) { s.pos += k }

// raw returns the source bytes of window units [k0, k1).
func (s *source) raw(k0, k1 int) []byte {
	return s.buf[(s.pos+k0)*s.unit : (s.pos+k1)*s.unit]
}

// preview is the start of the window as text, for error messages.
func (s *source) preview() string {
	n := min(len(s.window()), 16)
	if s.unit == 2 {
		return string(appendUTF16(nil, s.raw(0, n), s.be))
	}
	return string(appendValidUTF8(nil, s.raw(0, n)))
}

// full reports that the window cannot grow before something is consumed.
func (s *source) full() bool {
	return len(s.buf)-s.pos*s.unit >= s.limit
}

func (s *source) project() {
	if s.unit == 1 {
		return
	}
	from, to := len(s.proj), len(s.buf)/2
	if to <= from {
		return
	}
	s.proj = append(s.proj, make([]byte, to-from)...)
	lo, hi := 0, 1 // byte holding the low and high half of a unit
	if s.be {
		lo, hi = 1, 0
	}
	src := s.buf[2*from : 2*to]
	dst := s.proj[from:to]
	for k := range dst {
		l, h := src[2*k+lo], src[2*k+hi]
		switch {
		case h == 0 && l < 0x80:
			dst[k] = l
		case h == 0xFE && l == 0xFF:
			dst[k] = projBOM
		default:
			dst[k] = projOther
		}
	}
}

// more reads one more chunk behind the window. It reports false at the end
// of the input or when the window is already as large as allowed; a read
// error is returned and kept.
func (s *source) more() (bool, error) {
	if s.err != nil {
		return false, s.err
	}
	if s.eof || s.full() {
		return false, nil
	}
	if s.pos > 0 {
		drop := s.pos * s.unit
		n := copy(s.buf, s.buf[drop:])
		s.buf = s.buf[:n]
		if s.unit == 2 {
			m := copy(s.proj, s.proj[s.pos:])
			s.proj = s.proj[:m]
		}
		s.base += int64(drop)
		s.pos = 0
	}
	want := min(readChunk, s.limit-len(s.buf))
	if cap(s.buf)-len(s.buf) < want {
		// Doubling like append, but never past the limit: it bounds the
		// decoder's memory.
		c := min(max(2*cap(s.buf), len(s.buf)+want), s.limit)
		nb := make([]byte, len(s.buf), c)
		copy(nb, s.buf)
		s.buf = nb
	}
	for tries := 0; ; tries++ {
		n, err := s.r.Read(s.buf[len(s.buf) : len(s.buf)+want])
		s.buf = s.buf[:len(s.buf)+n]
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err = fmt.Errorf("reading input at byte %d: %w", s.base+int64(len(s.buf)), err)
		}
		if n > 0 {
			s.project()
			return true, nil
		}
		if s.eof {
			return false, nil
		}
		if s.err != nil {
			return false, s.err
		}
		if tries >= 100 {
			s.err = fmt.Errorf("reading input at byte %d: %w", s.base+int64(len(s.buf)), io.ErrNoProgress)
			return false, s.err
		}
	}
}

// grow reads until the window holds at least twice what it holds now (so
// that re-parsing a growing event costs linear time overall), the input
// ends, or the limit is reached. It reports whether anything was added.
func (s *source) grow() (bool, error) {
	target := max(2*len(s.window())*s.unit, readChunk)
	added := false
	for len(s.buf)-s.pos*s.unit < target {
		ok, err := s.more()
		if err != nil {
			return added, err
		}
		if !ok {
			break
		}
		added = true
	}
	return added, nil
}
