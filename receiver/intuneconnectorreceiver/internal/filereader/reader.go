// Package filereader reads the events of one exported event file after its
// checkpoint: one reader per format (streaming XML and JSON, EVTX) behind
// one interface. A reader finds events and damage and says where the
// checkpoint may move; what to do with them (batching, logging, counting)
// is the caller's.
package filereader

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/checkpoint"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Options apply to every reader.
type Options struct {
	// Format forces the format of every file; FormatUnknown detects it
	// from the content of each file.
	Format       wineventlog.Format
	MaxEventSize int
	NoOriginal   bool
}

// Sink receives what a reader finds.
type Sink interface {
	// Event takes an event and the checkpoint that holds once it and
	// everything before it are delivered. An error (the receiver is
	// stopping) ends the read.
	Event(ev *wineventlog.Event, cp checkpoint.Record) error
	// Damage reports data passed over; base is the file offset the
	// DecodeError's offsets count from.
	Damage(de *wineventlog.DecodeError, base int64)
}

// Result says how far a read got.
type Result struct {
	// Checkpoint covers everything read, damage passed over included.
	Checkpoint checkpoint.Record
	// Complete is false when reading stopped at an I/O error (Err): the
	// file is read again at the next poll.
	Complete bool
	Err      error
	// Tail reports a stream file that ends inside an event, which the
	// writer may not have finished.
	Tail bool
	// Bytes is how much of the file was examined.
	Bytes int64
}

// Reader reads one open file.
type Reader interface {
	Format() wineventlog.Format
	// ReadToEnd hands every event after the checkpoint to sink. Its error
	// is the sink's.
	ReadToEnd(sink Sink) (Result, error)
	// End returns the checkpoint at the file's current end, for a file
	// whose existing events are to be skipped (start_at: end).
	End() checkpoint.Record
}

// ErrEmpty is Open's error for a file that holds nothing yet to tell its
// format by (no bytes, or only white space and byte order marks).
var ErrEmpty = errors.New("the file holds no event yet")

// Open returns the reader for f, of the given size, that resumes after cp.
// A file read from its start has its format detected from the content
// (unless opts.Format forces one), so a file replaced by another export
// is read as what it now is; a resumed file keeps the format in cp.
func Open(f *os.File, size int64, cp checkpoint.Record, opts Options) (Reader, error) {
	if size == 0 {
		return nil, ErrEmpty
	}
	format := wineventlog.Format(cp.Format)
	if cp.Offset == 0 && cp.Record == 0 {
		format = opts.Format
	}
	if format == wineventlog.FormatEVTX {
		return newEVTX(f, size, cp, opts)
	}
	r, err := newStream(f, size, cp, format, opts)
	if errors.Is(err, wineventlog.ErrEVTX) && format == wineventlog.FormatUnknown {
		return newEVTX(f, size, cp, opts)
	}
	return r, err
}

// decodeError returns the damage report err is, or nil for a failure of
// the input itself. (Kept out of the loops: the variable errors.As fills
// lives on the heap.)
func decodeError(err error) *wineventlog.DecodeError {
	var de *wineventlog.DecodeError
	if errors.As(err, &de) {
		return de
	}
	return nil
}

// countingReader counts the bytes the decoder takes from the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// stream reads XML or JSON events after the checkpoint's byte offset.
type stream struct {
	in   countingReader
	dec  wineventlog.Decoder
	cp   checkpoint.Record
	size int64
	// rec holds the event being handed to the sink: a local would move to
	// the heap for every event, as the sink is an interface.
	rec wineventlog.Record
}

func newStream(f *os.File, size int64, cp checkpoint.Record, format wineventlog.Format, opts Options) (*stream, error) {
	if _, err := f.Seek(cp.Offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seeking to offset %d: %w", cp.Offset, err)
	}
	s := &stream{in: countingReader{r: f}, cp: cp, size: size}
	dec, err := wineventlog.NewDecoder(&s.in, wineventlog.Options{
		Format: format, MaxEventSize: opts.MaxEventSize, NoOriginal: opts.NoOriginal,
	})
	if err != nil {
		return nil, err
	}
	if dec.Format() == wineventlog.FormatUnknown {
		return nil, ErrEmpty
	}
	s.dec = dec
	s.cp.Format = string(dec.Format())
	return s, nil
}

func (s *stream) Format() wineventlog.Format { return s.dec.Format() }

// ReadToEnd decodes events to the end of the file. Damage that reaches the
// end of what the file holds may be an event still being written: it is
// held back and reported as Tail rather than passed over.
func (s *stream) ReadToEnd(sink Sink) (Result, error) {
	res := Result{Complete: true}
	base := s.cp.Offset
	var held *wineventlog.DecodeError
	for {
		var err error
		s.rec, err = s.dec.Next()
		if held != nil {
			if err == io.EOF {
				res.Tail = true
				break
			}
			s.damage(sink, held, base)
			held = nil
		}
		if err != nil {
			if err == io.EOF {
				break
			}
			if de := decodeError(err); de != nil {
				if de.End >= s.in.n {
					held = de
				} else {
					s.damage(sink, de, base)
				}
				continue
			}
			res.Complete, res.Err = false, err
			break
		}
		s.cp.Offset = base + s.rec.Position.End
		if err := sink.Event(&s.rec.Event, s.cp); err != nil {
			res.Bytes = s.in.n
			return res, err
		}
	}
	res.Checkpoint, res.Bytes = s.cp, s.in.n
	return res, nil
}

func (s *stream) damage(sink Sink, de *wineventlog.DecodeError, base int64) {
	sink.Damage(de, base)
	s.cp.Offset = base + de.End
}

func (s *stream) End() checkpoint.Record {
	cp := s.cp
	cp.Offset = s.size
	return cp
}
