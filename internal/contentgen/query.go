package contentgen

import (
	"fmt"
	"strings"
)

// A small tokenizer shared by the three query languages the content uses
// (KQL, ES|QL and Splunk's SPL), and per-language readers that list the
// fields a query refers to. It knows only the syntax the content uses, and
// exists so that tests can check every field against the index template
// and the HEC projection instead of trusting a hand-kept list.

// TokKind is a token's kind.
type TokKind uint8

const (
	TokWord   TokKind = iota // identifier, bare value, number, keyword
	TokString                // "quoted"
	TokField                 // 'quoted' (SPL eval) or `quoted` (ES|QL)
	TokOp                    // = == != < <= > >= : + - * / !
	TokLParen
	TokRParen
	TokLBracket
	TokRBracket
	TokPipe
	TokComma
)

// Token is one lexical unit; Text is unquoted for strings.
type Token struct {
	Kind TokKind
	Text string
	Pos  int
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '@' || c == '*' || c == '$' || c >= 0x80
}

// Tokenize splits a query into tokens. A hyphen continues a word ("-15m",
// "logs-intune_connector.*") but stands alone between spaces ("NOW() - 15").
func Tokenize(q string) ([]Token, error) {
	var out []Token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'' || c == '`':
			start := i
			var b strings.Builder
			i++
			closed := false
			for i < len(q) {
				if q[i] == '\\' && c != '`' && i+1 < len(q) {
					b.WriteByte(q[i+1])
					i += 2
					continue
				}
				if q[i] == c {
					closed = true
					i++
					break
				}
				b.WriteByte(q[i])
				i++
			}
			if !closed {
				return out, fmt.Errorf("unterminated %c quote at offset %d", c, start)
			}
			kind := TokString
			if c != '"' {
				kind = TokField
			}
			out = append(out, Token{kind, b.String(), start})
		case c == '(':
			out = append(out, Token{TokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, Token{TokRParen, ")", i})
			i++
		case c == '[':
			out = append(out, Token{TokLBracket, "[", i})
			i++
		case c == ']':
			out = append(out, Token{TokRBracket, "]", i})
			i++
		case c == '|':
			out = append(out, Token{TokPipe, "|", i})
			i++
		case c == ',':
			out = append(out, Token{TokComma, ",", i})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			if i+1 < len(q) && q[i+1] == '=' {
				out = append(out, Token{TokOp, q[i : i+2], i})
				i += 2
			} else {
				out = append(out, Token{TokOp, q[i : i+1], i})
				i++
			}
		case c == ':' || c == '+' || c == '/' || c == '%':
			out = append(out, Token{TokOp, q[i : i+1], i})
			i++
		case c == '-' && (i+1 >= len(q) || !isWordByte(q[i+1])):
			out = append(out, Token{TokOp, "-", i})
			i++
		case isWordByte(c) || c == '-':
			start := i
			i++
			for i < len(q) && (isWordByte(q[i]) || q[i] == '-') {
				i++
			}
			out = append(out, Token{TokWord, q[start:i], start})
		default:
			return out, fmt.Errorf("unexpected character %q at offset %d", c, i)
		}
	}
	return out, nil
}

// QueryFields lists the fields a query refers to, in order of appearance,
// without the names the query itself defines (ES|QL EVAL and STATS
// results, SPL eval and AS names). language is kuery, esql or spl; SPL
// macros are expanded first.
func QueryFields(language, q string) ([]string, error) {
	if language == "spl" {
		var err error
		if q, err = ExpandSPLMacros(q); err != nil {
			return nil, err
		}
	}
	toks, err := Tokenize(q)
	if err != nil {
		return nil, err
	}
	switch language {
	case "kuery", "kql":
		return kqlFields(toks), nil
	case "esql":
		return esqlFields(toks), nil
	case "spl":
		return splFields(toks), nil
	}
	return nil, fmt.Errorf("unknown query language %q", language)
}

// kqlFields: a field is the word before ':' or a range operator.
func kqlFields(toks []Token) []string {
	var out []string
	for i := 0; i+1 < len(toks); i++ {
		t, n := toks[i], toks[i+1]
		if (t.Kind == TokWord || t.Kind == TokString) && n.Kind == TokOp && (n.Text == ":" || n.Text == "<" || n.Text == "<=" || n.Text == ">" || n.Text == ">=") {
			out = append(out, t.Text)
		}
	}
	return out
}

var esqlKeywords = setOf("from", "metadata", "where", "eval", "stats", "by", "and", "or", "not", "in", "is", "null", "like",
	"rlike", "keep", "drop", "sort", "asc", "desc", "nulls", "first", "last", "limit", "rename", "as", "true", "false",
	"second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years")

// esqlFields: after FROM's index list, every identifier that is not a
// keyword, a function name or a number, less the names the query defines.
func esqlFields(toks []Token) []string {
	var out []string
	defined := map[string]bool{}
	cmd := ""
	atCmd := true
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind == TokPipe {
			atCmd = true
			continue
		}
		if atCmd && t.Kind == TokWord {
			cmd = strings.ToLower(t.Text)
			atCmd = false
			continue
		}
		if cmd == "from" || t.Kind == TokString {
			continue
		}
		if t.Kind != TokWord && t.Kind != TokField {
			continue
		}
		low := strings.ToLower(t.Text)
		if t.Kind == TokWord && (esqlKeywords[low] || isNumber(t.Text) || t.Text == "*") {
			continue
		}
		if i+1 < len(toks) && toks[i+1].Kind == TokLParen {
			continue // function
		}
		// "name =" defines a column in EVAL and STATS (not in WHERE, where
		// == compares).
		if (cmd == "eval" || cmd == "stats") && i+1 < len(toks) && toks[i+1].Kind == TokOp && toks[i+1].Text == "=" {
			defined[t.Text] = true
			continue
		}
		if cmd == "rename" && i > 0 && strings.EqualFold(toks[i-1].Text, "as") {
			defined[t.Text] = true
			continue
		}
		if !defined[t.Text] {
			out = append(out, t.Text)
		}
	}
	return out
}

var splKeywords = setOf("and", "or", "not", "in", "as", "by", "over", "where", "null", "true", "false")

// splOptions are command options written name=value that are not fields.
var splOptions = setOf("earliest", "latest", "limit", "span", "useother", "usenull", "showperc", "showcount", "countfield",
	"percentfield", "otherstr", "index_earliest", "index_latest", "max", "maxsearches")

// splFields reads a search pipeline, subsearches included.
func splFields(toks []Token) []string {
	var out []string
	defined := map[string]bool{}
	cmd := "search"
	atCmd := true
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.Kind {
		case TokPipe, TokLBracket:
			atCmd = true
			continue
		case TokRBracket:
			cmd = "search" // back in the outer clause
			continue
		}
		if atCmd {
			atCmd = false
			if t.Kind == TokWord && isSPLCommand(t.Text) {
				cmd = strings.ToLower(t.Text)
				continue
			}
			cmd = "search"
		}
		if t.Kind != TokWord && t.Kind != TokField {
			continue
		}
		low := strings.ToLower(t.Text)
		if t.Kind == TokWord && (splKeywords[low] || isNumber(t.Text)) {
			continue
		}
		next := Token{Kind: TokComma}
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		prev := Token{Kind: TokComma}
		if i > 0 {
			prev = toks[i-1]
		}
		if next.Kind == TokLParen {
			continue // function, or eval(...) inside stats
		}
		if prev.Kind == TokWord && strings.EqualFold(prev.Text, "as") {
			defined[t.Text] = true
			continue
		}
		if low == "count" && t.Kind == TokWord && (cmd == "stats" || cmd == "timechart" || cmd == "chart" || cmd == "eventstats") {
			defined["count"] = true // the bare count aggregation
			continue
		}
		if cmd == "top" || cmd == "rare" {
			defined["count"], defined["percent"] = true, true
		}
		switch cmd {
		case "search", "where":
			if next.Kind == TokOp && splOptions[low] {
				i += 2 // option=value
				continue
			}
			// In a search clause the word after an operator is a value.
			if cmd == "search" && prev.Kind == TokOp {
				continue
			}
			// So are the members of an IN list.
			if cmd == "search" && inList(toks, i) {
				continue
			}
		case "eval":
			if next.Kind == TokOp && next.Text == "=" && (prev.Kind == TokComma || (prev.Kind == TokWord && strings.EqualFold(prev.Text, "eval"))) {
				defined[t.Text] = true
				continue
			}
		case "top", "head", "sort", "dedup", "stats", "timechart", "table", "fields":
			if next.Kind == TokOp && next.Text == "=" && splOptions[low] {
				i += 2
				continue
			}
			if cmd == "head" {
				continue
			}
		}
		if !defined[t.Text] {
			out = append(out, t.Text)
		}
	}
	return out
}

// inList reports whether toks[i] sits inside "IN ( ... )".
func inList(toks []Token, i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch toks[j].Kind {
		case TokComma, TokWord, TokString:
			continue
		case TokLParen:
			return j > 0 && toks[j-1].Kind == TokWord && strings.EqualFold(toks[j-1].Text, "in")
		}
		return false
	}
	return false
}

var splCommands = setOf("search", "where", "eval", "stats", "timechart", "top", "rare", "table", "fields", "dedup", "sort",
	"head", "tail", "rename", "chart", "eventstats", "streamstats", "lookup", "inputlookup", "fillnull")

func isSPLCommand(w string) bool { return splCommands[strings.ToLower(w)] }

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' && !(i == 0 && s[i] == '-') {
			return false
		}
	}
	return s != "-" && s != "."
}

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
