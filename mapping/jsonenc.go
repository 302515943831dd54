package mapping

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The projections write JSON by hand: they run once per event on the hot
// path, and building map[string]any trees for encoding/json costs more than
// the rest of the pipeline together.

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s to b as a JSON string, invalid UTF-8 as
// U+FFFD: the one JSON string writer of the module, for the exporters' own
// envelopes (bulk action lines) and the test servers.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD
// so that a damaged event never makes a whole bulk request unparseable.
// The catalog's long texts were escaped when it was loaded (see
// registerEscaped) and are copied as they are.
func appendJSONString(b []byte, s string) []byte {
	if len(s) >= minPreEscaped {
		if j, ok := lookupEscaped(s); ok {
			return append(b, j...)
		}
	}
	return appendJSONStringScan(b, s)
}

// appendJSONStringScan escapes s as it goes. Runs of bytes that need
// nothing are copied whole; multi-byte sequences are checked where they
// occur, so the text is read once.
func appendJSONStringScan(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none of them needs attention: most
		// of what is written is plain ASCII.
		for i+8 <= len(s) && !wordNeedsWork(load64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if !special[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// wordNeedsWork reports whether any byte of x is below 0x20, a quote, a
// backslash, or not ASCII (the classic has-zero-byte bit tricks).
func wordNeedsWork(x uint64) bool {
	lt := (x - ones*0x20) &^ x
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return (lt|((q-ones)&^q)|((bs-ones)&^bs)|x)&highs != 0
}

// load64 reads the first eight bytes of s (at least eight long) as one
// little-endian word. Cutting s to exactly eight bytes first lets the
// compiler drop the bounds checks and merge the byte loads into one.
func load64(s string) uint64 {
	s = s[:8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// special marks bytes that need escaping and the lead bytes of multi-byte
// UTF-8, which need checking.
var special = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

func appendJSONValue(b []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return appendJSONString(b, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(b, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(b, v.Bool())
	case pcommon.ValueTypeBytes:
		raw := v.Bytes().AsRaw()
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, raw)
		return append(b, '"')
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		b = append(b, '[')
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, s.At(i))
		}
		return append(b, ']')
	case pcommon.ValueTypeMap:
		b = append(b, '{')
		first := true
		for k, mv := range v.Map().All() {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONValue(b, mv)
		}
		return append(b, '}')
	default:
		return append(b, "null"...)
	}
}

// field is one flat attribute waiting to be written as a nested object.
type field struct {
	key string
	val pcommon.Value
}

func cmpField(x, y field) int {
	if x.key == y.key {
		return 0
	}
	if lessPath(x.key, y.key) {
		return -1
	}
	return 1
}

// sortFields puts fields in tree order. The enricher writes attributes in
// that order already, so the common case is a linear check.
func sortFields(fields []field) {
	if !slices.IsSortedFunc(fields, cmpField) {
		slices.SortStableFunc(fields, cmpField)
	}
}

// mergeFields merges two sorted lists; on equal keys a's entry comes first,
// and appendTree keeps the first.
func mergeFields(dst, a, c []field) []field {
	i, j := 0, 0
	for i < len(a) && j < len(c) {
		if cmpField(c[j], a[i]) < 0 {
			dst = append(dst, c[j])
			j++
		} else {
			dst = append(dst, a[i])
			i++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, c[j:]...)
}

// lessPath orders dotted keys segment by segment, so that every key under a
// prefix sorts together ("a", "a.b", "a.c", "a-b"), which is what lets the
// writer below open each object once.
func lessPath(x, y string) bool {
	n := min(len(x), len(y))
	for i := 0; i < n; i++ {
		cx, cy := x[i], y[i]
		if cx == cy {
			continue
		}
		if cx == '.' {
			return true
		}
		if cy == '.' {
			return false
		}
		return cx < cy
	}
	return len(x) < len(y)
}

// appendTree writes tree-ordered dotted keys as nested JSON object members (no
// surrounding braces). A key that is both a value and a prefix ("a" and
// "a.b") keeps the longer one dotted inside the parent, which Elasticsearch
// and Splunk both accept, rather than emitting a duplicate member.
func appendTree(b []byte, fields []field, first bool) []byte {
	var ends [16]int // ends[d] = length of the open path at depth d+1
	open := ends[:0] // open objects, as prefix lengths of the current key
	openKey := ""    // path of the innermost open object
	lastLeaf := ""   // last member name written at the innermost level
	for i, f := range fields {
		k := f.key
		if i > 0 && k == fields[i-1].key {
			continue // duplicates: the first (record over resource) wins
		}
		// Close objects this key is not inside.
		for len(open) > 0 && !(len(k) > len(openKey) && k[len(openKey)] == '.' && k[:len(openKey)] == openKey) {
			b = append(b, '}')
			lastLeaf = openKey[lastDot(openKey)+1:]
			open = open[:len(open)-1]
			if len(open) == 0 {
				openKey = ""
			} else {
				openKey = openKey[:open[len(open)-1]]
			}
		}
		rest := k
		if len(open) > 0 {
			rest = k[len(openKey)+1:]
		}
		// Open new objects, unless the next segment was just written as a
		// leaf at this level.
		for {
			dot := strings.IndexByte(rest, '.')
			if dot <= 0 || rest[:dot] == lastLeaf || len(open) == cap(ends) {
				break
			}
			if !first {
				b = append(b, ',')
			}
			first = true
			b = appendJSONString(b, rest[:dot])
			b = append(b, ':', '{')
			openKey = k[:len(k)-len(rest)+dot]
			open = append(open, len(openKey))
			rest = rest[dot+1:]
			lastLeaf = ""
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, rest)
		b = append(b, ':')
		b = appendJSONValue(b, f.val)
		lastLeaf = rest
	}
	for range open {
		b = append(b, '}')
	}
	return b
}

func lastDot(s string) int { return strings.LastIndexByte(s, '.') }
