// Package eventfile opens an exported event log of any supported format
// (EVTX, XML, JSON) and returns one decoder for it, so callers never choose
// a parser by file name.
package eventfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/evtx"
)

// Options apply to whichever decoder the content calls for.
type Options struct {
	// Format forces a format instead of detecting it.
	Format       wineventlog.Format
	MaxEventSize int
	NoOriginal   bool
	// Carve recovers records from EVTX chunk slack.
	Carve bool
	// SkipThrough resumes an EVTX file after this record number.
	SkipThrough uint64
}

// File is an open event log file.
type File struct {
	wineventlog.Decoder
	Name string
	Size int64
	f    *os.File
	tmp  string
}

// Close releases the file (and the spool file made for EVTX on stdin).
func (f *File) Close() error {
	var err error
	if f.f != nil {
		err = f.f.Close()
		f.f = nil
	}
	if f.tmp != "" {
		if rmErr := os.Remove(f.tmp); err == nil {
			err = rmErr
		}
		f.tmp = ""
	}
	return err
}

// ErrUnknownFormat is returned (wrapped) for input that is none of the
// supported formats.
var ErrUnknownFormat = wineventlog.ErrUnknownFormat

// Open opens the file at path, or standard input for "-".
func Open(path string, opts Options) (*File, error) {
	if path == "-" {
		return openStdin(opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory: name the exported files inside it", path)
	}
	file := &File{Name: path, Size: st.Size(), f: f}
	if err := file.start(f, opts); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return file, nil
}

func (file *File) start(f *os.File, opts Options) error {
	format := opts.Format
	if format == wineventlog.FormatUnknown {
		head := make([]byte, 4096)
		n, err := io.ReadFull(f, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return err
		}
		if n == 0 {
			return fmt.Errorf("the file is empty: %w", ErrUnknownFormat)
		}
		format = wineventlog.Detect(head[:n])
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	if format == wineventlog.FormatEVTX {
		r, err := evtx.NewReader(f, file.Size, evtx.Options{Carve: opts.Carve, NoOriginal: opts.NoOriginal, SkipThrough: opts.SkipThrough})
		if err != nil {
			return err
		}
		file.Decoder = r
		return nil
	}
	d, err := wineventlog.NewDecoder(bufio.NewReaderSize(f, 256<<10), wineventlog.Options{
		Format: format, MaxEventSize: opts.MaxEventSize, NoOriginal: opts.NoOriginal,
	})
	if err != nil {
		return err
	}
	file.Decoder = d
	return nil
}

// openStdin reads XML and JSON from stdin as a stream; EVTX needs random
// access, so it is spooled to a temporary file first.
func openStdin(opts Options) (*File, error) {
	br := bufio.NewReaderSize(os.Stdin, 256<<10)
	head, _ := br.Peek(4096)
	format := opts.Format
	if format == wineventlog.FormatUnknown {
		if len(head) == 0 {
			return nil, fmt.Errorf("standard input is empty: %w", ErrUnknownFormat)
		}
		format = wineventlog.Detect(head)
	}
	if format != wineventlog.FormatEVTX {
		d, err := wineventlog.NewDecoder(br, wineventlog.Options{Format: format, MaxEventSize: opts.MaxEventSize, NoOriginal: opts.NoOriginal})
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		return &File{Decoder: d, Name: "-", Size: -1}, nil
	}
	tmp, err := os.CreateTemp("", "intune-evtx-*.evtx")
	if err != nil {
		return nil, err
	}
	file := &File{Name: "-", f: tmp, tmp: tmp.Name()}
	n, err := io.Copy(tmp, br)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("spooling EVTX from standard input: %w", err)
	}
	file.Size = n
	if err := file.start(tmp, Options{Format: wineventlog.FormatEVTX, Carve: opts.Carve, NoOriginal: opts.NoOriginal, SkipThrough: opts.SkipThrough}); err != nil {
		file.Close()
		return nil, fmt.Errorf("standard input: %w", err)
	}
	return file, nil
}
