package deadletter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxLineSize bounds one line a Reader accepts: a bulk request is rarely
// allowed past 100 MiB, and no refused document is larger than its request.
const MaxLineSize = 128 << 20

// Reader reads a dead-letter file back, for replaying what it holds. A line
// that is not an entry is reported with its number and passed over, so
// one damaged line never hides the rest.
type Reader struct {
	r    *bufio.Reader
	line int
	buf  []byte
}

// NewReader reads entries from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 256<<10)}
}

// LineError reports a line that is not a dead-letter entry.
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// Next returns the next entry and its line number. It returns io.EOF at
// the end, a *LineError for a line that is not an entry (call Next again
// to go on), and any other error when reading failed.
func (r *Reader) Next() (Entry, int, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return Entry{}, r.line, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, reason := parseEntry(line)
		if reason != "" {
			return Entry{}, r.line, &LineError{Line: r.line, Reason: reason}
		}
		return e, r.line, nil
	}
}

// readLine returns the next line without its end; a line over
// MaxLineSize comes back as a *LineError after it was read past.
func (r *Reader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	tooLong := false
	for {
		part, err := r.r.ReadSlice('\n')
		if !tooLong {
			if len(r.buf)+len(part) > MaxLineSize {
				tooLong, r.buf = true, r.buf[:0]
			} else {
				r.buf = append(r.buf, part...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && (len(r.buf) > 0 || tooLong) {
			err = nil // a last line without its line end
		} else if err != nil {
			return nil, err
		}
		r.line++
		if tooLong {
			return nil, &LineError{Line: r.line, Reason: fmt.Sprintf("longer than %d MiB; not an entry this tool wrote", MaxLineSize>>20)}
		}
		return bytes.TrimRight(r.buf, "\r\n"), nil
	}
}

// parseEntry reads one line as an entry; reason says why it is not one.
func parseEntry(line []byte) (Entry, string) {
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return Entry{}, "not a dead-letter entry: " + err.Error()
	}
	doc := bytes.TrimSpace(e.Document)
	switch {
	case e.Exporter == "" && len(doc) == 0:
		return Entry{}, "not a dead-letter entry: it has neither exporter nor document"
	case len(doc) == 0 || bytes.Equal(doc, []byte("null")):
		return Entry{}, "the entry has no document"
	case doc[0] != '{':
		return Entry{}, "the document is not a JSON object (the backend refused something that was not a record, kept as text)"
	}
	return e, ""
}

// LooksLikeEntry reports whether line is a dead-letter entry, so that a
// tool handed a dead-letter file where it expected something else can say
// what it is.
func LooksLikeEntry(line []byte) bool {
	e, reason := parseEntry(bytes.TrimSpace(line))
	return reason == "" && e.Exporter != ""
}
