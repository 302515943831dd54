package wineventlog

import (
	"bytes"
	"strconv"
)

// jsonDecoder reads a stream of event objects: a ConvertTo-Json array, one
// object, JSON lines, or objects simply concatenated. Brackets and commas
// between objects are treated as separators, which also lets a reader
// resume inside an array at a saved Position.End.
type jsonDecoder struct {
	framer
	p jsonParser
	// startCol is the column where the current object starts: the next
	// object is looked for on lines starting no further right.
	startCol int
}

var jsonSeparators = newSeparators(" \t\r\n,[]")

func newJSONDecoder(src *source, keep bool, max int) *jsonDecoder {
	d := &jsonDecoder{framer: framer{src: src, format: FormatJSON, noun: "object", keep: keep, max: max, backoff: 1, cols: true}}
	d.resume = func(from int) (int64, error) { return d.resync(from, d.startCol) }
	return d
}

func (d *jsonDecoder) Format() Format { return FormatJSON }

func (d *jsonDecoder) Next() (Record, error) {
	w, err := d.next(jsonSeparators, 4)
	if err != nil {
		return Record{}, err
	}
	if w[0] != '{' {
		return Record{}, d.junk()
	}
	return d.object()
}

const (
	frameOK = iota
	frameIncomplete
	frameBroken
)

// frameJSON finds the end of the object or array starting at w[0] without
// validating it. A line break inside a string or a mismatched bracket means
// the value is damaged (ConvertTo-Json escapes line breaks).
func frameJSON(w []byte) (status, end int) {
	var stack [64]byte
	depth := 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '{', '[':
			if depth < len(stack) {
				stack[depth] = c
			}
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return frameBroken, i
			}
			if depth < len(stack) && stack[depth] != c-2 {
				return frameBroken, i
			}
			if depth == 0 {
				return frameOK, i + 1
			}
		case '"':
			j := i + 1
			for {
				k := bytes.IndexByte(w[j:], '"')
				if k < 0 {
					if bytes.IndexByte(w[j:], '\n') >= 0 {
						return frameBroken, j
					}
					return frameIncomplete, 0
				}
				seg := w[i+1 : j+k]
				if bytes.IndexByte(seg, '\n') >= 0 {
					return frameBroken, i
				}
				// Count the backslashes before the quote: an odd number
				// escapes it.
				bs := 0
				for q := j + k - 1; q > i && w[q] == '\\'; q-- {
					bs++
				}
				if bs%2 == 0 {
					i = j + k
					break
				}
				j += k + 1
			}
		}
	}
	return frameIncomplete, 0
}

func (d *jsonDecoder) object() (Record, error) {
	s := d.src
	start := s.offset(0)
	d.startCol = d.col
	for {
		w := s.window()
		status, end := frameJSON(w)
		switch status {
		case frameOK:
			if end*s.unit > d.max {
				d.consume(end)
				return Record{}, d.tooLarge(start, s.offset(0))
			}
			ev, perr := d.p.parse(d.transcoded(end), d.keep)
			if perr == nil {
				d.consume(end)
				return Record{Event: ev, Position: Position{Offset: start, End: s.offset(0)}}, nil
			}
			derr := decodeError(FormatJSON, perr, start, 0, start, s.unit == 2)
			// The brackets balance, so the damage is inside; but a cut-off
			// object can balance against its successor, so prefer an
			// object starting on a line of its own before this end.
			limit := end
			if c, ok := lineStart(w[:end], 1, d.startCol); ok {
				limit = c
			}
			d.consume(limit)
			derr.End = s.offset(0)
			return Record{}, derr
		case frameBroken:
			reason := "at byte " + strconv.FormatInt(s.offset(end), 10) + ": the object is cut off or damaged: "
			if w[end] == '}' || w[end] == ']' {
				reason += "mismatched " + string(w[end])
			} else {
				reason += "a line break inside a string"
			}
			derr := &DecodeError{Format: FormatJSON, Offset: start, Reason: reason}
			// The damage may lie anywhere before end: look for the next
			// object from the start.
			e, err := d.resync(1, d.startCol)
			if err != nil {
				return Record{}, err
			}
			derr.End = e
			return Record{}, derr
		}
		grew, err := d.extend(start)
		if err != nil {
			return Record{}, err
		}
		if grew {
			continue
		}
		// The input ended inside the object. A later object on a line of
		// its own means only this one is cut off.
		if c, ok := lineStart(w, 1, d.startCol); ok {
			d.consume(c)
			return Record{}, &DecodeError{Format: FormatJSON, Offset: start, End: s.offset(0),
				Reason: "the object is cut off: a new object starts at byte " + strconv.FormatInt(s.offset(0), 10) + " before it ended"}
		}
		return Record{}, d.endsInside(start, "")
	}
}

// lineStart finds, at or after the line holding w[from], a line whose first
// character other than blanks is '{' at a column no greater than maxCol:
// where ConvertTo-Json and JSON lines put the next event.
func lineStart(w []byte, from, maxCol int) (int, bool) {
	ls := bytes.LastIndexByte(w[:from], '\n') + 1
	for ls < len(w) {
		if ls > 0 {
			k := ls
			for k < len(w) && (w[k] == ' ' || w[k] == '\t') {
				k++
			}
			if k < len(w) && w[k] == '{' && k-ls <= maxCol {
				return k, true
			}
		}
		nl := bytes.IndexByte(w[ls:], '\n')
		if nl < 0 {
			break
		}
		ls += nl + 1
	}
	return 0, false
}

// resync skips from window unit from to the next line that starts an
// object at a column up to maxCol, or to the end of the input.
func (d *jsonDecoder) resync(from, maxCol int) (int64, error) {
	s := d.src
	for {
		w := s.window()
		if from > len(w) {
			from = len(w)
		}
		if c, ok := lineStart(w, from, maxCol); ok && c > 0 {
			d.consume(c)
			return s.offset(0), nil
		}
		if s.eof {
			d.consume(len(w))
			return s.offset(0), nil
		}
		// Keep the last, possibly partial, line for the next round.
		keep := bytes.LastIndexByte(w, '\n')
		if keep < 1 {
			keep = len(w)
			if keep > 1 {
				keep--
			}
		}
		d.consume(keep)
		from = 1
		ok, err := s.more()
		if err != nil {
			return 0, err
		}
		if !ok && !s.eof {
			d.consume(1)
		}
	}
}

func (d *jsonDecoder) junk() error {
	s := d.src
	start := s.offset(0)
	first := s.preview()
	if _, err := d.resync(1, 1<<30); err != nil {
		return err
	}
	return d.skipped(start, first, "that are not a JSON object")
}
