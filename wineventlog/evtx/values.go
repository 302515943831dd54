package evtx

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Substitution value types (MS-EVEN6 2.2.18).
const (
	typeNull       = 0x00
	typeString     = 0x01
	typeAnsiString = 0x02
	typeInt8       = 0x03
	typeUInt8      = 0x04
	typeInt16      = 0x05
	typeUInt16     = 0x06
	typeInt32      = 0x07
	typeUInt32     = 0x08
	typeInt64      = 0x09
	typeUInt64     = 0x0a
	typeReal32     = 0x0b
	typeReal64     = 0x0c
	typeBool       = 0x0d
	typeBinary     = 0x0e
	typeGUID       = 0x0f
	typeSizeT      = 0x10
	typeFileTime   = 0x11
	typeSysTime    = 0x12
	typeSID        = 0x13
	typeHexInt32   = 0x14
	typeHexInt64   = 0x15
	typeEvtHandle  = 0x20
	typeBinXML     = 0x21
	typeEvtXML     = 0x23
	typeArray      = 0x80
)

// fixedSize is the element size of fixed-width types, used to split arrays;
// zero for variable-width types.
func fixedSize(t byte) int {
	switch t {
	case typeInt8, typeUInt8:
		return 1
	case typeInt16, typeUInt16:
		return 2
	case typeInt32, typeUInt32, typeReal32, typeBool, typeHexInt32:
		return 4
	case typeInt64, typeUInt64, typeReal64, typeFileTime, typeHexInt64:
		return 8
	case typeGUID, typeSysTime:
		return 16
	}
	return 0
}

// appendValue renders a non-BinXML value the way Windows renders it in event
// XML, so that Original reads like wevtutil output and the Event fields
// compare equal to what the XML decoder extracts from an exported file. It
// is one case per value type, a table best read whole.
func appendValue(dst []byte, t byte, b []byte) []byte {
	if t&typeArray != 0 {
		return appendArray(dst, t&^typeArray, b)
	}
	switch t {
	case typeNull:
		return dst
	case typeString, typeEvtXML:
		return appendUTF16(dst, trimNUL16(b))
	case typeAnsiString:
		return appendAnsi(dst, b)
	case typeInt8:
		if len(b) >= 1 {
			return strconv.AppendInt(dst, int64(int8(b[0])), 10)
		}
	case typeUInt8:
		if len(b) >= 1 {
			return strconv.AppendUint(dst, uint64(b[0]), 10)
		}
	case typeInt16:
		if len(b) >= 2 {
			return strconv.AppendInt(dst, int64(int16(binary.LittleEndian.Uint16(b))), 10)
		}
	case typeUInt16:
		if len(b) >= 2 {
			return strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(b)), 10)
		}
	case typeInt32:
		if len(b) >= 4 {
			return strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b))), 10)
		}
	case typeUInt32:
		if len(b) >= 4 {
			return strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b)), 10)
		}
	case typeInt64:
		if len(b) >= 8 {
			return strconv.AppendInt(dst, int64(binary.LittleEndian.Uint64(b)), 10)
		}
	case typeUInt64:
		if len(b) >= 8 {
			return strconv.AppendUint(dst, binary.LittleEndian.Uint64(b), 10)
		}
	case typeReal32:
		if len(b) >= 4 {
			return strconv.AppendFloat(dst, float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 'g', -1, 32)
		}
	case typeReal64:
		if len(b) >= 8 {
			return strconv.AppendFloat(dst, math.Float64frombits(binary.LittleEndian.Uint64(b)), 'g', -1, 64)
		}
	case typeBool:
		// Providers write BOOL as 32 bits but some write 1, 2 or 8 bytes,
		// and values other than 0 and 1 occur; Windows treats any non-zero
		// value as true.
		if len(b) > 0 {
			if leUint(b) != 0 {
				return append(dst, "true"...)
			}
			return append(dst, "false"...)
		}
	case typeBinary:
		return appendHexUpper(dst, b)
	case typeGUID:
		if len(b) >= 16 {
			return appendGUID(dst, b)
		}
	case typeSizeT, typeHexInt32, typeHexInt64, typeEvtHandle:
		if len(b) > 0 && len(b) <= 8 {
			dst = append(dst, "0x"...)
			return strconv.AppendUint(dst, leUint(b), 16)
		}
	case typeFileTime:
		if len(b) >= 8 {
			return appendTime(dst, filetime(binary.LittleEndian.Uint64(b)), 7)
		}
	case typeSysTime:
		if len(b) >= 16 {
			return appendSysTime(dst, b)
		}
	case typeSID:
		return appendSID(dst, b)
	}
	// Sizes that do not fit the type: show the bytes rather than lose them.
	return appendHexUpper(dst, b)
}

// appendArray renders an array in a single string, items separated by
// commas, for where the element cannot be repeated (an attribute, mixed
// content).
func appendArray(dst []byte, t byte, b []byte) []byte {
	items := splitArray(t, b, nil)
	for i, it := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendValue(dst, t, it)
	}
	return dst
}

// splitArray cuts an array value into its items. String arrays are
// NUL-terminated UTF-16 strings; fixed-width types are cut by size.
func splitArray(t byte, b []byte, items [][]byte) [][]byte {
	switch t {
	case typeString:
		start := 0
		for i := 0; i+1 < len(b); i += 2 {
			if b[i] == 0 && b[i+1] == 0 {
				items = append(items, b[start:i])
				start = i + 2
			}
		}
		if start < len(b)-1 {
			items = append(items, b[start:len(b)&^1])
		}
	case typeAnsiString:
		start := 0
		for i := 0; i < len(b); i++ {
			if b[i] == 0 {
				items = append(items, b[start:i])
				start = i + 1
			}
		}
		if start < len(b) {
			items = append(items, b[start:])
		}
	default:
		n := fixedSize(t)
		if t == typeSizeT {
			n = 8
			if len(b)%8 != 0 {
				n = 4
			}
		}
		if n == 0 {
			return append(items, b)
		}
		for i := 0; i+n <= len(b); i += n {
			items = append(items, b[i:i+n])
		}
	}
	return items
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0 && i < 8; i-- {
		v = v<<8 | uint64(b[i])
	}
	if len(b) > 8 {
		v = binary.LittleEndian.Uint64(b)
	}
	return v
}

func trimNUL16(b []byte) []byte {
	b = b[:len(b)&^1]
	for len(b) >= 2 && b[len(b)-1] == 0 && b[len(b)-2] == 0 {
		b = b[:len(b)-2]
	}
	return b
}

// appendUTF16 decodes UTF-16LE. Unpaired surrogates become U+FFFD: the
// output must be valid UTF-8 for every consumer downstream.
func appendUTF16(dst []byte, b []byte) []byte {
	n := len(b) / 2
	i := 0
	// Most event text is ASCII; copy it without rune handling, four
	// characters at a time while it lasts.
	dst = slices.Grow(dst, n)
	for ; i+4 <= n; i += 4 {
		v := binary.LittleEndian.Uint64(b[2*i:])
		if v&0xff80ff80ff80ff80 != 0 {
			break
		}
		dst = append(dst, byte(v), byte(v>>16), byte(v>>32), byte(v>>48))
	}
	for ; i < n; i++ {
		c := uint16(b[2*i]) | uint16(b[2*i+1])<<8
		if c >= 0x80 {
			break
		}
		dst = append(dst, byte(c))
	}
	for ; i < n; i++ {
		c := rune(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
		switch {
		case c < 0x80:
			dst = append(dst, byte(c))
			continue
		case utf16.IsSurrogate(c):
			if c < 0xdc00 && i+1 < n {
				c2 := rune(uint16(b[2*i+2]) | uint16(b[2*i+3])<<8)
				if r := utf16.DecodeRune(c, c2); r != utf8.RuneError {
					dst = utf8.AppendRune(dst, r)
					i++
					continue
				}
			}
			c = utf8.RuneError
		}
		dst = utf8.AppendRune(dst, c)
	}
	return dst
}

// appendAnsi decodes an AnsiString. The code page is not recorded in the
// file; valid UTF-8 is kept and anything else is read as Windows-1252's
// ISO-8859-1 subset so no byte is lost.
func appendAnsi(dst []byte, b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for _, c := range b {
		dst = utf8.AppendRune(dst, rune(c))
	}
	return dst
}

const hexUpper = "0123456789ABCDEF"

func appendHexUpper(dst []byte, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexUpper[c>>4], hexUpper[c&15])
	}
	return dst
}

func appendHexBE(dst []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		dst = append(dst, hexUpper[(v>>(4*uint(i)))&15])
	}
	return dst
}

func appendGUID(dst []byte, b []byte) []byte {
	dst = append(dst, '{')
	dst = appendHexBE(dst, uint64(binary.LittleEndian.Uint32(b[0:4])), 8)
	dst = append(dst, '-')
	dst = appendHexBE(dst, uint64(binary.LittleEndian.Uint16(b[4:6])), 4)
	dst = append(dst, '-')
	dst = appendHexBE(dst, uint64(binary.LittleEndian.Uint16(b[6:8])), 4)
	dst = append(dst, '-')
	dst = appendHexUpper(dst, b[8:10])
	dst = append(dst, '-')
	dst = appendHexUpper(dst, b[10:16])
	return append(dst, '}')
}

// filetimeEpochDelta is the number of 100 ns intervals between 1601-01-01 and
// 1970-01-01.
const filetimeEpochDelta = 116444736000000000

func filetime(ft uint64) time.Time {
	// Split before converting so that times before 1970 and far future
	// values do not overflow int64 nanoseconds.
	d := int64(ft/10000000) - filetimeEpochDelta/10000000
	ns := int64(ft%10000000) * 100
	return time.Unix(d, ns).UTC()
}

// appendTime renders like Windows: seconds with a fraction of the given
// number of digits and a Z.
func appendTime(dst []byte, t time.Time, digits int) []byte {
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	dst = append(dst, '.')
	frac := t.Nanosecond()
	div := 1000000000
	for i := 0; i < digits; i++ {
		div /= 10
		dst = append(dst, byte('0'+frac/div%10))
	}
	return append(dst, 'Z')
}

func appendSysTime(dst []byte, b []byte) []byte {
	u := func(i int) int { return int(binary.LittleEndian.Uint16(b[2*i:])) }
	t := time.Date(u(0), time.Month(u(1)), u(3), u(4), u(5), u(6), u(7)*1000000, time.UTC)
	return appendTime(dst, t, 3)
}

func appendSID(dst []byte, b []byte) []byte {
	if len(b) < 8 || int(b[1])*4+8 > len(b) {
		return appendHexUpper(dst, b)
	}
	dst = append(dst, "S-"...)
	dst = strconv.AppendUint(dst, uint64(b[0]), 10)
	dst = append(dst, '-')
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	if auth >= 1<<32 {
		dst = append(dst, "0x"...)
		dst = appendHexBE(dst, auth, 12)
	} else {
		dst = strconv.AppendUint(dst, auth, 10)
	}
	for i := 0; i < int(b[1]); i++ {
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10)
	}
	return dst
}
