package mapping

import (
	"encoding/base64"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The projections write JSON by hand: they run once per event on the hot
// path, and building map[string]any trees for encoding/json costs more than
// the rest of the pipeline together.

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD
// so that a damaged event never makes a whole bulk request unparseable.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
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

// appendTree writes sorted dotted keys as nested JSON object members (no
// surrounding braces). A key that is both a value and a prefix ("a" and
// "a.b") keeps the longer one dotted inside the parent, which Elasticsearch
// and Splunk both accept, rather than emitting a duplicate member.
func appendTree(b []byte, fields []field, first bool) []byte {
	sort.SliceStable(fields, func(i, j int) bool { return lessPath(fields[i].key, fields[j].key) })
	var open []string // segments of currently open objects
	lastLeaf := ""    // last leaf written at the innermost open level
	for i, f := range fields {
		if i > 0 && f.key == fields[i-1].key {
			continue // duplicates: the first (record over resource) wins
		}
		segs := splitDots(f.key)
		// Close objects that are not a prefix of this key.
		common := 0
		for common < len(open) && common < len(segs)-1 && open[common] == segs[common] {
			common++
		}
		for len(open) > common {
			b = append(b, '}')
			lastLeaf = open[len(open)-1]
			open = open[:len(open)-1]
		}
		rest := segs[common:]
		// Open new objects, unless the next segment was just written as a
		// leaf at this level.
		for len(rest) > 1 && rest[0] != lastLeaf {
			if !first {
				b = append(b, ',')
			}
			first = true
			b = appendJSONString(b, rest[0])
			b = append(b, ':', '{')
			open = append(open, rest[0])
			rest = rest[1:]
			lastLeaf = ""
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		name := joinDots(rest)
		b = appendJSONString(b, name)
		b = append(b, ':')
		b = appendJSONValue(b, f.val)
		lastLeaf = name
	}
	for range open {
		b = append(b, '}')
	}
	return b
}

func splitDots(s string) []string {
	n := 1
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			n++
		}
	}
	out := make([]string, 0, n)
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func joinDots(segs []string) string {
	if len(segs) == 1 {
		return segs[0]
	}
	n := len(segs) - 1
	for _, s := range segs {
		n += len(s)
	}
	b := make([]byte, 0, n)
	for i, s := range segs {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, s...)
	}
	return string(b)
}
