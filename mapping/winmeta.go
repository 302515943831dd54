package mapping

import (
	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// The names Windows gives the standard levels, opcodes, tasks and keywords
// (winmeta.xml in the Windows SDK), which Winlogbeat also falls back to when
// an event was not rendered. Writing them for unrendered events gives the
// same winlog.* values whichever export or receiver the event came through,
// and the same values Winlogbeat writes, so shared data views and rules see
// one vocabulary.

// levelNames are the standard levels, lower-cased as winlog.level carries
// them. Level 0 (LogAlways) is shown as Information by Windows.
var levelNames = [...]string{"information", "critical", "error", "warning", "information", "verbose"}

// winlogLevel is winlog.level for the event: the lower-case name of a
// standard level, the lower-cased rendered name of a provider's own level,
// or the level number as text when nothing names it.
func winlogLevel(ev *wineventlog.Event) string {
	switch {
	case ev.Level >= 1 && int(ev.Level) < len(levelNames):
		return levelNames[ev.Level]
	case ev.LevelText != "":
		return strings.ToLower(ev.LevelText)
	case ev.Level == 0:
		return levelNames[0]
	}
	return strconv.FormatUint(uint64(ev.Level), 10)
}

// opcodeName is the standard name of an opcode, "" for provider opcodes.
func opcodeName(op uint8) string {
	switch {
	case op <= 9:
		return [...]string{"Info", "Start", "Stop", "DCStart", "DCStop", "Extension", "Reply", "Resume", "Suspend", "Send"}[op]
	case op == 240:
		return "Receive"
	}
	return ""
}

// taskNone is the standard name of task 0.
const taskNone = "None"

// standardKeywords are the keyword bits every provider shares (bits 48 to
// 55), in bit order, with the names Windows renders for them.
var standardKeywords = [...]struct {
	mask uint64
	name string
}{
	{0x0001000000000000, "Response Time"},
	{0x0002000000000000, "WDI Context"},
	{0x0004000000000000, "WDI Diag"},
	{0x0008000000000000, "SQM"},
	{0x0010000000000000, "Audit Failure"},
	{0x0020000000000000, "Audit Success"},
	{0x0040000000000000, "Correlation Hint"},
	{0x0080000000000000, "Classic"},
}

const standardKeywordBits = 0x00ff000000000000

// keywordNames names the standard bits of a keyword mask, in bit order,
// and writes the other bits (provider keywords and channel bits, whose
// names only the provider's manifest knows) as one hex mask after them.
// one is set instead of list when the result is a single value, which
// needs no slice.
func keywordNames(mask uint64) (one string, list []string) {
	known, rest := mask&standardKeywordBits, mask&^standardKeywordBits
	if rest == 0 && bits.OnesCount64(known) == 1 {
		return keywordNamesUncached(mask)
	}
	// The other answers allocate. A log uses a handful of masks, so the
	// last answer for each slot is kept: the list is shared read-only, as
	// the attribute writer copies it.
	slot := &keywordCache[(mask*0x9E3779B97F4A7C15)>>(64-keywordCacheBits)]
	if k := slot.Load(); k != nil && k.mask == mask {
		return k.one, k.list
	}
	one, list = keywordNamesUncached(mask)
	slot.Store(&keywordText{mask: mask, one: one, list: list})
	return one, list
}

// keywordCacheBits sizes keywordCache: 2^bits slots, each holding the
// answer for one mask.
const keywordCacheBits = 4

type keywordText struct {
	mask uint64
	one  string
	list []string
}

var keywordCache [1 << keywordCacheBits]atomic.Pointer[keywordText]

func keywordNamesUncached(mask uint64) (one string, list []string) {
	known, rest := mask&standardKeywordBits, mask&^standardKeywordBits
	n := bits.OnesCount64(known)
	if rest != 0 {
		n++
	}
	if n == 1 {
		if rest != 0 {
			return hexMask(rest), nil
		}
		for _, k := range standardKeywords {
			if known&k.mask != 0 {
				return k.name, nil
			}
		}
	}
	list = make([]string, 0, n)
	for _, k := range standardKeywords {
		if known&k.mask != 0 {
			list = append(list, k.name)
		}
	}
	if rest != 0 {
		list = append(list, hexMask(rest))
	}
	return "", list
}

// hexMask writes a mask as Windows does in event XML: 0x and lower-case hex.
// One allocation, for the result only.
func hexMask(m uint64) string {
	var buf [18]byte
	return string(strconv.AppendUint(append(buf[:0], "0x"...), m, 16))
}
