package contentgen

import (
	"fmt"
	"strings"
)

// The Splunk app reaches the collector's events through one search macro:
// the exporter's ready config writes to the index "intune", which a role's
// default search indexes do not include, so searches that name no index
// find nothing on a fresh installation. Every search the app ships starts
// with the macro, and an admin who uses another index redefines it once
// (local/macros.conf) instead of editing every search.
const (
	// SplunkIndexMacro is the macro's name.
	SplunkIndexMacro = "intune_connector_index"
	// DefaultSplunkIndex is the index the macro searches unless redefined:
	// the default of index in config/splunk.yaml.
	DefaultSplunkIndex = "intune"
)

// splunkBase is the start of every Splunk search the app ships.
var splunkBase = "`" + SplunkIndexMacro + "` sourcetype=\"" + Sourcetype + "\""

// SplunkMacros returns the app's search macros by name with their
// definitions, as macros.conf declares them.
func SplunkMacros() map[string]string {
	return map[string]string{SplunkIndexMacro: "index=" + DefaultSplunkIndex}
}

// ExpandSPLMacros replaces every `macro` in a search with the app's
// definition of it, in parentheses, as Splunk does before it runs the
// search. A macro the app does not define is an error: Splunk would refuse
// the search.
func ExpandSPLMacros(q string) (string, error) {
	defs := SplunkMacros()
	var b strings.Builder
	for {
		start := strings.IndexByte(q, '`')
		if start < 0 {
			b.WriteString(q)
			return b.String(), nil
		}
		end := strings.IndexByte(q[start+1:], '`')
		if end < 0 {
			return "", fmt.Errorf("unterminated macro at offset %d", start)
		}
		name := q[start+1 : start+1+end]
		def, ok := defs[name]
		if !ok {
			return "", fmt.Errorf("macro `%s` is not defined by the app (macros.conf)", name)
		}
		b.WriteString(q[:start])
		b.WriteString("(" + def + ")")
		q = q[start+end+2:]
	}
}

// UsesIndexMacro reports whether a search starts (after an optional
// "search" command) with the index macro, so that it reads the index the
// collector writes to.
func UsesIndexMacro(q string) bool {
	q = strings.TrimSpace(q)
	if w, rest, ok := strings.Cut(q, " "); ok && strings.EqualFold(w, "search") {
		q = strings.TrimSpace(rest)
	}
	return strings.HasPrefix(q, "`"+SplunkIndexMacro+"`")
}
