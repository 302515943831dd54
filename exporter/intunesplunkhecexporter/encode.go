package intunesplunkhecexporter

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// encoded holds a push's events, concatenated, in record order.
type encoded struct {
	buf   []byte
	ends  []int // ends[i] is where event i stops in buf
	refs  []delivery.Ref
	index []string // the index each event names ("" for the token's default)
}

func (e *encoded) reset() {
	e.buf, e.ends, e.refs, e.index = e.buf[:0], e.ends[:0], e.refs[:0], e.index[:0]
}

func (e *encoded) event(i int) []byte {
	start := 0
	if i > 0 {
		start = e.ends[i-1]
	}
	return e.buf[start:e.ends[i]]
}

func (e *encoded) len() int { return len(e.ends) }

// oversized is an event larger than max_event_size that could not be sent.
type oversized struct {
	ref    delivery.Ref
	doc    []byte // the full event, a copy
	reason string
}

// encoder turns records into HEC events with the mapping's projection.
type encoder struct {
	opts     mapping.HECOptions
	maxEvent int
	oversize OversizeAction
}

// encode appends every record of ld to out. Events over max_event_size are
// truncated (oversize: truncate) or returned for the dead-letter file; the
// second result counts truncated events.
func (c *encoder) encode(ld plog.Logs, out *encoded) (rejected []oversized, truncated int) {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				ref := delivery.Ref{RL: int32(i), SL: int32(j), LR: int32(k)}
				start := len(out.buf)
				out.buf = mapping.AppendHEC(out.buf, res, lr, c.opts)
				if n := len(out.buf) - start; n > c.maxEvent {
					doc := append([]byte(nil), out.buf[start:]...)
					out.buf = out.buf[:start]
					if c.oversize == OversizeTruncate {
						if t, ok := truncateEvent(out.buf, doc, c.maxEvent); ok {
							out.buf = t
							truncated++
						} else {
							rejected = append(rejected, oversized{ref, doc, "event of " + strconv.Itoa(n) + " bytes exceeds max_event_size (" + strconv.Itoa(c.maxEvent) + ") and its envelope alone is too large to truncate"})
							continue
						}
					} else {
						rejected = append(rejected, oversized{ref, doc, "event of " + strconv.Itoa(n) + " bytes exceeds max_event_size (" + strconv.Itoa(c.maxEvent) + ")"})
						continue
					}
				}
				out.ends = append(out.ends, len(out.buf))
				out.refs = append(out.refs, ref)
				out.index = append(out.index, c.indexOf(lr))
			}
		}
	}
	return rejected, truncated
}

// indexOf is the index the projection wrote for the record: its
// com.splunk.index attribute, else the configured index.
func (c *encoder) indexOf(lr plog.LogRecord) string {
	if v, ok := lr.Attributes().Get(mapping.AttrSplunkIndex); ok && v.AsString() != "" {
		return v.AsString()
	}
	return c.opts.Index
}

// truncateMarker is added to fields of a truncated event, so searches and
// tstats can find them.
const truncateMarker = "intune_truncated"

// truncateEvent appends to b a cut-down form of the event doc that fits in
// max bytes: the envelope (time, host, source, sourcetype, index) and the
// CIM fields unchanged, plus fields.intune_truncated="true", and as event
// {"intune":{"truncated":true,"original_size":N},"message":"<the start of
// the original event object's JSON text>"}.
func truncateEvent(b, doc []byte, max int) ([]byte, bool) {
	var env struct {
		Time       json.RawMessage `json:"time"`
		Host       json.RawMessage `json:"host"`
		Source     json.RawMessage `json:"source"`
		Sourcetype json.RawMessage `json:"sourcetype"`
		Index      json.RawMessage `json:"index"`
		Event      json.RawMessage `json:"event"`
		Fields     json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(doc, &env); err != nil {
		return b, false
	}
	start := len(b)
	b = append(b, '{')
	sep := false
	member := func(k string, v json.RawMessage) {
		if len(v) == 0 {
			return
		}
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = append(b, v...)
	}
	member("time", env.Time)
	member("host", env.Host)
	member("source", env.Source)
	member("sourcetype", env.Sourcetype)
	member("index", env.Index)
	fields := []byte(`{"` + truncateMarker + `":"true"}`)
	if f := env.Fields; len(f) > 2 && f[0] == '{' {
		fields = append(append(append([]byte(nil), f[:len(f)-1]...), `,"`+truncateMarker+`":"true"`...), '}')
	}
	member("fields", fields)
	b = append(b, `,"event":{"intune":{"truncated":true,"original_size":`...)
	b = strconv.AppendInt(b, int64(len(doc)), 10)
	b = append(b, `},"message":`...)
	// What is left for the message text, its quotes and the two braces
	// that close the event and the envelope.
	budget := max - (len(b) - start) - 4
	if budget < 0 {
		return b[:start], false
	}
	b = appendBoundedString(b, env.Event, budget)
	b = append(b, '}', '}')
	return b, true
}

// appendBoundedString writes s as a JSON string whose escaped content takes
// at most budget bytes, cutting at a character boundary.
func appendBoundedString(b, s []byte, budget int) []byte {
	b = append(b, '"')
	used := 0
	for i := 0; i < len(s); {
		c := s[i]
		var enc []byte
		size := 1
		switch {
		case c == '"' || c == '\\':
			enc = []byte{'\\', c}
		case c < 0x20:
			enc = []byte{'\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xF]}
		case c < utf8.RuneSelf:
			enc = s[i : i+1]
		default:
			r, n := utf8.DecodeRune(s[i:])
			size = n
			if r == utf8.RuneError && n == 1 {
				enc = []byte(`\ufffd`)
			} else {
				enc = s[i : i+n]
			}
		}
		if used+len(enc) > budget {
			break
		}
		b = append(b, enc...)
		used += len(enc)
		i += size
	}
	return append(b, '"')
}
