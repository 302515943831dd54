package wineventlog

import (
	"bytes"
	"io"
	"strconv"
	"strings"
)

type xmlDecoder struct {
	src  *source
	keep bool
	max  int
	p    xmlParser
	u8   []byte // UTF-16 events transcoded
}

func (d *xmlDecoder) Format() Format { return FormatXML }

const (
	tagOther = iota
	tagEventStart
	tagEventEnd
	tagIncomplete
)

// eventTag classifies the markup at w[i] == '<' as the start or end tag of
// an Event element (any namespace prefix) or something else.
func eventTag(w []byte, i int) (kind, end int) {
	j := i + 1
	closing := false
	if j < len(w) && w[j] == '/' {
		closing = true
		j++
	}
	ns := j
	for j < len(w) && isNameByte(w[j]) {
		j++
	}
	if j >= len(w) {
		return tagIncomplete, 0
	}
	if string(localName(w[ns:j])) != "Event" {
		return tagOther, 0
	}
	if closing {
		for j < len(w) && isSpace(w[j]) {
			j++
		}
		if j >= len(w) {
			return tagIncomplete, 0
		}
		if w[j] == '>' {
			return tagEventEnd, j + 1
		}
		return tagOther, 0
	}
	if c := w[j]; isSpace(c) || c == '>' || c == '/' {
		return tagEventStart, i
	}
	return tagOther, 0
}

// findEventTag finds the first Event start or end tag in w[from:]. With
// atEOF false, a tag cut by the end of w gives tagIncomplete and its index.
func findEventTag(w []byte, from int, atEOF bool) (kind, at, end int) {
	for i := from; i < len(w); {
		k := bytes.IndexByte(w[i:], '<')
		if k < 0 {
			return tagOther, len(w), 0
		}
		i += k
		kind, end := eventTag(w, i)
		switch {
		case kind == tagIncomplete && !atEOF:
			return tagIncomplete, i, 0
		case kind == tagEventStart || kind == tagEventEnd:
			return kind, i, end
		}
		i++
	}
	return tagOther, len(w), 0
}

func (d *xmlDecoder) Next() (Record, error) {
	s := d.src
	for {
		w := s.window()
		i := 0
		for i < len(w) {
			c := w[i]
			if isSpace(c) || c == 0x81 {
				i++
			} else if c == 0xEF && s.unit == 1 && bytes.HasPrefix(w[i:], []byte{0xEF, 0xBB, 0xBF}) {
				// A BOM inside the stream: files joined with copy or cat.
				i += 3
			} else {
				break
			}
		}
		s.advance(i)
		w = s.window()
		if len(w) < 16 && !s.eof {
			ok, err := s.more()
			if err != nil {
				return Record{}, err
			}
			if ok {
				continue
			}
		}
		if len(w) == 0 {
			if s.err != nil {
				return Record{}, s.err
			}
			return Record{}, io.EOF
		}
		if w[0] != '<' {
			return Record{}, d.junk()
		}
		kind, _ := eventTag(w, 0)
		if kind == tagEventStart {
			return d.event()
		}
		if kind == tagIncomplete && !s.eof && !s.full() {
			if _, err := s.more(); err != nil {
				return Record{}, err
			}
			continue
		}
		skipped, err := d.markup()
		if err != nil {
			return Record{}, err
		}
		if !skipped {
			return Record{}, d.junk()
		}
	}
}

// markup skips a declaration, comment, processing instruction or a wrapper
// element's tag (<Events>, </Events>) between events. It reports false for
// anything else, which is then treated as junk.
func (d *xmlDecoder) markup() (bool, error) {
	s := d.src
	for {
		w := s.window()
		var term string
		from := 1
		switch {
		case bytes.HasPrefix(w, []byte("<?")):
			term, from = "?>", 2
		case bytes.HasPrefix(w, []byte("<!--")):
			term, from = "-->", 4
		case bytes.HasPrefix(w, []byte("<!")):
			term, from = ">", 2
		case len(w) > 1 && (w[1] == '/' || isNameStart(w[1])):
			if k, _ := eventTag(w, 0); k == tagEventEnd {
				return false, nil // a stray </Event>
			}
			term = ">"
		default:
			return false, nil
		}
		k := bytes.Index(w[from:], []byte(term))
		if term == ">" && k >= 0 {
			// Quoted attribute values may hold '>'; '<' means the tag
			// never closed.
			if lt := bytes.IndexByte(w[from:from+k], '<'); lt >= 0 {
				return false, nil
			}
		}
		if k >= 0 {
			s.advance(from + k + len(term))
			return true, nil
		}
		if s.eof || s.full() {
			return false, nil
		}
		if _, err := s.more(); err != nil {
			return false, err
		}
	}
}

// junk skips bytes that belong to no event, up to the next event or
// markup a document may hold, and reports them.
func (d *xmlDecoder) junk() error {
	s := d.src
	start := s.offset(0)
	first := s.preview()
	from := 1
	for {
		w := s.window()
		at, found, incomplete := junkEnd(w, from, s.eof)
		if found {
			s.advance(at)
			break
		}
		if s.eof {
			s.advance(len(w))
			break
		}
		s.advance(at)
		from = 0
		ok, err := s.more()
		if err != nil {
			return err
		}
		if !ok && !s.eof && incomplete {
			s.advance(1) // a candidate tag as large as the buffer: not one
		}
	}
	end := s.offset(0)
	return &DecodeError{Format: FormatXML, Offset: start, End: end,
		Reason: "skipped " + strconv.FormatInt(end-start, 10) + " bytes that belong to no event, starting with " + strconv.Quote(first)}
}

func junkEnd(w []byte, from int, atEOF bool) (at int, found, incomplete bool) {
	for i := from; i < len(w); i++ {
		k := bytes.IndexByte(w[i:], '<')
		if k < 0 {
			break
		}
		i += k
		rest := w[i:]
		if !atEOF && len(rest) < 8 {
			return i, false, true
		}
		kind, _ := eventTag(w, i)
		if kind == tagIncomplete && !atEOF {
			return i, false, true
		}
		if kind == tagEventStart || bytes.HasPrefix(rest, []byte("</Events")) || bytes.HasPrefix(rest, []byte("<?xml")) {
			return i, true, false
		}
	}
	return len(w), false, false
}

func (d *xmlDecoder) event() (Record, error) {
	if d.src.unit == 2 {
		return d.event16()
	}
	s := d.src
	start := s.offset(0)
	for {
		w := s.window()
		ev, n, perr := d.p.parse(w, d.keep, false)
		if perr == nil && n > d.max {
			s.advance(n)
			return Record{}, d.tooLarge(start, s.offset(0))
		}
		if perr == nil {
			s.advance(n)
			return Record{Event: ev, Position: Position{Offset: start, End: start + int64(n)}}, nil
		}
		if perr.truncated {
			if len(w) >= d.max {
				return Record{}, d.oversize(start)
			}
			grew, err := s.grow()
			if err != nil {
				return Record{}, err
			}
			if grew {
				continue
			}
			if !s.eof {
				return Record{}, d.oversize(start)
			}
			s.advance(len(w))
			return Record{}, &DecodeError{Format: FormatXML, Offset: start, End: s.offset(0),
				Reason: "the input ends inside this event (" + perr.msg + "); the file is truncated or still being written"}
		}
		if perr.cutAt >= 0 {
			s.advance(perr.cutAt)
			return Record{}, cutOff(start, s.offset(0), perr.msg)
		}
		derr := xmlDecodeError(perr, start, 0, start, false)
		end, err := d.resync(perr.pos)
		if err != nil {
			return Record{}, err
		}
		derr.End = end
		return Record{}, derr
	}
}

// resync skips a damaged event from window unit from: past the next
// </Event>, or up to the next <Event> if that comes first.
func (d *xmlDecoder) resync(from int) (int64, error) {
	s := d.src
	if from < 1 {
		from = 1
	}
	for {
		w := s.window()
		if from > len(w) {
			from = len(w)
		}
		kind, at, end := findEventTag(w, from, s.eof)
		switch kind {
		case tagEventEnd:
			s.advance(end)
			return s.offset(0), nil
		case tagEventStart:
			s.advance(at)
			return s.offset(0), nil
		}
		if s.eof {
			s.advance(len(w))
			return s.offset(0), nil
		}
		// The damaged event's own start tag is behind us from here on, so
		// an <Event> at the window start is the next event.
		s.advance(at)
		from = 0
		ok, err := s.more()
		if err != nil {
			return 0, err
		}
		if !ok && !s.eof {
			s.advance(1)
		}
	}
}

func cutOff(start, next int64, detail string) *DecodeError {
	return &DecodeError{Format: FormatXML, Offset: start, End: next,
		Reason: "the event is cut off: a new <Event> starts at byte " + strconv.FormatInt(next, 10) + " before it ended (" + detail + ")"}
}

func (d *xmlDecoder) oversize(start int64) error {
	s := d.src
	// Everything in the window was scanned without finding this event's
	// end; search on from near its end (a tag may straddle it).
	from := len(s.window()) - 64
	if from < 1 {
		from = 1
	}
	end, err := d.resync(from)
	if err != nil {
		return err
	}
	return d.tooLarge(start, end)
}

func (d *xmlDecoder) tooLarge(start, end int64) *DecodeError {
	return &DecodeError{Format: FormatXML, Offset: start, End: end,
		Reason: "the event is larger than the maximum event size of " + strconv.Itoa(d.max) + " bytes and was skipped; raise the maximum event size to read it"}
}

// event16 frames a UTF-16 event on the projection, then transcodes only its
// bytes and parses them.
func (d *xmlDecoder) event16() (Record, error) {
	s := d.src
	start := s.offset(0)
	for {
		w := s.window()
		kind, at, end := findEventTag(w, 1, s.eof)
		switch kind {
		case tagEventStart:
			// Parse the piece for a precise account of where it stops.
			d.u8 = appendUTF16(d.u8[:0], s.raw(0, at), s.be)
			_, _, perr := d.p.parse(d.u8, false, true)
			s.advance(at)
			detail := "damaged"
			if perr != nil {
				detail = strings.TrimPrefix(perr.msg, "the event is cut off: ")
			}
			return Record{}, cutOff(start, s.offset(0), detail)
		case tagEventEnd:
			if end*2 > d.max {
				s.advance(end)
				return Record{}, d.tooLarge(start, s.offset(0))
			}
			d.u8 = appendUTF16(d.u8[:0], s.raw(0, end), s.be)
			ev, _, perr := d.p.parse(d.u8, d.keep, true)
			s.advance(end)
			pos := Position{Offset: start, End: s.offset(0)}
			if perr != nil {
				return Record{}, xmlDecodeError(perr, pos.Offset, pos.End, 0, true)
			}
			return Record{Event: ev, Position: pos}, nil
		}
		if len(w)*2 >= d.max {
			return Record{}, d.oversize(start)
		}
		grew, err := s.grow()
		if err != nil {
			return Record{}, err
		}
		if grew {
			continue
		}
		if !s.eof {
			return Record{}, d.oversize(start)
		}
		s.advance(len(w))
		return Record{}, &DecodeError{Format: FormatXML, Offset: start, End: s.offset(0),
			Reason: "the input ends inside this event; the file is truncated or still being written"}
	}
}
