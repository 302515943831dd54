package wineventlog

import (
	"bytes"
	"io"
	"strconv"
)

// jsonDecoder reads a stream of event objects: a ConvertTo-Json array, one
// object, JSON lines, or objects simply concatenated. Brackets and commas
// between objects are treated as separators, which also lets a reader
// resume inside an array at a saved Position.End.
type jsonDecoder struct {
	src  *source
	keep bool
	max  int
	p    jsonParser
	u8   []byte
	col  int // column of the window start, for resynchronising on lines
}

func (d *jsonDecoder) Format() Format { return FormatJSON }

// consume advances past k window units, tracking the column.
func (d *jsonDecoder) consume(k int) {
	w := d.src.window()[:k]
	if nl := bytes.LastIndexByte(w, '\n'); nl >= 0 {
		d.col = k - nl - 1
	} else {
		d.col += k
	}
	d.src.advance(k)
}

func (d *jsonDecoder) Next() (Record, error) {
	s := d.src
	for {
		w := s.window()
		i := 0
		for i < len(w) {
			c := w[i]
			if isSpace(c) || c == ',' || c == '[' || c == ']' || c == 0x81 {
				i++
			} else if c == 0xEF && s.unit == 1 && bytes.HasPrefix(w[i:], []byte{0xEF, 0xBB, 0xBF}) {
				i += 3
			} else {
				break
			}
		}
		d.consume(i)
		w = s.window()
		if len(w) < 4 && !s.eof {
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
		if w[0] != '{' {
			return Record{}, d.junk()
		}
		return d.object()
	}
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
	startCol := d.col
	for {
		w := s.window()
		status, end := frameJSON(w)
		switch status {
		case frameOK:
			if end*s.unit > d.max {
				d.consume(end)
				return Record{}, d.tooLarge(start, s.offset(0))
			}
			var src []byte
			if s.unit == 2 {
				d.u8 = appendUTF16(d.u8[:0], s.raw(0, end), s.be)
				src = d.u8
			} else {
				src = w[:end]
			}
			ev, perr := d.p.parse(src, d.keep)
			if perr == nil {
				d.consume(end)
				return Record{Event: ev, Position: Position{Offset: start, End: s.offset(0)}}, nil
			}
			derr := jsonDecodeError(perr, start, 0, start, s.unit == 2)
			// The brackets balance, so the damage is inside; but a cut-off
			// object can balance against its successor, so prefer an
			// object starting on a line of its own before this end.
			limit := end
			if c, ok := lineStart(w[:end], 1, startCol); ok {
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
			e, err := d.resync(1, startCol)
			if err != nil {
				return Record{}, err
			}
			derr.End = e
			return Record{}, derr
		}
		if len(w)*s.unit >= d.max {
			e, err := d.resync(len(w)-1, startCol)
			if err != nil {
				return Record{}, err
			}
			return Record{}, d.tooLarge(start, e)
		}
		grew, err := s.grow()
		if err != nil {
			return Record{}, err
		}
		if grew {
			continue
		}
		if !s.eof {
			continue // cannot happen: the window is below the limit
		}
		// The input ended inside the object. A later object on a line of
		// its own means only this one is cut off.
		if c, ok := lineStart(w, 1, startCol); ok {
			d.consume(c)
			return Record{}, &DecodeError{Format: FormatJSON, Offset: start, End: s.offset(0),
				Reason: "the object is cut off: a new object starts at byte " + strconv.FormatInt(s.offset(0), 10) + " before it ended"}
		}
		d.consume(len(w))
		return Record{}, &DecodeError{Format: FormatJSON, Offset: start, End: s.offset(0),
			Reason: "the input ends inside this object; the file is truncated or still being written"}
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
	end, err := d.resync(1, 1<<30)
	if err != nil {
		return err
	}
	return &DecodeError{Format: FormatJSON, Offset: start, End: end,
		Reason: "skipped " + strconv.FormatInt(end-start, 10) + " bytes that are not a JSON object, starting with " + strconv.Quote(first)}
}

func (d *jsonDecoder) tooLarge(start, end int64) *DecodeError {
	return &DecodeError{Format: FormatJSON, Offset: start, End: end,
		Reason: "the object is larger than the maximum event size of " + strconv.Itoa(d.max) + " bytes and was skipped; raise the maximum event size to read it"}
}
