package wineventlog

import (
	"bytes"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/magic"
)

// The Event schema over the XML scanner (xmlscan.go): which elements and
// attributes become which Event fields.

// xmlParser keeps its scanning state first and the builder, with the large
// Event, last: the state the inner loops touch stays together.
type xmlParser struct {
	i int

	// current token
	kind         tokKind
	tokS         int // start of the token ('<' or first text byte)
	nameS, nameE int
	localS       int // name without its prefix starts here (start tags)
	selfClose    bool
	textE        int
	nattr        int
	attrs        [12]attr

	openS, openE int // innermost element, for messages about truncation
	depth        int

	path []span // UserData path below its root, as spans of b

	builder
}

var parserPool = sync.Pool{New: func() any { return new(xmlParser) }}

func (p *xmlParser) reset(b []byte, keep bool) {
	p.builder.reset(b, keep)
	p.i = 0
	p.depth = 0
	p.openS, p.openE = 0, 0
	p.path = p.path[:0]
}

// ParseEventXML parses one <Event> element (UTF-8) into an Event. A BOM,
// whitespace, an XML declaration and comments around the element are
// accepted, anything else is an error. Errors are *DecodeError with offsets
// in b.
func ParseEventXML(b []byte) (Event, error) {
	p := parserPool.Get().(*xmlParser)
	defer p.release()
	ev, _, err := p.parse(b, true, true)
	if err != nil {
		return Event{}, decodeError(FormatXML, err, 0, int64(len(b)), 0, false)
	}
	return ev, nil
}

// release returns a parser to the pool.
func (p *xmlParser) release() {
	p.drop()
	parserPool.Put(p)
}

// parse decodes the event at the start of b (after optional prolog). With
// whole, b must hold exactly one event; otherwise trailing bytes are left and
// n tells how many were used.
func (p *xmlParser) parse(b []byte, keep, whole bool) (ev Event, n int, err *syntaxError) {
	if whole && !utf8.Valid(b) {
		// Rare: repair once up front so every later span is valid text.
		// Positions shift only after the first bad byte.
		b = appendValidUTF8(make([]byte, 0, len(b)+16), b)
	}
	p.reset(b, keep)
	if whole {
		if e := p.skipProlog(); e != nil {
			return Event{}, 0, e
		}
	}
	if e := p.parseEvent(); e != nil {
		switch {
		case whole && e.cutAt >= 0:
			e.msg = "the event is cut off: a new <Event> starts at byte " + strconv.Itoa(e.cutAt) + " (" + e.msg + ")"
		case whole && e.truncated:
			e.msg = "the event is cut off: " + e.msg
		}
		return Event{}, 0, e
	}
	n = p.i
	if !whole && !utf8.Valid(b[:n]) {
		// The structure does not depend on the bad bytes, so parsing the
		// repaired copy succeeds the same way.
		ev, _, err = p.parse(appendValidUTF8(make([]byte, 0, n+16), b[:n]), keep, true)
		return ev, n, err
	}
	if whole {
		if e := p.skipTrailer(); e != nil {
			return Event{}, 0, e
		}
	}
	p.finish(0, n)
	return p.ev, n, nil
}

// skipMisc skips the processing instruction or comment at p.i, which may
// stand before and after the event, and reports whether there was one.
func (p *xmlParser) skipMisc() (bool, *syntaxError) {
	rest := p.b[p.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("<?")):
		return true, p.skipUntil(p.i+2, "?>", "processing instruction")
	case bytes.HasPrefix(rest, []byte("<!--")):
		return true, p.skipUntil(p.i+4, "-->", "comment")
	}
	return false, nil
}

func (p *xmlParser) skipProlog() *syntaxError {
	if bytes.HasPrefix(p.b, []byte(magic.UTF8BOM)) {
		p.i = len(magic.UTF8BOM)
	}
	for {
		p.skipSpace()
		if p.i >= len(p.b) {
			return p.fail(p.i, "no <Event> element found")
		}
		if p.b[p.i] != '<' {
			return p.fail(p.i, "text before the <Event> element")
		}
		if more, e := p.skipMisc(); e != nil || !more {
			return e
		}
	}
}

func (p *xmlParser) skipTrailer() *syntaxError {
	for {
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil
		}
		more, e := p.skipMisc()
		if e != nil {
			return e
		}
		if !more {
			return p.fail(p.i, "unexpected content after </Event>; give one event per call")
		}
	}
}

func (p *xmlParser) parseEvent() *syntaxError {
	if p.i >= len(p.b) {
		return p.eof()
	}
	if p.b[p.i] != '<' {
		return p.fail(p.i, "expected <Event>")
	}
	if e := p.next(); e != nil {
		return e
	}
	if p.kind != tokStart || string(p.b[p.localS:p.nameE]) != "Event" {
		return p.fail(p.tokS, "expected <Event>")
	}
	return p.children(p.eventChild)
}

func (p *xmlParser) eventChild(local []byte) *syntaxError {
	switch string(local) {
	case "System":
		return p.children(p.systemChild)
	case "EventData":
		return p.children(p.eventDataChild)
	case "UserData":
		return p.children(p.userDataRoot)
	case "RenderingInfo":
		return p.children(p.renderingChild)
	}
	return p.skip()
}

func (p *xmlParser) number(name string, bits uint, set func(uint64)) *syntaxError {
	pos := p.i
	v, e := p.textBytes()
	if e != nil {
		return e
	}
	if len(trimSpace(v)) == 0 {
		return nil
	}
	n, ok := parseUint(v, bits)
	if !ok {
		return p.fail(pos, "<%s> holds %s, not a number that fits %s bits", name, strconv.Quote(string(v)), strconv.Itoa(int(bits)))
	}
	set(n)
	return nil
}

func (p *xmlParser) attrNumber(tag, name string, bits uint, set func(uint64)) *syntaxError {
	raw, ok := p.attrRaw(name)
	if !ok || len(trimSpace(raw)) == 0 {
		return nil
	}
	n, ok := parseUint(raw, bits)
	if !ok {
		return p.fail(p.tokS, "attribute %s of <%s> holds %s, not a number", name, tag, strconv.Quote(string(raw)))
	}
	set(n)
	return nil
}

func (p *xmlParser) guidAttr(name string) span {
	raw, ok := p.attrRaw(name)
	if !ok {
		return noSpan
	}
	if isCanonicalGUID(raw) {
		return p.attrVal(name)
	}
	if s, ok := p.guid(raw); ok {
		return s
	}
	// Not a GUID after all: keep the text rather than lose it.
	return p.attrVal(name)
}

func (p *xmlParser) systemChild(local []byte) *syntaxError {
	ev := &p.ev
	switch string(local) {
	case "Provider":
		p.f.provName = p.attrVal("Name")
		p.f.provGUID = p.guidAttr("Guid")
		p.f.evSrc = p.attrVal("EventSourceName")
		return p.skip()
	case "EventID":
		if e := p.attrNumber("EventID", "Qualifiers", 16, func(v uint64) { p.num.qualifiers, p.has.q = uint16(v), true }); e != nil {
			return e
		}
		return p.number("EventID", 32, func(v uint64) { ev.EventID = uint32(v) })
	case "Version":
		return p.number("Version", 8, func(v uint64) { p.num.version, p.has.v = uint8(v), true })
	case "Level":
		return p.number("Level", 8, func(v uint64) { ev.Level = uint8(v) })
	case "Task":
		return p.number("Task", 16, func(v uint64) { ev.Task = uint16(v) })
	case "Opcode":
		return p.number("Opcode", 8, func(v uint64) { p.num.opcode, p.has.op = uint8(v), true })
	case "Keywords":
		return p.number("Keywords", 64, func(v uint64) { ev.Keywords = v })
	case "EventRecordID":
		return p.number("EventRecordID", 64, func(v uint64) { ev.RecordID = v })
	case "TimeCreated":
		if raw, ok := p.attrRaw("SystemTime"); ok {
			t, good := parseSystemTime(raw)
			if !good {
				return p.fail(p.tokS, "SystemTime %s is not an ISO 8601 time", strconv.Quote(string(raw)))
			}
			ev.TimeCreated = t
		}
		return p.skip()
	case "Correlation":
		p.f.activity = p.guidAttr("ActivityID")
		p.f.related = p.guidAttr("RelatedActivityID")
		return p.skip()
	case "Execution":
		if e := p.attrNumber("Execution", "ProcessID", 32, func(v uint64) { p.num.pid, p.has.pid = uint32(v), true }); e != nil {
			return e
		}
		if e := p.attrNumber("Execution", "ThreadID", 32, func(v uint64) { p.num.tid, p.has.tid = uint32(v), true }); e != nil {
			return e
		}
		return p.skip()
	case "Channel":
		s, e := p.text()
		p.f.channel = s
		return e
	case "Computer":
		s, e := p.text()
		p.f.computer = s
		return e
	case "Security":
		p.f.sid = p.attrVal("UserID")
		return p.skip()
	}
	return p.skip()
}

func (p *xmlParser) eventDataChild(local []byte) *syntaxError {
	switch string(local) {
	case "Data":
		name := p.attrVal("Name")
		v, e := p.text()
		if e != nil {
			return e
		}
		p.ed = append(p.ed, dataSpan{name, v})
		return nil
	case "Binary":
		v, e := p.text()
		if e != nil {
			return e
		}
		p.ed = append(p.ed, dataSpan{p.addText("Binary"), v})
		return nil
	}
	return p.skip()
}

func (p *xmlParser) renderingChild(local []byte) *syntaxError {
	var err *syntaxError
	switch string(local) {
	case "Message":
		p.f.message, err = p.text()
	case "Level":
		p.f.levelText, err = p.text()
	case "Task":
		p.f.taskText, err = p.text()
	case "Opcode":
		p.f.opcodeText, err = p.text()
	case "Keywords":
		err = p.children(func(local []byte) *syntaxError {
			if string(local) != "Keyword" {
				return p.skip()
			}
			s, e := p.text()
			if e == nil {
				p.kw = append(p.kw, s)
			}
			return e
		})
	default:
		err = p.skip()
	}
	return err
}

func (p *xmlParser) userDataRoot(local []byte) *syntaxError {
	if p.f.udRoot.off < 0 {
		p.f.udRoot = p.ref(p.nameE-len(local), p.nameE)
	}
	p.path = p.path[:0]
	return p.userDataNode()
}

// userDataNode flattens the element whose start tag was just read: leaves
// become items named by their path below the UserData root.
func (p *xmlParser) userDataNode() *syntaxError {
	if p.selfClose {
		if len(p.path) > 0 {
			p.ud = append(p.ud, dataSpan{p.pathSpan(), span{0, 0}})
		}
		return nil
	}
	nameS, nameE := p.nameS, p.nameE
	outerS, outerE := p.openS, p.openE
	p.openS, p.openE = nameS, nameE
	p.depth++
	defer func() { p.depth-- }()
	start := p.i
	hasChild := false
	for {
		if e := p.next(); e != nil {
			return e
		}
		switch p.kind {
		case tokEOF:
			return p.eof()
		case tokText:
		case tokStart:
			hasChild = true
			q := p.b[p.nameS:p.nameE]
			l := localName(q)
			p.path = append(p.path, span{int32(p.nameE - len(l)), int32(p.nameE)})
			if e := p.userDataNode(); e != nil {
				return e
			}
			p.path = p.path[:len(p.path)-1]
			p.openS, p.openE = nameS, nameE
		case tokEnd:
			if !bytes.Equal(p.b[p.nameS:p.nameE], p.b[nameS:nameE]) {
				return p.fail(p.tokS, "end tag </%s> does not match <%s>", string(p.b[p.nameS:p.nameE]), string(p.b[nameS:nameE]))
			}
			p.openS, p.openE = outerS, outerE
			if !hasChild {
				end := p.tokS
				var v span
				if indexAmpLt(p.b[start:end]) < 0 {
					v = p.ref(start, end)
				} else {
					v = p.decoded(start, end)
				}
				p.ud = append(p.ud, dataSpan{p.pathSpan(), v})
			}
			return nil
		}
	}
}

func (p *xmlParser) pathSpan() span {
	if len(p.path) == 1 {
		return p.ref(int(p.path[0].off), int(p.path[0].end))
	}
	off := len(p.extra)
	for k, s := range p.path {
		if k > 0 {
			p.extra = append(p.extra, '.')
		}
		p.extra = append(p.extra, p.b[s.off:s.end]...)
	}
	return p.since(off)
}
