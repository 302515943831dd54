package wineventlog

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// A JSON scanner specialised for the objects PowerShell writes for an
// EventLogRecord. Like the XML scanner it keeps all strings of an event in
// one allocation and validates the JSON grammar fully, so damage is found.

// lostProperty is what ConvertTo-Json writes for each EventData item when
// -Depth is too small to descend into Properties.
const lostProperty = "System.Diagnostics.Eventing.Reader.EventProperty"

type jsonParser struct {
	b     []byte
	i     int
	keep  bool
	base  int
	extra []byte
	depth int

	ev        Event
	f         fieldSpans
	ed        []dataSpan
	kw        []span
	num       sysNums
	has       sysHas
	known     bool
	depthLost bool
	classic   classicFields
	keyBuf    [32]byte
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
		p.b = nil
		if cap(p.extra) > 64<<10 {
			p.extra = nil
		}
		jsonParserPool.Put(p)
	}()
	ev, err := p.parse(b, true)
	if err != nil {
		return Event{}, jsonDecodeError(err, 0, int64(len(b)), 0, false)
	}
	return ev, nil
}

func jsonDecodeError(e *syntaxError, off, end, base int64, utf16 bool) *DecodeError {
	var where string
	if utf16 {
		where = "at byte " + strconv.Itoa(e.pos) + " of the event (counted in UTF-8)"
	} else {
		where = "at byte " + strconv.FormatInt(base+int64(e.pos), 10)
	}
	return &DecodeError{Format: FormatJSON, Offset: off, End: end, Reason: where + ": " + e.msg}
}

func (p *jsonParser) fail(pos int, msg string) *syntaxError {
	return &syntaxError{pos: pos, msg: msg, cutAt: -1}
}

func (p *jsonParser) eof() *syntaxError {
	return &syntaxError{pos: len(p.b), msg: "the object is cut off: input ends inside it", truncated: true, cutAt: -1}
}

// parse decodes exactly one object in b (white space and a BOM around it
// are allowed).
func (p *jsonParser) parse(b []byte, keep bool) (Event, *syntaxError) {
	if !utf8.Valid(b) {
		b = appendValidUTF8(make([]byte, 0, len(b)+16), b)
	}
	p.b, p.i, p.keep = b, 0, keep
	p.base = 0
	if keep {
		p.base = len(b)
	}
	p.extra = p.extra[:0]
	p.depth = 0
	p.ev = Event{}
	p.f = fieldSpans{noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan}
	p.ed, p.kw = p.ed[:0], p.kw[:0]
	p.num = sysNums{}
	p.has = struct{ q, v, op, pid, tid bool }{}
	p.known, p.depthLost = false, false
	p.classic = classicFields{category: noSpan}

	if bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
		p.i = 3
	}
	p.ws()
	start := p.i
	if p.i >= len(b) {
		return Event{}, p.fail(p.i, "no JSON object found")
	}
	if b[p.i] != '{' {
		return Event{}, p.fail(p.i, "expected a JSON object ('{') for one event")
	}
	if e := p.object(); e != nil {
		return Event{}, e
	}
	origEnd := p.i
	p.ws()
	if p.i < len(b) {
		return Event{}, p.fail(p.i, "unexpected content after the object; give one event per call")
	}
	if !p.known {
		return Event{}, p.fail(start, "the object has none of the Get-WinEvent fields (Id, ProviderName, LogName, RecordId, TimeCreated) nor Get-EventLog's (EventID, InstanceId, TimeGenerated); expected output of Get-WinEvent | ConvertTo-Json")
	}
	p.finish(start, origEnd)
	return p.ev, nil
}

// lowerKey lower-cases an ASCII member name into buf; longer names are
// none of ours and come back empty.
func lowerKey(buf *[32]byte, key []byte) []byte {
	if len(key) > len(buf) {
		return buf[:0]
	}
	for i, c := range key {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(key)]
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) && isSpace(p.b[p.i]) {
		p.i++
	}
}

// object parses the event object's members.
func (p *jsonParser) object() *syntaxError {
	p.i++ // '{'
	p.ws()
	if p.i >= len(p.b) {
		return p.eof()
	}
	if p.b[p.i] == '}' {
		p.i++
		return nil
	}
	var keyBuf [32]byte
	for {
		p.ws()
		if p.i >= len(p.b) {
			return p.eof()
		}
		if p.b[p.i] != '"' {
			return p.fail(p.i, "expected a member name in double quotes")
		}
		keyPos := p.i
		ks, e := p.str()
		if e != nil {
			return e
		}
		key := p.spanBytes(ks)
		// PowerShell's names are matched without regard to case, as
		// PowerShell itself does.
		lk := lowerKey(&keyBuf, key)
		p.ws()
		if p.i >= len(p.b) {
			return p.eof()
		}
		if p.b[p.i] != ':' {
			return p.fail(p.i, "expected ':' after member name")
		}
		p.i++
		p.ws()
		if e := p.member(lk, keyPos); e != nil {
			return e
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.eof()
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail(p.i, "expected ',' or '}' after a member value")
		}
	}
}

func (p *jsonParser) member(key []byte, keyPos int) *syntaxError {
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

	// Get-EventLog (EventLogEntry).
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

func (p *jsonParser) isNull() (bool, *syntaxError) {
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		_, e := p.literal("null")
		return e == nil, e
	}
	return false, nil
}

func (p *jsonParser) literal(word string) (int, *syntaxError) {
	start := p.i
	for k := 0; k < len(word); k++ {
		if p.i+k >= len(p.b) {
			return start, p.eof()
		}
		if p.b[p.i+k] != word[k] {
			return start, p.fail(p.i, "invalid literal; expected "+word)
		}
	}
	p.i += len(word)
	return start, nil
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
	off := len(p.extra)
	var ok bool
	p.extra, ok = appendGUID(p.extra, raw)
	if !ok {
		p.extra = p.extra[:off]
		return p.fail(pos, "expected a GUID like \"bfd22b4f-4968-5f48-a37c-42ad34e3eedb\"")
	}
	*dst = span{int32(p.base + off), int32(p.base + len(p.extra))}
	return nil
}

// number scans a JSON number and returns its text.
func (p *jsonParser) number() (int, int, *syntaxError) {
	b := p.b
	start := p.i
	i := p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		if i >= len(b) {
			return 0, 0, p.eof()
		}
		return 0, 0, p.fail(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			if i >= len(b) {
				return 0, 0, p.eof()
			}
			return 0, 0, p.fail(start, "invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			if i >= len(b) {
				return 0, 0, p.eof()
			}
			return 0, 0, p.fail(start, "invalid number")
		}
	}
	if i >= len(b) {
		// A number can only end at a delimiter: the input may go on.
		return 0, 0, p.eof()
	}
	p.i = i
	return start, i, nil
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

// objectMembers walks a nested object, handing each lower-cased key to fn
// with the value current.
func (p *jsonParser) objectMembers(fn func(key []byte) *syntaxError) *syntaxError {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 64 {
		return p.fail(p.i, "JSON nested too deeply")
	}
	p.i++
	p.ws()
	if p.i >= len(p.b) {
		return p.eof()
	}
	if p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) {
			return p.eof()
		}
		if p.b[p.i] != '"' {
			return p.fail(p.i, "expected a member name in double quotes")
		}
		ks, e := p.str()
		if e != nil {
			return e
		}
		// One buffer serves all levels: fn reads the key before it
		// parses the value, which may reach here again.
		key := lowerKey(&p.keyBuf, p.spanBytes(ks))
		p.ws()
		if p.i >= len(p.b) {
			return p.eof()
		}
		if p.b[p.i] != ':' {
			return p.fail(p.i, "expected ':' after member name")
		}
		p.i++
		p.ws()
		if e := fn(key); e != nil {
			return e
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.eof()
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail(p.i, "expected ',' or '}' after a member value")
		}
	}
}

// arrayItems walks an array, calling fn with each item current.
func (p *jsonParser) arrayItems(fn func() *syntaxError) *syntaxError {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 64 {
		return p.fail(p.i, "JSON nested too deeply")
	}
	p.i++
	p.ws()
	if p.i >= len(p.b) {
		return p.eof()
	}
	if p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if e := fn(); e != nil {
			return e
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.eof()
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.fail(p.i, "expected ',' or ']' after an array item")
		}
	}
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

// stringValue renders any JSON value as the text an EventData item would
// carry: strings as they are, numbers and booleans as written, null as
// empty, objects and arrays as compact JSON.
func (p *jsonParser) stringValue() (span, *syntaxError) {
	if p.i >= len(p.b) {
		return noSpan, p.eof()
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.str()
	case c == 'n':
		_, e := p.literal("null")
		return span{0, 0}, e
	}
	start := p.i
	simple, e := p.skipValue()
	if e != nil {
		return noSpan, e
	}
	if simple {
		return p.ref(start, p.i), nil
	}
	return p.compact(start, p.i), nil
}

func (p *jsonParser) ref(s, e int) span {
	if p.keep {
		return span{int32(s), int32(e)}
	}
	off := len(p.extra)
	p.extra = append(p.extra, p.b[s:e]...)
	return span{int32(p.base + off), int32(p.base + len(p.extra))}
}

// compact copies already validated JSON without insignificant white space.
// addText stores a string the input does not hold as such.
func (p *jsonParser) addText(t string) span {
	off := len(p.extra)
	p.extra = append(p.extra, t...)
	return span{int32(p.base + off), int32(p.base + len(p.extra))}
}

func (p *jsonParser) compact(s, e int) span {
	off := len(p.extra)
	b := p.b
	for i := s; i < e; i++ {
		c := b[i]
		if c == '"' {
			j := i + 1
			for ; j < e && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			p.extra = append(p.extra, b[i:j+1]...)
			i = j
			continue
		}
		if !isSpace(c) {
			p.extra = append(p.extra, c)
		}
	}
	return span{int32(p.base + off), int32(p.base + len(p.extra))}
}

// skipValue validates and skips any value; simple reports a scalar.
func (p *jsonParser) skipValue() (simple bool, err *syntaxError) {
	if p.i >= len(p.b) {
		return false, p.eof()
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return false, p.objectMembers(func([]byte) *syntaxError {
			_, e := p.skipValue()
			return e
		})
	case c == '[':
		return false, p.arrayItems(func() *syntaxError {
			_, e := p.skipValue()
			return e
		})
	case c == '"':
		_, e := p.str()
		return true, e
	case c == 't':
		_, e := p.literal("true")
		return true, e
	case c == 'f':
		_, e := p.literal("false")
		return true, e
	case c == 'n':
		_, e := p.literal("null")
		return true, e
	case c == '-' || c >= '0' && c <= '9':
		_, _, e := p.number()
		return true, e
	}
	return false, p.fail(p.i, "expected a JSON value")
}

// str reads the string at p.i ('"') into a span: a substring of the input
// when it has no escapes, decoded text otherwise.
func (p *jsonParser) str() (span, *syntaxError) {
	b := p.b
	start := p.i + 1
	i := start
	for i < len(b) {
		c := b[i]
		if c == '"' {
			p.i = i + 1
			return p.ref(start, i), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return noSpan, p.fail(i, "control character in a string (a line break inside a string means the value is cut off)")
		}
		i++
	}
	if i >= len(b) {
		return noSpan, p.eof()
	}
	off := len(p.extra)
	p.extra = append(p.extra, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.i = i + 1
			return span{int32(p.base + off), int32(p.base + len(p.extra))}, nil
		case c < 0x20:
			return noSpan, p.fail(i, "control character in a string (a line break inside a string means the value is cut off)")
		case c != '\\':
			k := i + 1
			for k < len(b) && b[k] != '"' && b[k] != '\\' && b[k] >= 0x20 {
				k++
			}
			p.extra = append(p.extra, b[i:k]...)
			i = k
			continue
		}
		if i+1 >= len(b) {
			return noSpan, p.eof()
		}
		esc := b[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			p.extra = append(p.extra, esc)
		case 'b':
			p.extra = append(p.extra, '\b')
		case 'f':
			p.extra = append(p.extra, '\f')
		case 'n':
			p.extra = append(p.extra, '\n')
		case 'r':
			p.extra = append(p.extra, '\r')
		case 't':
			p.extra = append(p.extra, '\t')
		case 'u':
			r, n, e := p.hex4(i)
			if e != nil {
				return noSpan, e
			}
			i += n
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if v, n2, e2 := p.hex4(i + 2); e2 == nil {
						if d := utf16.DecodeRune(r, v); d != utf8.RuneError {
							r2 = d
							i += 2 + n2
						}
					} else if e2.truncated {
						return noSpan, e2
					}
				}
				if r2 < 0 {
					r2 = utf8.RuneError // lone surrogate
				}
				r = r2
			}
			p.extra = utf8.AppendRune(p.extra, r)
		default:
			return noSpan, p.fail(i-2, "invalid escape \\"+string(rune(esc))+" in a string")
		}
	}
	return noSpan, p.eof()
}

func (p *jsonParser) hex4(i int) (rune, int, *syntaxError) {
	if i+4 > len(p.b) {
		return 0, 0, p.eof()
	}
	var r rune
	for _, c := range p.b[i : i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, 0, p.fail(i-2, "invalid \\u escape in a string")
		}
		r = r<<4 | rune(d)
	}
	return r, 4, nil
}

func (p *jsonParser) spanBytes(s span) []byte {
	if s.off < 0 || s.end <= s.off {
		return nil
	}
	if int(s.off) >= p.base {
		return p.extra[int(s.off)-p.base : int(s.end)-p.base]
	}
	return p.b[s.off:s.end]
}

func (p *jsonParser) finish(start, end int) {
	if p.depthLost {
		// The items are type names, not data: better none than those.
		p.ed = p.ed[:0]
	}
	var sb strings.Builder
	n := len(p.extra)
	if p.keep {
		n += len(p.b)
	}
	sb.Grow(n)
	if p.keep {
		sb.Write(p.b)
	}
	sb.Write(p.extra)
	all := sb.String()
	get := func(s span) string {
		if s.off < 0 {
			return ""
		}
		return all[s.off:s.end]
	}
	ev := &p.ev
	if p.keep {
		ev.Original = all[start:end]
	}
	ev.ProviderName = get(p.f.provName)
	ev.ProviderGUID = get(p.f.provGUID)
	ev.ActivityID = get(p.f.activity)
	ev.RelatedActivityID = get(p.f.related)
	ev.Channel = get(p.f.channel)
	ev.Computer = get(p.f.computer)
	ev.UserSID = get(p.f.sid)
	ev.Message = get(p.f.message)
	ev.LevelText = get(p.f.levelText)
	ev.TaskText = get(p.f.taskText)
	ev.OpcodeText = get(p.f.opcodeText)
	if c := get(p.classic.category); c != "" && !(strings.HasPrefix(c, "(") && strings.HasSuffix(c, ")")) {
		// "(0)" is how Windows shows an entry without a category.
		ev.TaskText = c
	}
	if p.classic.hasInstance {
		// The full 32-bit identifier: the event ID in the low half, the
		// qualifiers (severity, facility) in the high one.
		if !p.classic.hasID {
			ev.EventID = uint32(p.classic.instanceID)
		}
		if !p.has.q {
			p.num.qualifiers, p.has.q = uint16(p.classic.instanceID>>16), true
		}
	}
	if p.classic.hasID || p.classic.hasInstance {
		// EventLogEntry.EventID keeps the facility bits; Windows shows
		// the low 16 bits as the event ID.
		ev.EventID &= 0xFFFF
	}
	if len(p.kw) > 0 {
		ev.KeywordsText = make([]string, len(p.kw))
		for k, s := range p.kw {
			ev.KeywordsText[k] = get(s)
		}
	}
	if len(p.ed) > 0 {
		ev.EventData = make([]Data, len(p.ed))
		for k, d := range p.ed {
			ev.EventData[k] = Data{Value: get(d.value)}
		}
	}
	p.num.setOptional(ev, p.has)
}
