package mapping

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// A small JSON reader for the legacy Metric payload. Every legacy event
// carries one, so it sits on the hot path, and encoding/json's generic
// decoding into maps cost more than the rest of enrichment together. It
// flattens objects into dotted keys as it goes and keeps scalars as text.

type jsonFlat struct {
	s   string
	pos int
	out []wineventlog.Data
	// depth bounds nesting so hostile input cannot recurse without limit.
	depth int
}

const maxMetricDepth = 32

// flattenJSONObject parses s, which must be one JSON object, into dotted
// key/value pairs in document order. ok is false for anything malformed.
func flattenJSONObject(s string) (out []wineventlog.Data, ok bool) {
	p := jsonFlat{s: s}
	p.ws()
	if !p.object("") {
		return nil, false
	}
	p.ws()
	if p.pos != len(p.s) {
		return nil, false
	}
	return p.out, true
}

// peek returns the next non-space byte, or 0 at the end.
func (p *jsonFlat) peek() byte {
	p.ws()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// members walks one object, calling member for each key with the position
// at its value; member must consume the value.
func (p *jsonFlat) members(member func(key string) bool) bool {
	if p.peek() != '{' {
		return false
	}
	p.depth++
	if p.depth > maxMetricDepth {
		return false
	}
	p.pos++
	if p.peek() == '}' {
		p.pos++
		p.depth--
		return true
	}
	for {
		p.ws()
		key, ok := p.str()
		if !ok || p.peek() != ':' {
			return false
		}
		p.pos++
		p.ws()
		if !member(key) {
			return false
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			return true
		default:
			return false
		}
	}
}

// skipValue passes over one value of any kind.
func (p *jsonFlat) skipValue() bool {
	mark := len(p.out)
	ok := p.value("")
	p.out = p.out[:mark]
	return ok
}

// scalar reads one value as text; objects and arrays come back as their
// JSON text.
func (p *jsonFlat) scalar() (string, bool) {
	start := p.pos
	if c := p.peek(); c == '{' || c == '[' {
		start = p.pos
		if !p.skipValue() {
			return "", false
		}
		return p.s[start:p.pos], true
	}
	mark := len(p.out)
	if !p.value("") {
		return "", false
	}
	v := p.out[mark].Value
	p.out = p.out[:mark]
	return v, true
}

func (p *jsonFlat) ws() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonFlat) object(prefix string) bool {
	if p.pos >= len(p.s) || p.s[p.pos] != '{' {
		return false
	}
	p.depth++
	if p.depth > maxMetricDepth {
		return false
	}
	p.pos++
	p.ws()
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		p.depth--
		return true
	}
	for {
		p.ws()
		key, ok := p.str()
		if !ok {
			return false
		}
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return false
		}
		p.pos++
		p.ws()
		name := key
		if prefix != "" {
			name = prefix + "." + key
		}
		if !p.value(name) {
			return false
		}
		p.ws()
		if p.pos >= len(p.s) {
			return false
		}
		if p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.s[p.pos] == '}' {
			p.pos++
			p.depth--
			return true
		}
		return false
	}
}

func (p *jsonFlat) value(name string) bool {
	if p.pos >= len(p.s) {
		return false
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.object(name)
	case c == '"':
		v, ok := p.str()
		if ok {
			p.out = append(p.out, wineventlog.Data{Name: name, Value: v})
		}
		return ok
	case c == '[':
		// Arrays stay as their JSON text: a dimension is a single value.
		start := p.pos
		if !p.skip() {
			return false
		}
		p.out = append(p.out, wineventlog.Data{Name: name, Value: p.s[start:p.pos]})
		return true
	default:
		start := p.pos
		for p.pos < len(p.s) && !strings.ContainsRune(",}] \t\r\n", rune(p.s[p.pos])) {
			p.pos++
		}
		lit := p.s[start:p.pos]
		if !validScalar(lit) {
			return false
		}
		if lit == "null" {
			lit = ""
		}
		p.out = append(p.out, wineventlog.Data{Name: name, Value: lit})
		return true
	}
}

// skip passes over one array, checking brackets and strings only.
func (p *jsonFlat) skip() bool {
	depth := 0
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case '"':
			if _, ok := p.str(); !ok {
				return false
			}
			continue
		case '[', '{':
			depth++
			if depth > maxMetricDepth {
				return false
			}
		case ']', '}':
			depth--
			if depth == 0 {
				p.pos++
				return true
			}
		}
		p.pos++
	}
	return false
}

func validScalar(s string) bool {
	switch s {
	case "true", "false", "null":
		return true
	case "":
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

// str reads a JSON string; without escapes it is a substring of the input.
func (p *jsonFlat) str() (string, bool) {
	if p.pos >= len(p.s) || p.s[p.pos] != '"' {
		return "", false
	}
	p.pos++
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '"' {
			v := p.s[start:p.pos]
			p.pos++
			return v, true
		}
		if c == '\\' {
			return p.strEscaped(start)
		}
		if c < 0x20 {
			return "", false
		}
		p.pos++
	}
	return "", false
}

func (p *jsonFlat) strEscaped(start int) (string, bool) {
	var b strings.Builder
	b.WriteString(p.s[start:p.pos])
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b.WriteByte(c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.s) {
			return "", false
		}
		e := p.s[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(utf8.RuneError)
				if p.pos+1 < len(p.s) && p.s[p.pos] == '\\' && p.s[p.pos+1] == 'u' {
					p.pos += 2
					if r2, ok = p.hex4(); !ok {
						return "", false
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return "", false
}

func (p *jsonFlat) hex4() (rune, bool) {
	if p.pos+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := p.s[p.pos+i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	p.pos += 4
	return r, true
}
