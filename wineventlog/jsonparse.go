package wineventlog

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/magic"
)

// The objects PowerShell writes for an EventLogRecord (Get-WinEvent) and
// an EventLogEntry (Get-EventLog), over the JSON scanner (jsonscan.go).

// lostProperty is what ConvertTo-Json writes for each EventData item when
// -Depth is too small to descend into Properties.
const lostProperty = "System.Diagnostics.Eventing.Reader.EventProperty"

// jsonParser keeps its scanning state first and the builder, with the
// large Event, last: the state the inner loops touch stays together.
type jsonParser struct {
	i int
	// depth counts the objects and arrays open below the event object.
	depth int

	known     bool // a member only events have was seen
	depthLost bool
	classic   classicFields
	keyBuf    [32]byte

	builder
}

// classicFields are the members of an EventLogEntry, which Windows
// PowerShell's Get-EventLog returns for classic logs (the legacy connector
// writes to the classic log "Microsoft Intune Connector").
type classicFields struct {
	instanceID         uint64
	hasInstance, hasID bool
	category           span
}

var jsonParserPool = sync.Pool{New: func() any { return new(jsonParser) }}

// ParseEventJSON parses one object that PowerShell's ConvertTo-Json wrote
// for a Get-WinEvent record (UTF-8). Errors are *DecodeError with offsets
// in b.
func ParseEventJSON(b []byte) (Event, error) {
	p := jsonParserPool.Get().(*jsonParser)
	defer func() {
		p.drop()
		jsonParserPool.Put(p)
	}()
	ev, err := p.parse(b, true)
	if err != nil {
		return Event{}, decodeError(FormatJSON, err, 0, int64(len(b)), 0, false)
	}
	return ev, nil
}

// parse decodes exactly one object in b (white space and a BOM around it
// are allowed).
func (p *jsonParser) parse(b []byte, keep bool) (Event, *syntaxError) {
	if !utf8.Valid(b) {
		b = appendValidUTF8(make([]byte, 0, len(b)+16), b)
	}
	p.reset(b, keep)
	p.i = 0
	// The event object itself does not count towards the nesting limit.
	p.depth = -1
	p.known, p.depthLost = false, false
	p.classic = classicFields{category: noSpan}

	if bytes.HasPrefix(b, []byte(magic.UTF8BOM)) {
		p.i = len(magic.UTF8BOM)
	}
	p.ws()
	start := p.i
	if p.i >= len(b) {
		return Event{}, p.fail(p.i, "no JSON object found")
	}
	if b[p.i] != '{' {
		return Event{}, p.fail(p.i, "expected a JSON object ('{') for one event")
	}
	if e := p.objectMembers(p.member); e != nil {
		return Event{}, e
	}
	origEnd := p.i
	p.ws()
	if p.i < len(b) {
		return Event{}, p.fail(p.i, "unexpected content after the object; give one event per call")
	}
	if !p.known {
		e := p.fail(start, "the object has none of the Get-WinEvent fields (Id, ProviderName, LogName, RecordId, TimeCreated) nor Get-EventLog's (EventID, InstanceId, TimeGenerated); expected output of Get-WinEvent | ConvertTo-Json")
		e.notEvent = true
		return Event{}, e
	}
	p.finishEvent(start, origEnd)
	return p.ev, nil
}

// member reads the value of one member of the event object. Names are
// matched without regard to case, as PowerShell itself does.
func (p *jsonParser) member(key []byte) *syntaxError {
	ev := &p.ev
	switch string(key) {
	case "message":
		return p.strField(&p.f.message)
	case "id":
		p.known = true
		return p.uintField("Id", 32, func(v uint64) { ev.EventID = uint32(v) })
	case "version":
		return p.uintField("Version", 8, func(v uint64) { p.num.version, p.has.v = uint8(v), true })
	case "qualifiers":
		return p.uintField("Qualifiers", 16, func(v uint64) { p.num.qualifiers, p.has.q = uint16(v), true })
	case "level":
		return p.uintField("Level", 8, func(v uint64) { ev.Level = uint8(v) })
	case "task":
		return p.uintField("Task", 16, func(v uint64) { ev.Task = uint16(v) })
	case "opcode":
		return p.uintField("Opcode", 8, func(v uint64) { p.num.opcode, p.has.op = uint8(v), true })
	case "keywords":
		return p.keywords()
	case "recordid":
		p.known = true
		return p.uintField("RecordId", 64, func(v uint64) { ev.RecordID = v })
	case "providername":
		p.known = true
		return p.strField(&p.f.provName)
	case "providerid":
		return p.guidField(&p.f.provGUID)
	case "logname":
		p.known = true
		return p.strField(&p.f.channel)
	case "processid":
		return p.uintField("ProcessId", 32, func(v uint64) { p.num.pid, p.has.pid = uint32(v), true })
	case "threadid":
		return p.uintField("ThreadId", 32, func(v uint64) { p.num.tid, p.has.tid = uint32(v), true })
	case "machinename":
		return p.strField(&p.f.computer)
	case "userid":
		return p.userID()
	case "timecreated":
		p.known = true
		return p.timeCreated()
	case "activityid":
		return p.guidField(&p.f.activity)
	case "relatedactivityid":
		return p.guidField(&p.f.related)
	case "leveldisplayname":
		return p.strField(&p.f.levelText)
	case "opcodedisplayname":
		return p.strField(&p.f.opcodeText)
	case "taskdisplayname":
		return p.strField(&p.f.taskText)
	case "keywordsdisplaynames":
		return p.keywordNames()
	case "properties":
		return p.properties()
	}
	return p.classicMember(key)
}

// classicMember reads the members of Get-EventLog's EventLogEntry that
// Get-WinEvent's records do not share, and skips any other member.
func (p *jsonParser) classicMember(key []byte) *syntaxError {
	ev := &p.ev
	switch string(key) {
	case "eventid":
		p.known, p.classic.hasID = true, true
		return p.uintField("EventID", 32, func(v uint64) { ev.EventID = uint32(v) })
	case "instanceid":
		p.known, p.classic.hasInstance = true, true
		return p.uintField("InstanceId", 32, func(v uint64) { p.classic.instanceID = v })
	case "index":
		return p.uintField("Index", 64, func(v uint64) { ev.RecordID = v })
	case "timegenerated":
		p.known = true
		return p.timeCreated()
	case "source":
		return p.strField(&p.f.provName)
	case "entrytype":
		return p.entryType()
	case "categorynumber":
		return p.uintField("CategoryNumber", 16, func(v uint64) { ev.Task = uint16(v) })
	case "category":
		return p.strField(&p.classic.category)
	case "replacementstrings":
		return p.properties()
	}
	_, e := p.skipValue()
	return e
}

// entryType maps an EventLogEntryType, written as its number (Windows
// PowerShell) or its name, to a Windows level and its text.
func (p *jsonParser) entryType() *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	if p.i < len(p.b) && p.b[p.i] == '"' {
		var s span
		if e := p.strField(&s); e != nil {
			return e
		}
		p.setEntryType(strings.ToLower(string(p.spanBytes(s))))
		return nil
	}
	return p.uintField("EntryType", 32, func(v uint64) {
		switch v {
		case 1:
			p.setEntryType("error")
		case 2:
			p.setEntryType("warning")
		case 4:
			p.setEntryType("information")
		case 8:
			p.setEntryType("successaudit")
		case 16:
			p.setEntryType("failureaudit")
		}
	})
}

func (p *jsonParser) setEntryType(name string) {
	level, text := uint8(0), ""
	switch name {
	case "error":
		level, text = 2, "Error"
	case "warning":
		level, text = 3, "Warning"
	case "information":
		level, text = 4, "Information"
	case "successaudit":
		level, text = 0, "Audit Success"
	case "failureaudit":
		level, text = 0, "Audit Failure"
	default:
		return
	}
	p.ev.Level = level
	if p.f.levelText.off < 0 {
		p.f.levelText = p.addText(text)
	}
}

func (p *jsonParser) strField(dst *span) *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	if p.i >= len(p.b) {
		return p.eof()
	}
	if p.b[p.i] != '"' {
		return p.fail(p.i, "expected a string")
	}
	s, e := p.str()
	if e != nil {
		return e
	}
	*dst = s
	return nil
}

func (p *jsonParser) guidField(dst *span) *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	pos := p.i
	var s span
	if e := p.strField(&s); e != nil {
		return e
	}
	raw := p.spanBytes(s)
	if len(raw) == 0 {
		return nil
	}
	g, ok := p.guid(raw)
	if !ok {
		return p.fail(pos, "expected a GUID like \"bfd22b4f-4968-5f48-a37c-42ad34e3eedb\"")
	}
	*dst = g
	return nil
}

func (p *jsonParser) uintField(name string, bits uint, set func(uint64)) *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	if p.i >= len(p.b) {
		return p.eof()
	}
	if c := p.b[p.i]; c != '-' && (c < '0' || c > '9') {
		return p.fail(p.i, "member "+name+" must be a number")
	}
	s, e, err := p.number()
	if err != nil {
		return err
	}
	v, ok := parseUint(p.b[s:e], bits)
	if !ok {
		return p.fail(s, "member "+name+" holds "+string(p.b[s:e])+", not an integer that fits "+strconv.Itoa(int(bits))+" bits")
	}
	set(v)
	return nil
}

// keywords accepts the signed Int64 PowerShell writes (negative when the
// top bit is set) as well as an unsigned value.
func (p *jsonParser) keywords() *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	if p.i >= len(p.b) {
		return p.eof()
	}
	if c := p.b[p.i]; c != '-' && (c < '0' || c > '9') {
		return p.fail(p.i, "member Keywords must be a number")
	}
	s, e, err := p.number()
	if err != nil {
		return err
	}
	raw := p.b[s:e]
	if raw[0] == '-' {
		v, ok := parseUint(raw[1:], 64)
		if !ok || v > 1<<63 {
			return p.fail(s, "member Keywords holds "+string(raw)+", not a 64-bit integer")
		}
		p.ev.Keywords = uint64(-int64(v))
		return nil
	}
	v, ok := parseUint(raw, 64)
	if !ok {
		return p.fail(s, "member Keywords holds "+string(raw)+", not a 64-bit integer")
	}
	p.ev.Keywords = v
	return nil
}

// userID takes the SecurityIdentifier object's Value, or a plain string.
func (p *jsonParser) userID() *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	if p.i < len(p.b) && p.b[p.i] == '{' {
		return p.objectMembers(func(key []byte) *syntaxError {
			if string(key) == "value" {
				return p.strField(&p.f.sid)
			}
			_, e := p.skipValue()
			return e
		})
	}
	return p.strField(&p.f.sid)
}

func (p *jsonParser) timeCreated() *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	if p.i < len(p.b) && p.b[p.i] == '{' {
		// Get-Date style values carry the time in "value" next to
		// DisplayHint and DateTime.
		return p.objectMembers(func(key []byte) *syntaxError {
			if string(key) == "value" {
				return p.timeCreated()
			}
			_, e := p.skipValue()
			return e
		})
	}
	pos := p.i
	var s span
	if e := p.strField(&s); e != nil {
		return e
	}
	raw := p.spanBytes(s)
	if t, ok := parseDotNetTime(raw); ok {
		p.ev.TimeCreated = t
		return nil
	}
	return p.fail(pos, "TimeCreated "+strconv.Quote(string(raw))+" is neither \\/Date(ms)\\/ nor an ISO 8601 time")
}

// parseDotNetTime reads "/Date(ms)/" (Windows PowerShell; the number is UTC
// milliseconds, an optional +hhmm only tells the writer's zone) and ISO 8601
// with an offset (PowerShell 7).
func parseDotNetTime(raw []byte) (time.Time, bool) {
	if bytes.HasPrefix(raw, []byte("/Date(")) && bytes.HasSuffix(raw, []byte(")/")) {
		inner := raw[6 : len(raw)-2]
		end := len(inner)
		for k := 1; k < len(inner); k++ {
			if inner[k] == '+' || inner[k] == '-' {
				end = k
				break
			}
		}
		neg := false
		num := inner[:end]
		if len(num) > 0 && num[0] == '-' {
			neg, num = true, num[1:]
		}
		ms, ok := parseUint(num, 63)
		if !ok || bytes.HasPrefix(num, []byte("0x")) {
			return time.Time{}, false
		}
		v := int64(ms)
		if neg {
			v = -v
		}
		return time.UnixMilli(v).UTC(), true
	}
	return parseSystemTime(raw)
}

func (p *jsonParser) keywordNames() *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	if p.i >= len(p.b) {
		return p.eof()
	}
	if p.b[p.i] != '[' {
		// One name without the array, as older scripts flatten it.
		var s span
		if e := p.strField(&s); e != nil {
			return e
		}
		if s.off >= 0 {
			p.kw = append(p.kw, s)
		}
		return nil
	}
	return p.arrayItems(func() *syntaxError {
		s := noSpan
		if e := p.strField(&s); e != nil {
			return e
		}
		if s.off >= 0 {
			p.kw = append(p.kw, s)
		}
		return nil
	})
}

// properties reads [{"Value": ...}, ...]. PowerShell gives no names.
func (p *jsonParser) properties() *syntaxError {
	if null, e := p.isNull(); null || e != nil {
		return e
	}
	if p.i >= len(p.b) {
		return p.eof()
	}
	if p.b[p.i] != '[' {
		// A single property: ConvertTo-Json unwraps one-element arrays
		// in some PowerShell versions.
		return p.property()
	}
	return p.arrayItems(p.property)
}

func (p *jsonParser) property() *syntaxError {
	if p.i >= len(p.b) {
		return p.eof()
	}
	if p.b[p.i] == '{' {
		start := p.i
		found := false
		e := p.objectMembers(func(key []byte) *syntaxError {
			if string(key) != "value" {
				_, e := p.skipValue()
				return e
			}
			found = true
			v, e := p.stringValue()
			if e == nil {
				p.ed = append(p.ed, dataSpan{noSpan, v})
			}
			return e
		})
		if e != nil {
			return e
		}
		if !found {
			p.ed = append(p.ed, dataSpan{noSpan, p.compact(start, p.i)})
		}
		return nil
	}
	if p.b[p.i] == '"' && bytes.HasPrefix(p.b[p.i:], []byte(`"`+lostProperty+`"`)) {
		p.depthLost = true
	}
	v, e := p.stringValue()
	if e == nil {
		p.ed = append(p.ed, dataSpan{noSpan, v})
	}
	return e
}

// finishEvent settles what depends on several members, then builds the
// event.
func (p *jsonParser) finishEvent(start, end int) {
	if p.depthLost {
		// The items are type names, not data: better none than those.
		p.ed = p.ed[:0]
	}
	if c := p.spanBytes(p.classic.category); len(c) > 0 && !parenthesised(c) {
		// "(0)" is how Windows shows an entry without a category.
		p.f.taskText = p.classic.category
	}
	if p.classic.hasInstance {
		// The full 32-bit identifier: the event ID in the low half, the
		// qualifiers (severity, facility) in the high one.
		if !p.classic.hasID {
			p.ev.EventID = uint32(p.classic.instanceID)
		}
		if !p.has.q {
			p.num.qualifiers, p.has.q = uint16(p.classic.instanceID>>16), true
		}
	}
	if p.classic.hasID || p.classic.hasInstance {
		// EventLogEntry.EventID keeps the facility bits; Windows shows
		// the low 16 bits as the event ID.
		p.ev.EventID &= 0xFFFF
	}
	p.finish(start, end)
}
