package wineventlog

import (
	"bytes"
	"strconv"
	"strings"
)

// Both parsers keep all strings of an event in one allocation: when the
// original is kept, values without escapes are substrings of Event.Original
// and the rest is appended behind it; otherwise the values alone are
// copied. Positions inside that final string are kept as spans until the
// end of parsing, when builder.finish makes the string and the fields.

// span is a range of the final string; off < 0 marks an absent value.
type span struct{ off, end int32 }

var noSpan = span{-1, -1}

type dataSpan struct{ name, value span }

// fieldSpans are the Event's string fields while parsing.
type fieldSpans struct {
	provName, provGUID, evSrc, activity, related, channel, computer, sid span
	message, levelText, taskText, opcodeText, udRoot                     span
}

var noFields = fieldSpans{noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan, noSpan}

type sysNums struct {
	qualifiers uint16
	version    uint8
	opcode     uint8
	pid, tid   uint32
}

// sysHas records which optional System numbers an event carries.
type sysHas struct{ q, v, op, pid, tid bool }

func (h sysHas) any() bool { return h.q || h.v || h.op || h.pid || h.tid }

// setOptional points ev's optional number fields at nums, a copy of n, for
// the ones the event carries: one allocation for all of them, made by the
// caller (see newItems).
func (n sysNums) setOptional(ev *Event, has sysHas, nums *sysNums) {
	if !has.any() {
		return
	}
	*nums = n
	if has.q {
		ev.Qualifiers = &nums.qualifiers
	}
	if has.v {
		ev.Version = &nums.version
	}
	if has.op {
		ev.Opcode = &nums.opcode
	}
	if has.pid {
		ev.ProcessID = &nums.pid
	}
	if has.tid {
		ev.ThreadID = &nums.tid
	}
}

// builder is the part of a parser that collects one event: the input, the
// text that is not a substring of it, and the spans of every field.
type builder struct {
	b     []byte
	keep  bool // Original wanted: spans may point into b
	base  int  // offset of extra within the final string, b uncut
	extra []byte

	ev  Event
	f   fieldSpans
	ed  []dataSpan
	ud  []dataSpan
	kw  []span
	num sysNums
	has sysHas
}

func (p *builder) reset(b []byte, keep bool) {
	p.b, p.keep = b, keep
	p.base = 0
	if keep {
		p.base = len(b)
	}
	p.extra = p.extra[:0]
	p.ev = Event{}
	p.f = noFields
	p.ed, p.ud, p.kw = p.ed[:0], p.ud[:0], p.kw[:0]
	p.num = sysNums{}
	p.has = sysHas{}
}

// drop forgets the caller's input before the parser goes back to its pool,
// and scratch space a rare huge event made large.
func (p *builder) drop() {
	p.b = nil
	if cap(p.extra) > 64<<10 {
		p.extra = nil
	}
}

// ref makes a span for b[s:e], copying only when the original is not kept.
func (p *builder) ref(s, e int) span {
	if p.keep {
		return span{int32(s), int32(e)}
	}
	off := len(p.extra)
	p.extra = append(p.extra, p.b[s:e]...)
	return p.since(off)
}

// since is the span of what was appended to extra from off on.
func (p *builder) since(off int) span {
	return span{int32(p.base + off), int32(p.base + len(p.extra))}
}

// addText stores a string the input does not hold as such.
func (p *builder) addText(t string) span {
	off := len(p.extra)
	p.extra = append(p.extra, t...)
	return p.since(off)
}

// spanBytes reads a span back before the final string exists.
func (p *builder) spanBytes(s span) []byte {
	if s.off < 0 || s.end <= s.off {
		return nil
	}
	if int(s.off) >= p.base {
		return p.extra[int(s.off)-p.base : int(s.end)-p.base]
	}
	return p.b[s.off:s.end]
}

// finish builds the one string all fields point into, from the input up to
// end and the extra text, and fills the Event; Original is b[start:end].
func (p *builder) finish(start, end int) {
	var sb strings.Builder
	size := len(p.extra)
	if p.keep {
		size += end
	}
	sb.Grow(size)
	if p.keep {
		sb.Write(p.b[:end])
	}
	sb.Write(p.extra)
	all := sb.String()
	// Spans into extra were made with base len(p.b); the input is cut to end.
	shift := int32(p.base - len(all) + len(p.extra))
	base := int32(p.base)
	get := func(s span) string {
		if s.off < 0 {
			return ""
		}
		if s.off >= base {
			return all[s.off-shift : s.end-shift]
		}
		return all[s.off:s.end]
	}
	ev := &p.ev
	if p.keep {
		ev.Original = all[start:end]
	}
	ev.ProviderName = get(p.f.provName)
	ev.ProviderGUID = get(p.f.provGUID)
	ev.EventSourceName = get(p.f.evSrc)
	ev.ActivityID = get(p.f.activity)
	ev.RelatedActivityID = get(p.f.related)
	ev.Channel = get(p.f.channel)
	ev.Computer = get(p.f.computer)
	ev.UserSID = get(p.f.sid)
	ev.Message = get(p.f.message)
	ev.LevelText = get(p.f.levelText)
	ev.TaskText = get(p.f.taskText)
	ev.OpcodeText = get(p.f.opcodeText)
	ev.UserDataRoot = get(p.f.udRoot)
	if len(p.kw) > 0 {
		ev.KeywordsText = make([]string, len(p.kw))
		for k, s := range p.kw {
			ev.KeywordsText[k] = get(s)
		}
	}
	var nums *sysNums
	if n := len(p.ed) + len(p.ud); n > 0 {
		var items []Data
		items, nums = newItems(n, p.has.any())
		for k, d := range p.ed {
			items[k] = Data{Name: get(d.name), Value: get(d.value)}
		}
		for k, d := range p.ud {
			items[len(p.ed)+k] = Data{Name: get(d.name), Value: get(d.value)}
		}
		if len(p.ed) > 0 {
			ev.EventData = items[:len(p.ed):len(p.ed)]
		}
		if len(p.ud) > 0 {
			ev.UserData = items[len(p.ed):]
		}
	}
	if nums == nil && p.has.any() {
		nums = new(sysNums)
	}
	p.num.setOptional(ev, p.has, nums)
}

// newItems makes an event's n data items and, when withNums, the home of
// its optional numbers: one allocation for both at the usual sizes, where
// the unused items cost less than the second allocation did.
func newItems(n int, withNums bool) ([]Data, *sysNums) {
	if withNums {
		switch {
		case n <= 4:
			b := new(itemBlock[[4]Data])
			return b.items[:n:n], &b.nums
		case n <= 6:
			b := new(itemBlock[[6]Data])
			return b.items[:n:n], &b.nums
		case n <= 8:
			b := new(itemBlock[[8]Data])
			return b.items[:n:n], &b.nums
		case n <= 12:
			b := new(itemBlock[[12]Data])
			return b.items[:n:n], &b.nums
		case n <= 16:
			b := new(itemBlock[[16]Data])
			return b.items[:n:n], &b.nums
		}
		return make([]Data, n), new(sysNums)
	}
	return make([]Data, n), nil
}

// itemBlock is an event's data items (an array of a few sizes) and its
// optional numbers in one object.
type itemBlock[A any] struct {
	items A
	nums  sysNums
}

// guid stores raw as a GUID in the form Event documents (braces, upper
// case). ok is false, and nothing is stored, when raw is not a GUID.
func (p *builder) guid(raw []byte) (span, bool) {
	off := len(p.extra)
	var ok bool
	p.extra, ok = appendGUID(p.extra, raw)
	if !ok {
		p.extra = p.extra[:off]
		return noSpan, false
	}
	return p.since(off), true
}

// syntaxError is a parser's view of damage, in bytes of the parsed input.
type syntaxError struct {
	pos int
	msg string
	// truncated: the input ended inside the event; a stream decoder reads
	// more and tries again.
	truncated bool
	// cutAt >= 0: a new <Event> starts there before this one ended.
	cutAt int
	// notEvent: well-formed, but not an event of any export this package
	// reads.
	notEvent bool
}

func (e *syntaxError) Error() string { return e.msg }

// decodeError turns a parser error into the public form. base is the
// input offset of the parsed bytes; utf16 marks bytes that were transcoded,
// whose positions are not source offsets.
func decodeError(f Format, e *syntaxError, off, end, base int64, utf16 bool) *DecodeError {
	var where string
	if utf16 {
		where = "at byte " + strconv.Itoa(e.pos) + " of the event (counted in UTF-8)"
	} else {
		where = "at byte " + strconv.FormatInt(base+int64(e.pos), 10)
	}
	return &DecodeError{Format: f, Offset: off, End: end, Reason: where + ": " + e.msg}
}

// parenthesised reports a value wrapped in ( and ), as Windows shows an
// absent category.
func parenthesised(b []byte) bool {
	return bytes.HasPrefix(b, []byte("(")) && bytes.HasSuffix(b, []byte(")"))
}
