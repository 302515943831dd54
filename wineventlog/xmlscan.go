package wineventlog

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The XML scanner below knows nothing of the Event schema (xmlparse.go
// does): it reads tokens, checking well-formedness only as far as needed to
// notice damaged events (unbalanced or mismatched tags, broken attribute
// syntax, bad entities). encoding/xml would cost several times the whole
// per-event budget.

type attr struct {
	nameS, nameE int // qualified name in b
	valS, valE   int // raw value in b, quotes excluded
	amp          bool
}

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokText
	tokStart
	tokEnd
)

func (p *xmlParser) fail(pos int, format string, args ...any) *syntaxError {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
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
		var e *syntaxError
		if i, e = p.attribute(i); e != nil {
			return e
		}
	}
}

// attribute reads the attribute at b[i] of the start tag being read and
// returns the index just past its closing quote.
func (p *xmlParser) attribute(i int) (int, *syntaxError) {
	b := p.b
	a := attr{nameS: i}
	for i < len(b) && isNameByte(b[i]) {
		i++
	}
	a.nameE = i
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) {
		return 0, p.eof()
	}
	if b[i] != '=' {
		return 0, p.fail(i, "attribute %s of <%s> has no '=' and value", string(b[a.nameS:a.nameE]), string(b[p.nameS:p.nameE]))
	}
	i++
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) {
		return 0, p.eof()
	}
	q := b[i]
	if q != '"' && q != '\'' {
		return 0, p.fail(i, "value of attribute %s is not quoted", string(b[a.nameS:a.nameE]))
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
			return 0, p.cut(i + lt)
		case tagIncomplete:
			return 0, p.eof()
		}
		return 0, p.fail(i+lt, "'<' inside the value of attribute %s (it is not closed or not escaped)", string(b[a.nameS:a.nameE]))
	}
	if k < 0 {
		return 0, p.eof()
	}
	a.valE = end
	val := b[a.valS:a.valE]
	if bytes.IndexByte(val, '&') >= 0 {
		a.amp = true
		if e := p.checkText(a.valS, a.valE); e != nil {
			return 0, e
		}
	}
	if p.nattr < len(p.attrs) {
		p.attrs[p.nattr] = a
		p.nattr++
	}
	return a.valE + 1, nil
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
	return p.since(off)
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
