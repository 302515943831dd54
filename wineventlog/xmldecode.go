package wineventlog

import (
	"bytes"
	"strconv"
	"strings"
)

// xmlDecoder reads a stream of <Event> elements: wevtutil's lines, an
// <Events> document, pretty-printed or concatenated events. Declarations,
// comments and a wrapper element's tags between events are passed over.
type xmlDecoder struct {
	framer
	p xmlParser
}

var xmlSeparators = newSeparators(" \t\r\n")

func newXMLDecoder(src *source, keep bool, max int) *xmlDecoder {
	// A resync after an oversized event starts 64 units before the window
	// ends, where the event's end tag may have begun.
	d := &xmlDecoder{framer: framer{src: src, format: FormatXML, noun: "event", keep: keep, max: max, backoff: 64}}
	d.resume = d.resync
	return d
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
		w, err := d.next(xmlSeparators, 16)
		if err != nil {
			return Record{}, err
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
	return d.skipped(start, first, "that belong to no event")
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

// event decodes the UTF-8 event at the window start. The parser finds its
// end itself, so the bytes are read once.
func (d *xmlDecoder) event() (Record, error) {
	if d.src.unit == 2 {
		return d.event16()
	}
	s := d.src
	start := s.offset(0)
	for {
		ev, n, perr := d.p.parse(s.window(), d.keep, false)
		if perr == nil {
			s.advance(n)
			if n > d.max {
				return Record{}, d.tooLarge(start, s.offset(0))
			}
			return Record{Event: ev, Position: Position{Offset: start, End: start + int64(n)}}, nil
		}
		if perr.truncated {
			grew, err := d.extend(start)
			if err != nil {
				return Record{}, err
			}
			if grew {
				continue
			}
			return Record{}, d.endsInside(start, perr.msg)
		}
		if perr.cutAt >= 0 {
			s.advance(perr.cutAt)
			return Record{}, cutOff(start, s.offset(0), perr.msg)
		}
		derr := decodeError(FormatXML, perr, start, 0, start, false)
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

// event16 frames a UTF-16 event on the projection, then transcodes only its
// bytes and parses them.
func (d *xmlDecoder) event16() (Record, error) {
	s := d.src
	start := s.offset(0)
	for {
		kind, at, end := findEventTag(s.window(), 1, s.eof)
		switch kind {
		case tagEventStart:
			// Parse the piece for a precise account of where it stops.
			_, _, perr := d.p.parse(d.transcoded(at), false, true)
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
			ev, _, perr := d.p.parse(d.transcoded(end), d.keep, true)
			s.advance(end)
			pos := Position{Offset: start, End: s.offset(0)}
			if perr != nil {
				return Record{}, decodeError(FormatXML, perr, pos.Offset, pos.End, 0, true)
			}
			return Record{Event: ev, Position: pos}, nil
		}
		grew, err := d.extend(start)
		if err != nil {
			return Record{}, err
		}
		if grew {
			continue
		}
		return Record{}, d.endsInside(start, "")
	}
}
