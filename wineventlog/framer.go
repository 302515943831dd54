package wineventlog

import (
	"bytes"
	"io"
	"strconv"

	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/magic"
)

// framer is what the XML and JSON stream decoders share: the input, the one
// loop that passes separators between events and refills the window, and
// the handling of an event that runs past the window (grow it, skip what is
// larger than allowed, report what the input cuts off). The decoders add
// how their format starts, ends and resynchronises.
type framer struct {
	src    *source
	format Format
	noun   string // what one event is called in messages: event, object
	keep   bool
	max    int
	u8     []byte // UTF-16 events transcoded

	// resume skips a damaged event from window unit from to where the
	// next one may start, and returns that input offset.
	resume func(from int) (int64, error)
	// backoff is how far before the window's end resume starts after an
	// event grew too large: the end of the event may straddle it.
	backoff int

	// col is the column of the window start, tracked when cols is set
	// (JSON resynchronises on lines).
	cols bool
	col  int
}

// separators is a set of bytes passed over between events.
type separators [256]bool

// newSeparators makes the set of the bytes in set and projBOM: a BOM
// appears between events when files are joined with copy or cat. (In UTF-8
// a stray 0x81 byte between events is passed over too.)
func newSeparators(set string) *separators {
	var s separators
	for i := 0; i < len(set); i++ {
		s[set[i]] = true
	}
	s[projBOM] = true
	return &s
}

// consume advances past k window units.
func (f *framer) consume(k int) {
	if f.cols {
		w := f.src.window()[:k]
		if nl := bytes.LastIndexByte(w, '\n'); nl >= 0 {
			f.col = k - nl - 1
		} else {
			f.col += k
		}
	}
	f.src.advance(k)
}

// next passes separators and returns the window from the next byte that
// is not one, holding at least look units unless the input ends first. At
// the end of the input it returns io.EOF, or the error that ended it.
func (f *framer) next(sep *separators, look int) ([]byte, error) {
	s := f.src
	for {
		w := s.window()
		i := 0
		for i < len(w) {
			if c := w[i]; sep[c] {
				i++
			} else if c == magic.UTF8BOM[0] && s.unit == 1 && bytes.HasPrefix(w[i:], []byte(magic.UTF8BOM)) {
				// A UTF-8 BOM inside the stream, from joined files too.
				i += len(magic.UTF8BOM)
			} else {
				break
			}
		}
		f.consume(i)
		w = s.window()
		if len(w) < look && !s.eof {
			ok, err := s.more()
			if err != nil {
				return nil, err
			}
			if ok {
				continue
			}
		}
		if len(w) == 0 {
			if s.err != nil {
				return nil, s.err
			}
			return nil, io.EOF
		}
		return w, nil
	}
}

// extend is called when the event starting at input offset start may go
// on past the window. It reports true when the window grew. At the end of
// the input it reports false, and the caller says how the event was cut
// off; an event larger than the maximum is skipped and reported.
func (f *framer) extend(start int64) (bool, error) {
	s := f.src
	w := s.window()
	if len(w)*s.unit < f.max {
		grew, err := s.grow()
		if err != nil || grew {
			return grew, err
		}
		if s.eof {
			return false, nil
		}
	}
	// Everything in the window was scanned without finding this event's
	// end: search on from near the end.
	end, err := f.resume(max(len(w)-f.backoff, 1))
	if err != nil {
		return false, err
	}
	return false, f.tooLarge(start, end)
}

// transcoded returns window units [0, end) as UTF-8: the window itself, or
// the UTF-16 bytes transcoded into scratch space.
func (f *framer) transcoded(end int) []byte {
	s := f.src
	if s.unit == 1 {
		return s.window()[:end]
	}
	f.u8 = appendUTF16(f.u8[:0], s.raw(0, end), s.be)
	return f.u8
}

func (f *framer) tooLarge(start, end int64) *DecodeError {
	return &DecodeError{Format: f.format, Offset: start, End: end,
		Reason: "the " + f.noun + " is larger than the maximum event size of " + strconv.Itoa(f.max) + " bytes and was skipped; raise the maximum event size to read it"}
}

// endsInside reports the event at start that the input ends inside of,
// after consuming the rest of the input. detail, when set, says where.
func (f *framer) endsInside(start int64, detail string) *DecodeError {
	f.consume(len(f.src.window()))
	reason := "the input ends inside this " + f.noun
	if detail != "" {
		reason += " (" + detail + ")"
	}
	return &DecodeError{Format: f.format, Offset: start, End: f.src.offset(0),
		Reason: reason + "; the file is truncated or still being written"}
}

// skipped reports bytes between events that belong to none, from start to
// where decoding resumes; first is how they begin.
func (f *framer) skipped(start int64, first, what string) *DecodeError {
	end := f.src.offset(0)
	return &DecodeError{Format: f.format, Offset: start, End: end,
		Reason: "skipped " + strconv.FormatInt(end-start, 10) + " bytes " + what + ", starting with " + strconv.Quote(first)}
}
