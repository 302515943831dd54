package wineventlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/magic"
)

// Options configure NewDecoder.
type Options struct {
	Format Format // FormatUnknown: detect from content
	// MaxEventSize bounds the bytes of one event in the input, and with it
	// the decoder's memory. Larger events are skipped with a *DecodeError.
	// 0 means 4 MiB.
	MaxEventSize int
	// NoOriginal leaves Event.Original empty, which keeps less memory alive
	// per event.
	NoOriginal bool
}

// DefaultMaxEventSize is the MaxEventSize used when Options leave it 0.
// Windows caps an event's payload near 64 KiB, so 4 MiB leaves ample room
// for rendered messages while bounding memory.
const DefaultMaxEventSize = 4 << 20

var (
	// ErrEVTX is wrapped by NewDecoder's error for binary EVTX input, which
	// the evtx sub-package reads.
	ErrEVTX = errors.New("input is an EVTX file")
	// ErrUnknownFormat is wrapped by NewDecoder's error for input that is
	// neither XML, JSON nor EVTX.
	ErrUnknownFormat = errors.New("unrecognised input format")
)

type encoding uint8

const (
	encUTF8 encoding = iota
	encUTF16LE
	encUTF16BE
)

func (e encoding) String() string {
	switch e {
	case encUTF16LE:
		return "UTF-16LE"
	case encUTF16BE:
		return "UTF-16BE"
	}
	return "UTF-8"
}

// detectEncoding decides from the bytes alone: XML declarations are often
// wrong (PowerShell re-encodes files without touching them), so they are
// never consulted.
func detectEncoding(p []byte) (enc encoding, bomLen int) {
	switch {
	case bytes.HasPrefix(p, []byte(magic.UTF8BOM)):
		return encUTF8, len(magic.UTF8BOM)
	case bytes.HasPrefix(p, []byte(magic.UTF16LEBOM)):
		return encUTF16LE, len(magic.UTF16LEBOM)
	case bytes.HasPrefix(p, []byte(magic.UTF16BEBOM)):
		return encUTF16BE, len(magic.UTF16BEBOM)
	}
	// Without a BOM, UTF-16 shows as zero bytes on one side of each pair:
	// the markup and most text of these formats is ASCII.
	n := min(len(p)/2, 256)
	if n == 0 {
		return encUTF8, 0
	}
	var even, odd int
	for i := 0; i < n; i++ {
		if p[2*i] == 0 {
			even++
		}
		if p[2*i+1] == 0 {
			odd++
		}
	}
	switch {
	case odd*2 > n && even*8 < n:
		return encUTF16LE, 0
	case even*2 > n && odd*8 < n:
		return encUTF16BE, 0
	}
	return encUTF8, 0
}

// firstChar returns the first character after white space and BOMs, as
// ASCII (0x80 for anything else, 0 at the end).
func firstChar(p []byte, enc encoding, from int) byte {
	if enc == encUTF8 {
		for i := from; i < len(p); i++ {
			c := p[i]
			if isSpace(c) {
				continue
			}
			if c == magic.UTF8BOM[0] && bytes.HasPrefix(p[i:], []byte(magic.UTF8BOM)) {
				i += len(magic.UTF8BOM) - 1
				continue
			}
			if c >= 0x80 {
				return 0x80
			}
			return c
		}
		return 0
	}
	for i := from; i+1 < len(p); i += 2 {
		u := unitAt(p, i, enc == encUTF16BE)
		if u < 0x80 && isSpace(byte(u)) || u == 0xFEFF {
			continue
		}
		if u >= 0x80 {
			return 0x80
		}
		return byte(u)
	}
	return 0
}

func unitAt(p []byte, i int, be bool) uint16 {
	if be {
		return uint16(p[i])<<8 | uint16(p[i+1])
	}
	return uint16(p[i]) | uint16(p[i+1])<<8
}

// Detect inspects the first bytes of an input (up to 4 KiB suffice) and
// reports its format, or FormatUnknown.
func Detect(prefix []byte) Format {
	f, _, _ := detect(prefix)
	return f
}

func detect(p []byte) (Format, encoding, int) {
	if bytes.HasPrefix(p, []byte(magic.EVTXFile)) {
		return FormatEVTX, encUTF8, 0
	}
	enc, bom := detectEncoding(p)
	switch firstChar(p, enc, bom) {
	case '<':
		return FormatXML, enc, bom
	case '{', '[':
		return FormatJSON, enc, bom
	case ',', ']':
		// Only seen when a reader resumes inside a JSON array at a saved
		// Position.End.
		return FormatJSON, enc, bom
	}
	return FormatUnknown, enc, bom
}

const readChunk = 64 << 10

// NewDecoder returns a streaming decoder for XML or JSON input read from r.
// Format and encoding (UTF-8, UTF-16LE/BE, with or without BOM) are detected
// from the content; an XML declaration's encoding is ignored because tools
// re-encode files without updating it. EVTX input gives an error wrapping
// ErrEVTX; anything else unrecognised an error wrapping ErrUnknownFormat.
// Input that is empty or only white space decodes to no events.
//
// Positions are byte offsets in the input as read, also for UTF-16, so a
// reader can checkpoint Position.End and later resume by handing NewDecoder
// the input from there (with Options.Format set, as the rest of a JSON
// array starts with a comma). Memory stays within MaxEventSize plus one
// read chunk whatever the input's size.
//
// Values keep their line ends as written (CRLF from Windows), unlike a
// conforming XML processor, so they match what the EVTX reader yields.
func NewDecoder(r io.Reader, opts Options) (Decoder, error) {
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = DefaultMaxEventSize
	}
	src := newSource(r, opts.MaxEventSize)
	for len(src.buf) < 4096 && !src.eof {
		if _, err := src.more(); err != nil {
			if len(src.buf) == 0 {
				return nil, err
			}
			// Decode what arrived; Next reports the error after it.
			break
		}
	}
	detected, enc, bom := detect(src.buf)
	f := detected
	if f == FormatEVTX || opts.Format == FormatEVTX {
		return nil, fmt.Errorf("%w: this decoder reads XML and JSON; open the file with the evtx reader instead", ErrEVTX)
	}
	if opts.Format != FormatUnknown {
		if opts.Format != FormatXML && opts.Format != FormatJSON {
			return nil, fmt.Errorf("%w: format %q is not one of %q, %q, %q", ErrUnknownFormat, opts.Format, FormatXML, FormatJSON, FormatEVTX)
		}
		f = opts.Format
	}
	// Also with a format given: callers pass on what Detect said, and a
	// resumed read starts at an event, which none of these markers match.
	if err := foreignError(src.buf, detected, enc, bom); err != nil {
		return nil, err
	}
	if f == FormatUnknown {
		if firstChar(src.buf, enc, bom) == 0 {
			return emptyDecoder{}, nil
		}
		return nil, unknownError(src.buf)
	}
	src.setEncoding(enc)
	src.advance(bom / src.unit)
	if f == FormatJSON {
		return newJSONDecoder(src, !opts.NoOriginal, opts.MaxEventSize), nil
	}
	return newXMLDecoder(src, !opts.NoOriginal, opts.MaxEventSize), nil
}

// Unrecognised explains, as an error wrapping ErrUnknownFormat, why input
// that starts with prefix and for which Detect said FormatUnknown cannot be
// read: what it is when recognisable (an archive, an export that lost the
// event data), and what is accepted. NewDecoder gives the same
// explanations, and also refuses XML and JSON that hold no events.
func Unrecognised(prefix []byte) error {
	_, enc, bom := detect(prefix)
	if err := foreignError(prefix, FormatUnknown, enc, bom); err != nil {
		return err
	}
	return unknownError(prefix)
}

func unknownError(p []byte) error {
	return fmt.Errorf("%w: the input starts with %s; accepted are Windows event XML (wevtutil qe /f:xml, Event Viewer \"Save as XML\"), PowerShell JSON (Get-WinEvent or Get-EventLog | ConvertTo-Json) and EVTX files",
		ErrUnknownFormat, describePrefix(p))
}

func describePrefix(p []byte) string {
	if len(p) > 16 {
		p = p[:16]
	}
	return strconv.Quote(string(p))
}

type emptyDecoder struct{}

func (emptyDecoder) Next() (Record, error) { return Record{}, io.EOF }
func (emptyDecoder) Format() Format        { return FormatUnknown }
