package wineventlog

import (
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON scanner below validates the grammar fully, so that damage is
// found, and knows nothing of events (jsonparse.go does). Strings go into
// the builder's spans like the XML scanner's.

func (p *jsonParser) fail(pos int, msg string) *syntaxError {
	return &syntaxError{pos: pos, msg: msg, cutAt: -1}
}

func (p *jsonParser) eof() *syntaxError {
	return &syntaxError{pos: len(p.b), msg: "the object is cut off: input ends inside it", truncated: true, cutAt: -1}
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

// compact copies already validated JSON without insignificant white space.
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
	return p.since(off)
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
			return p.unescape(start, i)
		}
		if c < 0x20 {
			return noSpan, p.fail(i, "control character in a string (a line break inside a string means the value is cut off)")
		}
		i++
	}
	return noSpan, p.eof()
}

// unescape goes on with the string starting at b[start] from its first
// backslash at b[i], decoding into extra.
func (p *jsonParser) unescape(start, i int) (span, *syntaxError) {
	b := p.b
	off := len(p.extra)
	p.extra = append(p.extra, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.i = i + 1
			return p.since(off), nil
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
			r, n, e := p.unicodeEscape(i)
			if e != nil {
				return noSpan, e
			}
			i += n
			p.extra = utf8.AppendRune(p.extra, r)
		default:
			return noSpan, p.fail(i-2, "invalid escape \\"+string(rune(esc))+" in a string")
		}
	}
	return noSpan, p.eof()
}

// unicodeEscape reads the hex digits of a \u escape at b[i], and the low
// half that must follow a high surrogate. A lone surrogate is U+FFFD.
func (p *jsonParser) unicodeEscape(i int) (rune, int, *syntaxError) {
	b := p.b
	r, n, e := p.hex4(i)
	if e != nil || !utf16.IsSurrogate(r) {
		return r, n, e
	}
	if i+n+1 < len(b) && b[i+n] == '\\' && b[i+n+1] == 'u' {
		if v, n2, e2 := p.hex4(i + n + 2); e2 == nil {
			if d := utf16.DecodeRune(r, v); d != utf8.RuneError {
				return d, n + 2 + n2, nil
			}
		} else if e2.truncated {
			return 0, 0, e2
		}
	}
	return utf8.RuneError, n, nil
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
