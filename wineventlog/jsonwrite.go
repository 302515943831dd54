package wineventlog

import (
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JSONStyle selects which PowerShell's ConvertTo-Json output
// AppendEventJSON imitates.
type JSONStyle int

const (
	// PS51 is Windows PowerShell 5.1: TimeCreated as "\/Date(ms)\/", <>&'
	// escaped as \u003c..., and its peculiar pretty-printing (4-space steps,
	// ":  ", nested values aligned under their key).
	PS51 JSONStyle = iota
	// PS7 is PowerShell 7: TimeCreated in ISO 8601 with the local offset,
	// 2-space indentation.
	PS7
	// PSCompress is Windows PowerShell 5.1 with -Compress: one line.
	PSCompress
)

// AppendEventJSON appends ev as the object ConvertTo-Json writes for a
// Get-WinEvent record (with -Depth 3 or more, so Properties keep their
// values). EventData names are lost: PowerShell has none. Lines end in CRLF
// as on Windows; PS7 writes TimeCreated in the local time zone.
func AppendEventJSON(dst []byte, ev *Event, style JSONStyle) []byte {
	var j jsonOut
	if style == PS7 {
		j = jsonOut{b: dst, indent: "  ", colon: ": ", ps7: true}
		j.event(ev)
		return j.b
	}
	j = jsonOut{colon: ":"}
	j.event(ev)
	if style == PSCompress {
		return append(dst, j.b...)
	}
	return appendPS51Pretty(dst, j.b)
}

// WriteEventsJSON writes evs as ConvertTo-Json writes a pipeline of
// records: an array (one line for PSCompress).
func WriteEventsJSON(w io.Writer, evs []Event, style JSONStyle) error {
	if style == PS7 {
		b := []byte("[")
		for i := range evs {
			if i > 0 {
				b = append(b, ',')
			}
			j := jsonOut{b: b, indent: "  ", colon: ": ", ps7: true, depth: 1}
			j.nl()
			j.event(&evs[i])
			b = j.b
		}
		b = append(b, "\r\n]\r\n"...)
		_, err := w.Write(b)
		return err
	}
	j := jsonOut{colon: ":"}
	j.b = append(j.b, '[')
	for i := range evs {
		if i > 0 {
			j.b = append(j.b, ',')
		}
		j.event(&evs[i])
	}
	j.b = append(j.b, ']')
	out := j.b
	if style == PS51 {
		out = appendPS51Pretty(nil, j.b)
	}
	out = append(out, "\r\n"...)
	_, err := w.Write(out)
	return err
}

// ps7Zone is the zone PowerShell 7 output is written in; tests pin it.
var ps7Zone = time.Local

type jsonOut struct {
	b      []byte
	indent string // "" writes compact JSON
	colon  string
	ps7    bool
	depth  int
	first  bool
}

func (j *jsonOut) nl() {
	if j.indent == "" {
		return
	}
	j.b = append(j.b, "\r\n"...)
	for i := 0; i < j.depth; i++ {
		j.b = append(j.b, j.indent...)
	}
}

func (j *jsonOut) open(c byte) {
	j.b = append(j.b, c)
	j.depth++
	j.first = true
}

func (j *jsonOut) close(c byte) {
	j.depth--
	if !j.first {
		j.nl()
	}
	j.b = append(j.b, c)
	j.first = false
}

func (j *jsonOut) key(k string) {
	if !j.first {
		j.b = append(j.b, ',')
	}
	j.first = false
	j.nl()
	j.b = append(j.b, '"')
	j.b = append(j.b, k...)
	j.b = append(j.b, '"')
	j.b = append(j.b, j.colon...)
}

func (j *jsonOut) item() {
	if !j.first {
		j.b = append(j.b, ',')
	}
	j.first = false
	j.nl()
}

func (j *jsonOut) str(s string) {
	j.b = appendJSONString(j.b, s, !j.ps7)
}

func (j *jsonOut) strOrNull(s string) {
	if s == "" {
		j.b = append(j.b, "null"...)
		return
	}
	j.str(s)
}

func (j *jsonOut) uint(v uint64) { j.b = strconv.AppendUint(j.b, v, 10) }

func (j *jsonOut) event(ev *Event) {
	j.open('{')
	j.key("Message")
	j.strOrNull(ev.Message)
	j.key("Id")
	j.uint(uint64(ev.EventID))
	j.key("Version")
	j.optU8(ev.Version)
	j.key("Qualifiers")
	if ev.Qualifiers != nil {
		j.uint(uint64(*ev.Qualifiers))
	} else {
		j.b = append(j.b, "null"...)
	}
	j.key("Level")
	j.uint(uint64(ev.Level))
	j.key("Task")
	j.uint(uint64(ev.Task))
	j.key("Opcode")
	j.optU8(ev.Opcode)
	j.key("Keywords")
	// .NET exposes Keywords as a signed Int64.
	j.b = strconv.AppendInt(j.b, int64(ev.Keywords), 10)
	j.key("RecordId")
	j.uint(ev.RecordID)
	j.key("ProviderName")
	j.str(ev.ProviderName)
	j.key("ProviderId")
	j.strOrNull(dotNetGUID(ev.ProviderGUID))
	j.key("LogName")
	j.str(ev.Channel)
	j.key("ProcessId")
	j.optU32(ev.ProcessID)
	j.key("ThreadId")
	j.optU32(ev.ThreadID)
	j.key("MachineName")
	j.str(ev.Computer)
	j.userAndTime(ev)
	j.renderedAndData(ev)
	j.close('}')
}

// userAndTime writes the members from UserId to Bookmark.
func (j *jsonOut) userAndTime(ev *Event) {
	j.key("UserId")
	if ev.UserSID == "" {
		j.b = append(j.b, "null"...)
	} else {
		j.open('{')
		j.key("BinaryLength")
		j.uint(uint64(8 + 4*(strings.Count(ev.UserSID, "-")-2)))
		j.key("AccountDomainSid")
		j.strOrNull(accountDomainSID(ev.UserSID))
		j.key("Value")
		j.str(ev.UserSID)
		j.close('}')
	}
	j.key("TimeCreated")
	if j.ps7 {
		j.b = append(j.b, '"')
		j.b = appendNewtonsoftTime(j.b, ev.TimeCreated.In(ps7Zone))
		j.b = append(j.b, '"')
	} else {
		j.b = append(j.b, `"\/Date(`...)
		j.b = strconv.AppendInt(j.b, ev.TimeCreated.UnixMilli(), 10)
		j.b = append(j.b, `)\/"`...)
	}
	j.key("ActivityId")
	j.strOrNull(dotNetGUID(ev.ActivityID))
	j.key("RelatedActivityId")
	j.strOrNull(dotNetGUID(ev.RelatedActivityID))
	j.key("ContainerLog")
	j.strOrNull(ev.Channel)
	j.key("MatchedQueryIds")
	j.open('[')
	j.close(']')
	j.key("Bookmark")
	j.open('{')
	j.close('}')
}

// renderedAndData writes the display names and the Properties.
func (j *jsonOut) renderedAndData(ev *Event) {
	j.key("LevelDisplayName")
	j.strOrNull(ev.LevelText)
	j.key("OpcodeDisplayName")
	j.strOrNull(ev.OpcodeText)
	j.key("TaskDisplayName")
	j.strOrNull(ev.TaskText)
	j.key("KeywordsDisplayNames")
	j.open('[')
	for _, k := range ev.KeywordsText {
		j.item()
		j.str(k)
	}
	j.close(']')
	j.key("Properties")
	j.open('[')
	for _, list := range [][]Data{ev.EventData, ev.UserData} {
		for _, d := range list {
			j.item()
			j.open('{')
			j.key("Value")
			j.str(d.Value)
			j.close('}')
		}
	}
	j.close(']')
}

func (j *jsonOut) optU8(v *uint8) {
	if v == nil {
		j.b = append(j.b, "null"...)
		return
	}
	j.uint(uint64(*v))
}

func (j *jsonOut) optU32(v *uint32) {
	if v == nil {
		j.b = append(j.b, "null"...)
		return
	}
	j.uint(uint64(*v))
}

// dotNetGUID is Guid.ToString(): lower case, no braces.
func dotNetGUID(g string) string {
	return strings.ToLower(strings.Trim(g, "{}"))
}

// accountDomainSID is what SecurityIdentifier.AccountDomainSid prints: the
// domain part of an account SID, absent for well-known SIDs.
func accountDomainSID(sid string) string {
	if !strings.HasPrefix(sid, "S-1-5-21-") {
		return ""
	}
	parts := strings.Split(sid, "-")
	if len(parts) < 8 {
		return ""
	}
	return strings.Join(parts[:7], "-")
}

// appendNewtonsoftTime writes DateTime the way Json.NET does for a local
// time: trailing zeros of the 7-digit fraction dropped, offset as +hh:mm.
func appendNewtonsoftTime(dst []byte, t time.Time) []byte {
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	if frac := t.Nanosecond() / 100; frac != 0 {
		s := strconv.Itoa(frac)
		s = strings.Repeat("0", 7-len(s)) + s
		dst = append(dst, '.')
		dst = append(dst, strings.TrimRight(s, "0")...)
	}
	return t.AppendFormat(dst, "-07:00")
}

// appendJSONString quotes s. htmlSafe follows Windows PowerShell 5.1's
// serializer, which also escapes < > & and '.
func appendJSONString(dst []byte, s string, htmlSafe bool) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				dst = append(dst, `\ufffd`...)
			case !htmlSafe && (r == 0x85 || r == 0x2028 || r == 0x2029):
				dst = append(dst, `\u`...)
				dst = append(dst, hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
			default:
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '"':
			dst = append(dst, `\"`...)
		case c == '\\':
			dst = append(dst, `\\`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c == '\b':
			dst = append(dst, `\b`...)
		case c == '\f':
			dst = append(dst, `\f`...)
		case c < 0x20 || htmlSafe && (c == '<' || c == '>' || c == '&' || c == '\''):
			dst = append(dst, `\u00`...)
			dst = append(dst, hex[c>>4], hex[c&0xF])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// appendPS51Pretty re-indents compact JSON exactly as Windows PowerShell
// 5.1's ConvertTo-Json does: it pads members 4 spaces per level, writes
// ":  ", and aligns a nested object or array under the column where its
// key's value starts. Empty arrays and objects get an empty line.
func appendPS51Pretty(dst, compact []byte) []byte {
	if len(compact) == 0 || compact[0] != '{' && compact[0] != '[' {
		return append(dst, compact...)
	}
	pp := ps51Printer{in: compact, out: dst}
	pp.out = append(pp.out, compact[0])
	if compact[0] == '{' {
		pp.dict(1, 0, 0)
	} else {
		pp.list(1, 0, 0)
	}
	return pp.out
}

type ps51Printer struct {
	in  []byte
	out []byte
}

func (pp *ps51Printer) spaces(n int) {
	for ; n > 0; n-- {
		pp.out = append(pp.out, ' ')
	}
}

// quoted copies the string starting after the quote at i-1 and returns the
// index of its closing quote.
func (pp *ps51Printer) quoted(i int) int {
	for ; i < len(pp.in); i++ {
		c := pp.in[i]
		pp.out = append(pp.out, c)
		if c == '\\' && i+1 < len(pp.in) {
			i++
			pp.out = append(pp.out, pp.in[i])
			continue
		}
		if c == '"' {
			return i
		}
	}
	return i
}

func (pp *ps51Printer) dict(i, pad, extra int) int {
	pp.out = append(pp.out, "\r\n"...)
	newPad := pad + extra + 4
	head, beforeValue := true, true
	next := 0
	for ; i < len(pp.in); i++ {
		switch c := pp.in[i]; c {
		case '{':
			pp.out = append(pp.out, c)
			i = pp.dict(i+1, newPad, next)
			head = false
		case '[':
			pp.out = append(pp.out, c)
			i = pp.list(i+1, newPad, next)
			head = false
		case '}':
			pp.out = append(pp.out, "\r\n"...)
			pp.spaces(pad + extra)
			pp.out = append(pp.out, c)
			return i
		case '"':
			if head {
				pp.spaces(newPad)
			}
			pp.out = append(pp.out, c)
			end := pp.quoted(i + 1)
			if beforeValue {
				next = end - i + 1 + 3
			}
			i = end
			head = false
		case ':':
			pp.out = append(pp.out, ":  "...)
			beforeValue = false
		case ',':
			pp.out = append(pp.out, ",\r\n"...)
			head, beforeValue = true, true
		default:
			if head {
				pp.spaces(newPad)
			}
			pp.out = append(pp.out, c)
			head = false
		}
	}
	return i
}

func (pp *ps51Printer) list(i, pad, extra int) int {
	pp.out = append(pp.out, "\r\n"...)
	newPad := pad + extra + 4
	head := true
	for ; i < len(pp.in); i++ {
		switch c := pp.in[i]; c {
		case '{':
			pp.spaces(newPad)
			pp.out = append(pp.out, c)
			i = pp.dict(i+1, newPad, 0)
			head = false
		case '[':
			pp.spaces(newPad)
			pp.out = append(pp.out, c)
			i = pp.list(i+1, newPad, 0)
			head = false
		case ']':
			pp.out = append(pp.out, "\r\n"...)
			pp.spaces(pad + extra)
			pp.out = append(pp.out, c)
			return i
		case '"':
			if head {
				pp.spaces(newPad)
			}
			pp.out = append(pp.out, c)
			i = pp.quoted(i + 1)
			head = false
		case ',':
			pp.out = append(pp.out, ",\r\n"...)
			head = true
		default:
			if head {
				pp.spaces(newPad)
			}
			pp.out = append(pp.out, c)
			head = false
		}
	}
	return i
}
