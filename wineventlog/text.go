package wineventlog

import (
	"slices"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// appendUTF16 transcodes UTF-16 bytes to UTF-8. Unpaired surrogates and a
// dangling odd byte become U+FFFD so damaged input still yields text.
func appendUTF16(dst, src []byte, bigEndian bool) []byte {
	n := len(src) / 2
	lo, hi := 0, 1
	if bigEndian {
		lo, hi = 1, 0
	}
	// Markup and most values are ASCII: copy those units in a tight loop.
	dst = slices.Grow(dst, n)
	i := 0
	for ; i < n; i++ {
		l, h := src[2*i+lo], src[2*i+hi]
		if h != 0 || l >= 0x80 {
			break
		}
		dst = append(dst, l)
	}
	for ; i < n; i++ {
		var u uint16
		if bigEndian {
			u = uint16(src[2*i])<<8 | uint16(src[2*i+1])
		} else {
			u = uint16(src[2*i]) | uint16(src[2*i+1])<<8
		}
		switch {
		case u < 0x80:
			dst = append(dst, byte(u))
			// Back to ASCII: stay in the fast loop while it lasts.
			for i+1 < n && src[2*i+2+hi] == 0 && src[2*i+2+lo] < 0x80 {
				i++
				dst = append(dst, src[2*i+lo])
			}
		case u < 0xD800 || u > 0xDFFF:
			dst = utf8.AppendRune(dst, rune(u))
		case u < 0xDC00 && i+1 < n:
			var u2 uint16
			if bigEndian {
				u2 = uint16(src[2*i+2])<<8 | uint16(src[2*i+3])
			} else {
				u2 = uint16(src[2*i+2]) | uint16(src[2*i+3])<<8
			}
			if u2 >= 0xDC00 && u2 <= 0xDFFF {
				dst = utf8.AppendRune(dst, utf16.DecodeRune(rune(u), rune(u2)))
				i++
			} else {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			}
		default:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
	}
	if len(src)%2 != 0 {
		dst = utf8.AppendRune(dst, utf8.RuneError)
	}
	return dst
}

// appendValidUTF8 copies b, replacing each invalid byte with U+FFFD
// (bytes.ToValidUTF8 would replace a run of them with one).
func appendValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// parseUint parses decimal digits, or hexadecimal after 0x (Keywords are
// rendered that way). ok is false for empty input, junk or overflow.
func parseUint(b []byte, bits uint) (v uint64, ok bool) {
	b = trimSpace(b)
	if len(b) == 0 {
		return 0, false
	}
	limit := uint64(1)<<bits - 1
	if bits == 64 {
		limit = ^uint64(0)
	}
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
		for _, c := range b {
			var d byte
			switch {
			case c >= '0' && c <= '9':
				d = c - '0'
			case c >= 'a' && c <= 'f':
				d = c - 'a' + 10
			case c >= 'A' && c <= 'F':
				d = c - 'A' + 10
			default:
				return 0, false
			}
			if v > limit>>4 {
				return 0, false
			}
			v = v<<4 | uint64(d)
		}
		return v, v <= limit
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (limit-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseSystemTime reads the RFC 3339 forms Windows writes for SystemTime:
// any number of fractional digits, Z or a numeric offset. time.Parse is
// avoided because it costs more than the rest of an event's decoding.
func parseSystemTime(b []byte) (time.Time, bool) {
	b = trimSpace(b)
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		rest = rest[1:]
		digits := 0
		for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
			if digits < 9 {
				nsec = nsec*10 + int(rest[0]-'0')
				digits++
			}
			rest = rest[1:]
		}
		if digits == 0 {
			return time.Time{}, false
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	offset := 0
	switch {
	case len(rest) == 0:
		// No zone: SystemTime is UTC by definition.
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := num(rest[1:3])
		om, okm := num(rest[4:6])
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// appendGUID appends a GUID in the form event.go promises: braces, upper
// case. Sources differ: wevtutil prints some providers in lower case, and
// PowerShell prints no braces at all.
func appendGUID(dst, g []byte) ([]byte, bool) {
	g = trimSpace(g)
	if len(g) == 38 && g[0] == '{' && g[37] == '}' {
		g = g[1:37]
	}
	if len(g) != 36 {
		return dst, false
	}
	dst = append(dst, '{')
	for i, c := range g {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return dst, false
			}
		case c >= '0' && c <= '9' || c >= 'A' && c <= 'F':
		case c >= 'a' && c <= 'f':
			c -= 'a' - 'A'
		default:
			return dst, false
		}
		dst = append(dst, c)
	}
	return append(dst, '}'), true
}

// isCanonicalGUID reports whether g already has the braced upper-case form,
// so the common case can point into the input instead of copying.
func isCanonicalGUID(g []byte) bool {
	if len(g) != 38 || g[0] != '{' || g[37] != '}' {
		return false
	}
	for i, c := range g[1:37] {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
