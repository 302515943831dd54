package wineventlog

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The XML scanner below knows the Event schema and checks well-formedness
// only as far as needed to notice damaged events (unbalanced or mismatched
// tags, broken attribute syntax, bad entities). encoding/xml would cost
// several times the whole per-event budget.
//
// Strings in the decoded Event share one allocation: when the original is
// kept, values without entities are substrings of Event.Original and the rest
// is appended behind it; otherwise the values alone are copied. Positions
// inside that final string are kept as spans until the end of parsing.

// span is a range of the final string; off < 0 marks an absent value.
type span struct{ off, end int32 }

var noSpan = span{-1, -1}

type dataSpan struct{ name, value span }

type attr struct {
	nameS, nameE int // qualified name in b
	valS, valE   int // raw value in b, quotes excluded
	amp          bool
}

// syntaxError is the parser's view of damage, in bytes of the parsed input.
type syntaxError struct {
	pos int
	msg string
	// truncated: the input ended inside the event; a stream decoder reads
	// more and tries again.
	truncated bool
	// cutAt >= 0: a new <Event> starts there before this one ended.
	cutAt int
}

func (e *syntaxError) Error() string { return e.msg }

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokText
	tokStart
	tokEnd
)

// sysHas records which optional System numbers an event carries.
type sysHas struct{ q, v, op, pid, tid bool }

// setOptional points ev's optional number fields at one copy of n, for the
// ones the event carries: one allocation for all of them.
func (n sysNums) setOptional(ev *Event, has sysHas) {
	if !(has.q || has.v || has.op || has.pid || has.tid) {
		return
	}
	nums := new(sysNums)
	*nums = n
	if has.q {
		ev.Qualifiers = &nums.qualifiers
	}
	if has.v {
		ev.Version = &nums.version
	}
	if has.op {
		ev.Opcode = &nums.opcode
	}
	if has.pid {
		ev.ProcessID = &nums.pid
	}
	if has.tid {
		ev.ThreadID = &nums.tid
	}
}

type sysNums struct {
	qualifiers uint16
	version    uint8
	opcode     uint8
	pid, tid   uint32
}

type xmlParser struct {
	b     []byte
	i     int
	keep  bool // Original wanted: spans may point into b
	base  int  // offset of extra within the final string
	extra []byte

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

	ev  Event
	f   fieldSpans
	ed  []dataSpan
	ud  []dataSpan
	kw  []span
	num sysNums
	has sysHas

	path []span // UserData path below its root, as spans of b
}

type fieldSpans struct {
	provName, provGUID, evSrc, activity, related, channel, computer, sid span
	message, levelText, taskText, opcodeText, udRoot                     span
}

var parserPool = sync.Pool{New: func() any { return new(xmlParser) }}

func (p *xmlParser) reset(b []byte, keep bool) {
	p.b, p.i, p.keep = b, 0, keep
	p.base = 0
	if keep {
		p.base = len(b)
	}
	p.extra = p.extra[:0]
	p.depth = 0
	p.openS, p.openE = 0, 0
	p.ev = Event{}
	p.f = fieldSpans{noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan}
	p.ed, p.ud, p.kw, p.path = p.ed[:0], p.ud[:0], p.kw[:0], p.path[:0]
	p.num = sysNums{}
	p.has = struct{ q, v, op, pid, tid bool }{}
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
		return Event{}, xmlDecodeError(err, 0, int64(len(b)), 0, false)
	}
	return ev, nil
}

// release returns a parser to the pool without the caller's input, and
// without scratch space a rare huge event made large.
func (p *xmlParser) release() {
	p.b = nil
	if cap(p.extra) > 64<<10 {
		p.extra = nil
	}
	parserPool.Put(p)
}

// xmlDecodeError turns a parser error into the public form. base is the
// input offset of the parsed bytes; utf16 marks bytes that were transcoded,
// whose positions are not source offsets.
func xmlDecodeError(e *syntaxError, off, end, base int64, utf16 bool) *DecodeError {
	var where string
	if utf16 {
		where = "at byte " + strconv.Itoa(e.pos) + " of the event (counted in UTF-8)"
	} else {
		where = "at byte " + strconv.FormatInt(base+int64(e.pos), 10)
	}
	return &DecodeError{Format: FormatXML, Offset: off, End: end, Reason: where + ": " + e.msg}
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
	p.finish(n)
	return p.ev, n, nil
}

func (p *xmlParser) fail(pos int, format string, args ...string) *syntaxError {
	msg := format
	if len(args) > 0 {
		var sb strings.Builder
		ai := 0
		for i := 0; i < len(format); i++ {
			if format[i] == '%' && i+1 < len(format) && format[i+1] == 's' && ai < len(args) {
				sb.WriteString(args[ai])
				ai++
				i++
				continue
			}
			sb.WriteByte(format[i])
		}
		msg = sb.String()
	}
	return &syntaxError{pos: pos, msg: msg, cutAt: -1}
}

func (p *xmlParser) eof() *syntaxError {
	msg := "input ends inside the event"
	if p.openE > p.openS {
		msg = "input ends inside <" + string(p.b[p.openS:p.openE]) + ">"
	}
	return &syntaxError{pos: len(p.b), msg: msg, truncated: true, cutAt: -1}
}

// cut reports an event that a new <Event> at pos interrupts: the input was
// cut (a crash, a partial copy) and writing went on with the next event.
func (p *xmlParser) cut(pos int) *syntaxError {
	e := p.eof()
	e.pos, e.truncated, e.cutAt = pos, false, pos
	return e
}

func (p *xmlParser) skipSpace() {
	for p.i < len(p.b) && isSpace(p.b[p.i]) {
		p.i++
	}
}

func (p *xmlParser) skipProlog() *syntaxError {
	if bytes.HasPrefix(p.b, []byte("\xEF\xBB\xBF")) {
		p.i = 3
	}
	for {
		p.skipSpace()
		if p.i >= len(p.b) {
			return p.fail(p.i, "no <Event> element found")
		}
		if p.b[p.i] != '<' {
			return p.fail(p.i, "text before the <Event> element")
		}
		rest := p.b[p.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			if e := p.skipUntil(p.i+2, "?>", "processing instruction"); e != nil {
				return e
			}
		case bytes.HasPrefix(rest, []byte("<!--")):
			if e := p.skipUntil(p.i+4, "-->", "comment"); e != nil {
				return e
			}
		default:
			return nil
		}
	}
}

func (p *xmlParser) skipTrailer() *syntaxError {
	for {
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil
		}
		rest := p.b[p.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			if e := p.skipUntil(p.i+2, "?>", "processing instruction"); e != nil {
				return e
			}
		case bytes.HasPrefix(rest, []byte("<!--")):
			if e := p.skipUntil(p.i+4, "-->", "comment"); e != nil {
				return e
			}
		default:
			return p.fail(p.i, "unexpected content after </Event>; give one event per call")
		}
	}
}

// skipUntil moves past the terminator searched from from.
func (p *xmlParser) skipUntil(from int, term, what string) *syntaxError {
	k := bytes.Index(p.b[from:], []byte(term))
	if k < 0 {
		e := p.eof()
		e.msg = "input ends inside a " + what
		return e
	}
	p.i = from + k + len(term)
	return nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '-' || c == '.' || c >= 0x80
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= 0x80
}

// indexAmpLt is bytes.IndexAny(b, "&<") without building a set per call.
func indexAmpLt(b []byte) int {
	a := bytes.IndexByte(b, '&')
	if a >= 0 {
		b = b[:a]
	}
	if l := bytes.IndexByte(b, '<'); l >= 0 {
		return l
	}
	return a
}

// localName strips a namespace prefix: the schema is matched on local
// names so that prefixed documents decode too.
func localName(q []byte) []byte {
	if k := bytes.LastIndexByte(q, ':'); k >= 0 {
		return q[k+1:]
	}
	return q
}

// next reads one token at p.i, skipping comments and processing
// instructions. CDATA sections are returned as text.
func (p *xmlParser) next() *syntaxError {
	b := p.b
	for {
		if p.i >= len(b) {
			p.kind = tokEOF
			return nil
		}
		p.tokS = p.i
		if b[p.i] != '<' {
			k := bytes.IndexByte(b[p.i:], '<')
			if k < 0 {
				return p.eof()
			}
			p.kind = tokText
			p.textE = p.i + k
			if e := p.checkText(p.i, p.textE); e != nil {
				return e
			}
			p.i = p.textE
			return nil
		}
		if p.i+1 >= len(b) {
			return p.eof()
		}
		switch c := b[p.i+1]; {
		case c == '/':
			return p.endTag()
		case c == '!':
			rest := b[p.i:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				if e := p.skipUntil(p.i+4, "-->", "comment"); e != nil {
					return e
				}
				continue
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				start := p.i
				if e := p.skipUntil(p.i+9, "]]>", "CDATA section"); e != nil {
					return e
				}
				p.kind = tokText
				p.tokS = start
				p.textE = p.i
				return nil
			case len(rest) < 9 && (bytes.HasPrefix([]byte("<![CDATA["), rest) || bytes.HasPrefix([]byte("<!--"), rest)):
				return p.eof()
			default:
				return p.fail(p.i, "markup declaration '<!' is not allowed inside an event")
			}
		case c == '?':
			if e := p.skipUntil(p.i+2, "?>", "processing instruction"); e != nil {
				return e
			}
			continue
		default:
			return p.startTag()
		}
	}
}

// checkText rejects what cannot appear in character data: a bad entity.
func (p *xmlParser) checkText(s, e int) *syntaxError {
	for {
		k := bytes.IndexByte(p.b[s:e], '&')
		if k < 0 {
			return nil
		}
		s += k
		n, err := p.entity(s, e, nil)
		if err != nil {
			return err
		}
		s += n
	}
}

// entity validates the reference at b[s] ('&') within b[:e], appends its
// text to dst when dst is non-nil, and returns its length.
func (p *xmlParser) entity(s, e int, dst *[]byte) (int, *syntaxError) {
	b := p.b
	lim := s + 12
	if lim > e {
		lim = e
	}
	k := bytes.IndexByte(b[s+1:lim], ';')
	if k < 0 {
		if lim == e && e == len(b) {
			return 0, p.eof()
		}
		return 0, p.fail(s, "'&' not followed by an entity reference ending in ';' (write & as &amp;)")
	}
	name := b[s+1 : s+1+k]
	var r rune
	switch string(name) {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "quot":
		r = '"'
	case "apos":
		r = '\''
	default:
		if len(name) < 2 || name[0] != '#' {
			return 0, p.fail(s, "unknown entity &%s;", string(name))
		}
		var v uint64
		var ok bool
		if name[1] == 'x' || name[1] == 'X' {
			v, ok = parseUint(append([]byte("0x"), name[2:]...), 32)
			if len(name) == 2 {
				ok = false
			}
		} else {
			v, ok = parseUint(name[1:], 32)
		}
		if !ok || v == 0 || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
			return 0, p.fail(s, "invalid character reference &%s;", string(name))
		}
		r = rune(v)
	}
	if dst != nil {
		*dst = utf8.AppendRune(*dst, r)
	}
	return k + 2, nil
}

func (p *xmlParser) startTag() *syntaxError {
	b := p.b
	p.tokS = p.i
	i := p.i + 1
	if i >= len(b) {
		return p.eof()
	}
	if !isNameStart(b[i]) {
		return p.fail(i, "'<' not followed by an element name (write < in text as &lt;)")
	}
	p.nameS = i
	p.localS = i
	for i < len(b) && isNameByte(b[i]) {
		if b[i] == ':' {
			p.localS = i + 1
		}
		i++
	}
	p.nameE = i
	if i >= len(b) {
		return p.eof() // the name may go on: <Event could be <EventData
	}
	if p.depth > 0 && string(b[p.localS:p.nameE]) == "Event" {
		return p.cut(p.tokS)
	}
	p.nattr = 0
	for {
		sp := i
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return p.eof()
		}
		switch c := b[i]; c {
		case '>':
			p.i = i + 1
			p.selfClose = false
			p.kind = tokStart
			return nil
		case '/':
			if i+1 >= len(b) {
				return p.eof()
			}
			if b[i+1] != '>' {
				return p.fail(i, "'/' in tag <%s> not followed by '>'", string(b[p.nameS:p.nameE]))
			}
			p.i = i + 2
			p.selfClose = true
			p.kind = tokStart
			return nil
		}
		if sp == i {
			return p.fail(i, "attributes of <%s> must be separated by white space", string(b[p.nameS:p.nameE]))
		}
		if !isNameStart(b[i]) {
			if b[i] == '<' {
				switch k, _ := eventTag(b, i); k {
				case tagEventStart:
					return p.cut(i)
				case tagIncomplete:
					return p.eof()
				}
				return p.fail(i, "tag <%s> is not closed before the next '<'", string(b[p.nameS:p.nameE]))
			}
			return p.fail(i, "unexpected %s in tag <%s>", strconv.QuoteRune(rune(b[i])), string(b[p.nameS:p.nameE]))
		}
		a := attr{nameS: i}
		for i < len(b) && isNameByte(b[i]) {
			i++
		}
		a.nameE = i
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return p.eof()
		}
		if b[i] != '=' {
			return p.fail(i, "attribute %s of <%s> has no '=' and value", string(b[a.nameS:a.nameE]), string(b[p.nameS:p.nameE]))
		}
		i++
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return p.eof()
		}
		q := b[i]
		if q != '"' && q != '\'' {
			return p.fail(i, "value of attribute %s is not quoted", string(b[a.nameS:a.nameE]))
		}
		i++
		a.valS = i
		k := bytes.IndexByte(b[i:], q)
		end := i + k
		if k < 0 {
			end = len(b)
		}
		if lt := bytes.IndexByte(b[i:end], '<'); lt >= 0 {
			switch kind, _ := eventTag(b, i+lt); kind {
			case tagEventStart:
				return p.cut(i + lt)
			case tagIncomplete:
				return p.eof()
			}
			return p.fail(i+lt, "'<' inside the value of attribute %s (it is not closed or not escaped)", string(b[a.nameS:a.nameE]))
		}
		if k < 0 {
			return p.eof()
		}
		a.valE = end
		val := b[a.valS:a.valE]
		if bytes.IndexByte(val, '&') >= 0 {
			a.amp = true
			if e := p.checkText(a.valS, a.valE); e != nil {
				return e
			}
		}
		if p.nattr < len(p.attrs) {
			p.attrs[p.nattr] = a
			p.nattr++
		}
		i = a.valE + 1
	}
}

func (p *xmlParser) endTag() *syntaxError {
	b := p.b
	p.tokS = p.i
	i := p.i + 2
	p.nameS = i
	for i < len(b) && isNameByte(b[i]) {
		i++
	}
	p.nameE = i
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) {
		return p.eof()
	}
	if b[i] != '>' || p.nameE == p.nameS {
		return p.fail(p.tokS, "malformed end tag")
	}
	p.i = i + 1
	p.kind = tokEnd
	return nil
}

// attrVal returns the span of the attribute with the given local name.
func (p *xmlParser) attrVal(local string) span {
	for k := 0; k < p.nattr; k++ {
		a := &p.attrs[k]
		if string(localName(p.b[a.nameS:a.nameE])) == local {
			if a.amp {
				return p.decoded(a.valS, a.valE)
			}
			return p.ref(a.valS, a.valE)
		}
	}
	return noSpan
}

func (p *xmlParser) attrRaw(local string) ([]byte, bool) {
	for k := 0; k < p.nattr; k++ {
		a := &p.attrs[k]
		if string(localName(p.b[a.nameS:a.nameE])) == local {
			return p.b[a.valS:a.valE], true
		}
	}
	return nil, false
}

// ref makes a span for b[s:e], copying only when the original is not kept.
func (p *xmlParser) ref(s, e int) span {
	if p.keep {
		return span{int32(s), int32(e)}
	}
	off := len(p.extra)
	p.extra = append(p.extra, p.b[s:e]...)
	return span{int32(p.base + off), int32(p.base + len(p.extra))}
}

// decoded appends b[s:e] with entities, CDATA and comments resolved.
func (p *xmlParser) decoded(s, e int) span {
	off := len(p.extra)
	b := p.b
	for s < e {
		c := b[s]
		switch {
		case c == '&':
			n, _ := p.entity(s, e, &p.extra) // validated when scanned
			if n == 0 {
				n = 1
			}
			s += n
		case c == '<' && bytes.HasPrefix(b[s:e], []byte("<![CDATA[")):
			k := bytes.Index(b[s+9:e], []byte("]]>"))
			p.extra = append(p.extra, b[s+9:s+9+k]...)
			s += 9 + k + 3
		case c == '<' && bytes.HasPrefix(b[s:e], []byte("<!--")):
			s += 4 + bytes.Index(b[s+4:e], []byte("-->")) + 3
		case c == '<' && bytes.HasPrefix(b[s:e], []byte("<?")):
			s += 2 + bytes.Index(b[s+2:e], []byte("?>")) + 2
		default:
			k := indexAmpLt(b[s:e])
			if k < 0 {
				k = e - s
			}
			p.extra = append(p.extra, b[s:s+k]...)
			s += k
		}
	}
	return span{int32(p.base + off), int32(p.base + len(p.extra))}
}

// text reads the content of a leaf element whose start tag was just read,
// up to and including its end tag. Child elements are an error: the schema
// has none there, and accepting them would hide damage.
func (p *xmlParser) text() (span, *syntaxError) {
	if p.selfClose {
		return span{0, 0}, nil
	}
	nameS, nameE := p.nameS, p.nameE
	// Fast path for the usual shape, text then "</Name>": one search
	// instead of the token machinery.
	if k := bytes.IndexByte(p.b[p.i:], '<'); k >= 0 {
		lt := p.i + k
		end := lt + 2 + (nameE - nameS)
		if end < len(p.b) && p.b[lt+1] == '/' && p.b[end] == '>' && bytes.Equal(p.b[lt+2:end], p.b[nameS:nameE]) {
			start := p.i
			if bytes.IndexByte(p.b[start:lt], '&') < 0 {
				p.i = end + 1
				return p.ref(start, lt), nil
			}
			if e := p.checkText(start, lt); e != nil {
				return noSpan, e
			}
			p.i = end + 1
			return p.decoded(start, lt), nil
		}
	}
	outerS, outerE := p.openS, p.openE
	p.openS, p.openE = nameS, nameE
	start := p.i
	simple := true
	segs := 0
	firstS, firstE := 0, 0
	for {
		if e := p.next(); e != nil {
			return noSpan, e
		}
		switch p.kind {
		case tokEOF:
			return noSpan, p.eof()
		case tokText:
			segs++
			firstS, firstE = p.tokS, p.textE
			if p.b[p.tokS] != '<' {
				if bytes.IndexByte(p.b[p.tokS:p.textE], '&') >= 0 {
					simple = false
				}
			} else {
				simple = false // CDATA
			}
		case tokStart:
			return noSpan, p.fail(p.tokS, "unexpected element <%s> inside <%s>", string(p.b[p.nameS:p.nameE]), string(p.b[nameS:nameE]))
		case tokEnd:
			if !bytes.Equal(p.b[p.nameS:p.nameE], p.b[nameS:nameE]) {
				return noSpan, p.fail(p.tokS, "end tag </%s> does not match <%s>", string(p.b[p.nameS:p.nameE]), string(p.b[nameS:nameE]))
			}
			p.openS, p.openE = outerS, outerE
			end := p.tokS
			if segs == 0 {
				return span{0, 0}, nil
			}
			if simple && segs == 1 && firstS == start && firstE == end {
				return p.ref(start, end), nil
			}
			// Entities, CDATA, or comments splitting the text.
			return p.decoded(start, end), nil
		}
	}
}

func (p *xmlParser) textBytes() ([]byte, *syntaxError) {
	s, e := p.text()
	if e != nil {
		return nil, e
	}
	return p.spanBytes(s), nil
}

// spanBytes reads a span back before the final string exists.
func (p *xmlParser) spanBytes(s span) []byte {
	if s.off < 0 || s.end <= s.off {
		return nil
	}
	if int(s.off) >= p.base {
		return p.extra[int(s.off)-p.base : int(s.end)-p.base]
	}
	return p.b[s.off:s.end]
}

// skip consumes the rest of an element whose start tag was just read.
func (p *xmlParser) skip() *syntaxError {
	if p.selfClose {
		return nil
	}
	type open struct{ s, e int }
	var stackBuf [8]open
	stack := append(stackBuf[:0], open{p.nameS, p.nameE})
	outerS, outerE := p.openS, p.openE
	p.depth++
	defer func() { p.depth-- }()
	for {
		top := stack[len(stack)-1]
		p.openS, p.openE = top.s, top.e
		if e := p.next(); e != nil {
			return e
		}
		switch p.kind {
		case tokEOF:
			return p.eof()
		case tokStart:
			if !p.selfClose {
				stack = append(stack, open{p.nameS, p.nameE})
			}
		case tokEnd:
			if !bytes.Equal(p.b[p.nameS:p.nameE], p.b[top.s:top.e]) {
				return p.fail(p.tokS, "end tag </%s> does not match <%s>", string(p.b[p.nameS:p.nameE]), string(p.b[top.s:top.e]))
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				p.openS, p.openE = outerS, outerE
				return nil
			}
		}
	}
}

// children iterates over the child elements of the element whose start tag
// was just read, calling fn with each child's start tag current. fn must
// consume the child (text, skip or a nested children call). Text between
// children must be white space.
func (p *xmlParser) children(fn func(local []byte) *syntaxError) *syntaxError {
	if p.selfClose {
		return nil
	}
	nameS, nameE := p.nameS, p.nameE
	outerS, outerE := p.openS, p.openE
	p.depth++
	defer func() { p.depth-- }()
	for {
		p.openS, p.openE = nameS, nameE
		if e := p.next(); e != nil {
			return e
		}
		switch p.kind {
		case tokEOF:
			return p.eof()
		case tokText:
			if p.b[p.tokS] == '<' || len(trimSpace(p.b[p.tokS:p.textE])) != 0 {
				return p.fail(p.tokS, "unexpected text inside <%s>", string(p.b[nameS:nameE]))
			}
		case tokStart:
			if e := fn(p.b[p.localS:p.nameE]); e != nil {
				return e
			}
		case tokEnd:
			if !bytes.Equal(p.b[p.nameS:p.nameE], p.b[nameS:nameE]) {
				return p.fail(p.tokS, "end tag </%s> does not match <%s>", string(p.b[p.nameS:p.nameE]), string(p.b[nameS:nameE]))
			}
			p.openS, p.openE = outerS, outerE
			return nil
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
	off := len(p.extra)
	var good bool
	p.extra, good = appendGUID(p.extra, raw)
	if !good {
		// Not a GUID after all: keep the text rather than lose it.
		p.extra = p.extra[:off]
		return p.attrVal(name)
	}
	return span{int32(p.base + off), int32(p.base + len(p.extra))}
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
		off := len(p.extra)
		p.extra = append(p.extra, "Binary"...)
		p.ed = append(p.ed, dataSpan{span{int32(p.base + off), int32(p.base + len(p.extra))}, v})
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
	return span{int32(p.base + off), int32(p.base + len(p.extra))}
}

// finish builds the one string all fields point into, from the first n
// bytes of the input (the event) and the decoded extra text.
func (p *xmlParser) finish(n int) {
	var sb strings.Builder
	size := len(p.extra)
	if p.keep {
		size += n
	}
	sb.Grow(size)
	if p.keep {
		sb.Write(p.b[:n])
	}
	sb.Write(p.extra)
	all := sb.String()
	// Spans into extra were made with base len(p.b); the input is cut to n.
	shift := int32(p.base - len(all) + len(p.extra))
	base := int32(p.base)
	get := func(s span) string {
		if s.off < 0 {
			return ""
		}
		if s.off >= base {
			return all[s.off-shift : s.end-shift]
		}
		return all[s.off:s.end]
	}
	ev := &p.ev
	if p.keep {
		ev.Original = all[:n]
	}
	ev.ProviderName = get(p.f.provName)
	ev.ProviderGUID = get(p.f.provGUID)
	ev.EventSourceName = get(p.f.evSrc)
	ev.ActivityID = get(p.f.activity)
	ev.RelatedActivityID = get(p.f.related)
	ev.Channel = get(p.f.channel)
	ev.Computer = get(p.f.computer)
	ev.UserSID = get(p.f.sid)
	ev.Message = get(p.f.message)
	ev.LevelText = get(p.f.levelText)
	ev.TaskText = get(p.f.taskText)
	ev.OpcodeText = get(p.f.opcodeText)
	ev.UserDataRoot = get(p.f.udRoot)
	if len(p.kw) > 0 {
		ev.KeywordsText = make([]string, len(p.kw))
		for k, s := range p.kw {
			ev.KeywordsText[k] = get(s)
		}
	}
	if n := len(p.ed) + len(p.ud); n > 0 {
		items := make([]Data, n)
		for k, d := range p.ed {
			items[k] = Data{Name: get(d.name), Value: get(d.value)}
		}
		for k, d := range p.ud {
			items[len(p.ed)+k] = Data{Name: get(d.name), Value: get(d.value)}
		}
		if len(p.ed) > 0 {
			ev.EventData = items[:len(p.ed):len(p.ed)]
		}
		if len(p.ud) > 0 {
			ev.UserData = items[len(p.ed):]
		}
	}
	p.num.setOptional(ev, p.has)
}
