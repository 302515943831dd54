// Package xmlesc is the one XML escaper of the event log writers: the XML
// exports wineventlog writes and the EVTX records the evtx reader renders.
package xmlesc

import (
	"unicode/utf8"
)

// Append appends s escaped as XML character data (quote 0) or as an
// attribute value between the given quotes (' or ").
//
// What XML cannot carry is decided once, here:
//   - NUL, U+FFFE, U+FFFF and invalid UTF-8 become U+FFFD. They are not XML
//     1.0 characters, and a character reference to them is not well-formed
//     either (XML 1.0, WFC: Legal Character), so no spelling would survive
//     a conforming parser.
//   - Other C0 controls (U+0001 to U+001F but tab, LF and CR) become
//     character references such as &#x1;. Strict XML 1.0 refuses those too,
//     but XML 1.1 allows them and wineventlog's decoder reads them, and
//     replacing them would change event data that Windows recorded.
//   - In attribute values tab, LF and CR are written as references, because
//     attribute-value normalisation would turn them into spaces.
func Append(dst []byte, s string, quote byte) []byte {
	var plain *[256]bool
	switch quote {
	case 0:
		plain = &plainText
	case '"':
		plain = &plainDoubleQuoted
	case '\'':
		plain = &plainSingleQuoted
	}
	return appendEscaped(dst, s, quote, plain)
}

// appendEscaped is Append with the table of bytes that need no escaping
// for this quote, nil to look at every byte.
func appendEscaped(dst []byte, s string, quote byte, plain *[256]bool) []byte {
	start := 0
	for i := 0; i < len(s); {
		// Most text needs no escaping: skip what is plain with one table
		// look-up a byte before deciding on the rest.
		if plain != nil {
			for i < len(s) && plain[s[i]] {
				i++
			}
			if i == len(s) {
				break
			}
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\uFFFD"...)
				start = i + n
			}
			i += n
			continue
		}
		var esc string
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '\'' && quote == '\'':
			esc = "&apos;"
		case c == '"' && quote == '"':
			esc = "&quot;"
		case c == 0:
			esc = "\uFFFD"
		case c < 0x20 && (quote != 0 || c != '\t' && c != '\n' && c != '\r'):
			dst = append(dst, s[start:i]...)
			dst = append(dst, '&', '#', 'x')
			if c >= 0x10 {
				dst = append(dst, hexDigits[c>>4])
			}
			dst = append(dst, hexDigits[c&0xF], ';')
			i++
			start = i
			continue
		default:
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

const hexDigits = "0123456789abcdef"

// The plain tables mark the ASCII bytes that Append copies as they are,
// for character data and for attribute values in either quotes.
var plainText, plainDoubleQuoted, plainSingleQuoted = plainTable(0), plainTable('"'), plainTable('\'')

func plainTable(quote byte) (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['&'], t['<'], t['>'] = false, false, false
	if quote != 0 {
		t[quote] = false
	} else {
		t['\t'], t['\n'], t['\r'] = true, true, true
	}
	return t
}
