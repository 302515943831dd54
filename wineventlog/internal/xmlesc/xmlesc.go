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
	start := 0
	for i := 0; i < len(s); {
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
