package contentgen

import (
	"fmt"
	"strings"
)

// Doc is a flattened document: dotted field name to its values as text
// (several for arrays).
type Doc map[string][]string

// Flatten turns decoded JSON into a Doc; nested objects become dotted names.
func Flatten(v any) Doc {
	d := Doc{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if prefix != "" {
					k = prefix + "." + k
				}
				walk(k, c)
			}
		case []any:
			for _, c := range x {
				walk(prefix, c)
			}
		case nil:
		default:
			d[prefix] = append(d[prefix], fmt.Sprint(x))
		}
	}
	walk("", v)
	return d
}

// Cond is a boolean condition over a Doc.
type Cond interface {
	Match(d Doc) bool
}

type orCond []Cond
type andCond []Cond
type notCond struct{ c Cond }
type anyCond struct{}

// eqCond matches when the field has one of the values; "*" matches any
// value. fold compares case-insensitively, as Splunk does.
type eqCond struct {
	field  string
	values []string
	neg    bool
	fold   bool
}

func (c orCond) Match(d Doc) bool {
	for _, x := range c {
		if x.Match(d) {
			return true
		}
	}
	return false
}

func (c andCond) Match(d Doc) bool {
	for _, x := range c {
		if !x.Match(d) {
			return false
		}
	}
	return true
}

func (c notCond) Match(d Doc) bool { return !c.c.Match(d) }
func (anyCond) Match(Doc) bool     { return true }

func (c eqCond) Match(d Doc) bool {
	got := d[c.field]
	hit := false
	for _, want := range c.values {
		for _, g := range got {
			if want == "*" || g == want || c.fold && strings.EqualFold(g, want) {
				hit = true
			}
		}
	}
	if c.neg {
		return len(got) > 0 && !hit
	}
	return hit
}

// Pairs lists the field/value pairs of a condition that must or may hold,
// for reports when a sample does not match.
func Pairs(c Cond) []string {
	switch x := c.(type) {
	case orCond:
		var out []string
		for _, y := range x {
			out = append(out, Pairs(y)...)
		}
		return out
	case andCond:
		var out []string
		for _, y := range x {
			out = append(out, Pairs(y)...)
		}
		return out
	case notCond:
		return nil
	case eqCond:
		return []string{x.field + "=" + strings.Join(x.values, "|")}
	}
	return nil
}

// parser is a recursive-descent reader of the boolean part of KQL, of
// Splunk's search clause and of ES|QL's WHERE, which share a shape:
// or-of-and-of-not-of-comparisons with parentheses.
type parser struct {
	toks []Token
	i    int
	lang string // kuery, spl, esql
}

func (p *parser) peek() (Token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return Token{}, false
}

func (p *parser) isWord(w string) bool {
	t, ok := p.peek()
	return ok && t.Kind == TokWord && strings.EqualFold(t.Text, w)
}

// ParseKQL parses the subset of KQL the rules use: field: value,
// field: (a or b), and/or/not and parentheses.
func ParseKQL(q string) (Cond, error) {
	toks, err := Tokenize(q)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return anyCond{}, nil
	}
	p := &parser{toks: toks, lang: "kuery"}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(toks) {
		return nil, fmt.Errorf("unexpected %q at offset %d", toks[p.i].Text, toks[p.i].Pos)
	}
	return c, nil
}

// ParseSPLSearch parses the first clause of a Splunk search, up to its
// first pipe: terms are ANDed, OR, NOT, field=value, field!=value,
// field IN (...) and parentheses. Time modifiers match everything. The
// app's macros are expanded first.
func ParseSPLSearch(q string) (Cond, error) {
	q, err := ExpandSPLMacros(q)
	if err != nil {
		return nil, err
	}
	toks, err := Tokenize(q)
	if err != nil {
		return nil, err
	}
	end := len(toks)
	for i, t := range toks {
		if t.Kind == TokPipe {
			end = i
			break
		}
	}
	toks = toks[:end]
	if len(toks) > 0 && toks[0].Kind == TokWord && strings.EqualFold(toks[0].Text, "search") {
		toks = toks[1:]
	}
	if len(toks) == 0 {
		return anyCond{}, nil
	}
	p := &parser{toks: toks, lang: "spl"}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(toks) {
		return nil, fmt.Errorf("unexpected %q at offset %d", toks[p.i].Text, toks[p.i].Pos)
	}
	return c, nil
}

// ParseESQLWhere parses the condition of the WHERE command that filters
// an ES|QL query's documents, before any STATS (field IN (...),
// field == "x", and/or/not); a query without one matches every document.
func ParseESQLWhere(q string) (Cond, error) {
	toks, err := Tokenize(q)
	if err != nil {
		return nil, err
	}
	start, end := -1, len(toks)
	for i, t := range toks {
		if start < 0 && t.Kind == TokWord && strings.EqualFold(t.Text, "stats") && i > 0 && toks[i-1].Kind == TokPipe {
			break
		}
		if start < 0 && t.Kind == TokWord && strings.EqualFold(t.Text, "where") && i > 0 && toks[i-1].Kind == TokPipe {
			start = i + 1
			continue
		}
		if start >= 0 && t.Kind == TokPipe {
			end = i
			break
		}
	}
	if start < 0 {
		return anyCond{}, nil
	}
	p := &parser{toks: toks[start:end], lang: "esql"}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q in WHERE", p.toks[p.i].Text)
	}
	return c, nil
}

func (p *parser) or() (Cond, error) {
	var out orCond
	for {
		c, err := p.and()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if !p.isWord("or") {
			break
		}
		p.i++
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *parser) and() (Cond, error) {
	var out andCond
	for {
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if p.isWord("and") {
			p.i++
			continue
		}
		// Splunk ANDs adjacent terms.
		if t, ok := p.peek(); p.lang == "spl" && ok && t.Kind != TokRParen && !p.isWord("or") {
			continue
		}
		break
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *parser) not() (Cond, error) {
	if p.isWord("not") {
		p.i++
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return notCond{c}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Cond, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("condition ends early")
	}
	if t.Kind == TokLParen {
		p.i++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if r, ok := p.peek(); !ok || r.Kind != TokRParen {
			return nil, fmt.Errorf("missing ) for ( at offset %d", t.Pos)
		}
		p.i++
		return c, nil
	}
	if t.Kind != TokWord && t.Kind != TokString && t.Kind != TokField {
		return nil, fmt.Errorf("expected a field at offset %d, found %q", t.Pos, t.Text)
	}
	field := t.Text
	p.i++
	op, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("%s has no comparison", field)
	}
	switch {
	case op.Kind == TokWord && strings.EqualFold(op.Text, "in") && p.lang != "kuery":
		p.i++
		vals, err := p.list(TokComma)
		if err != nil {
			return nil, err
		}
		return eqCond{field: field, values: vals, fold: p.lang == "spl"}, nil
	case op.Kind == TokOp && (op.Text == ":" && p.lang == "kuery" || op.Text == "=" && p.lang == "spl" || op.Text == "==" && p.lang == "esql" || op.Text == "!=" && p.lang != "kuery"):
		p.i++
		if p.lang == "spl" && splOptions[strings.ToLower(field)] {
			if _, err := p.value(); err != nil {
				return nil, err
			}
			return anyCond{}, nil
		}
		if p.lang == "kuery" {
			if n, ok := p.peek(); ok && n.Kind == TokLParen {
				p.i++
				vals, err := p.kqlValues()
				if err != nil {
					return nil, err
				}
				return eqCond{field: field, values: vals}, nil
			}
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		return eqCond{field: field, values: []string{v}, neg: op.Text == "!=", fold: p.lang == "spl"}, nil
	}
	return nil, fmt.Errorf("unsupported comparison %q after %s at offset %d", op.Text, field, op.Pos)
}

func (p *parser) value() (string, error) {
	t, ok := p.peek()
	if !ok || (t.Kind != TokWord && t.Kind != TokString) {
		return "", fmt.Errorf("expected a value")
	}
	p.i++
	return t.Text, nil
}

// list reads "( v sep v ... )".
func (p *parser) list(sep TokKind) ([]string, error) {
	if t, ok := p.peek(); !ok || t.Kind != TokLParen {
		return nil, fmt.Errorf("expected ( after IN")
	}
	p.i++
	var vals []string
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		t, ok := p.peek()
		if !ok {
			return nil, fmt.Errorf("missing ) after IN list")
		}
		p.i++
		if t.Kind == TokRParen {
			return vals, nil
		}
		if t.Kind != sep {
			return nil, fmt.Errorf("unexpected %q in IN list", t.Text)
		}
	}
}

// kqlValues reads "a or b or c)" after the opening parenthesis.
func (p *parser) kqlValues() ([]string, error) {
	var vals []string
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		if p.isWord("or") {
			p.i++
			continue
		}
		t, ok := p.peek()
		if !ok || t.Kind != TokRParen {
			return nil, fmt.Errorf("expected or or ) in a value list")
		}
		p.i++
		return vals, nil
	}
}
