// Command ottlgen prints the transform processor configuration that the
// stock contrib stack of bench/e2e uses to do, in OTTL, a part of what the
// intune_connector receiver does: parse the event XML, pull out the System
// fields, and add each catalog event's name, outcome, severity,
// description and remediation by event ID, and winlog.level as the
// lower-case level name. (The legacy diagnostic-code table, EventData field
// mapping and fingerprints are left out, so the stock stack does less work
// per event than otelcol-intune.)
package main

import (
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func main() {
	var b strings.Builder
	b.WriteString("processors:\n  transform:\n    error_mode: ignore\n    log_statements:\n      - context: log\n        statements:\n")
	stmt := func(s string) {
		// A YAML single-quoted scalar: only ' needs doubling.
		fmt.Fprintf(&b, "          - '%s'\n", strings.ReplaceAll(s, "'", "''"))
	}
	stmt(`set(cache["xml"], ParseXML(body))`)
	for attr, re := range map[string]string{
		"event.code":            `<EventID[^>]*>(?P<v>[0-9]+)</EventID>`,
		"winlog.record_id":      `<EventRecordID>(?P<v>[0-9]+)</EventRecordID>`,
		"winlog.channel":        `<Channel>(?P<v>[^<]*)</Channel>`,
		"winlog.computer_name":  `<Computer>(?P<v>[^<]*)</Computer>`,
		"winlog.provider_name":  `<Provider Name=.(?P<v>[^'"]*)`,
		"winlog.level":          `<Level>(?P<v>[0-9]+)</Level>`,
		"winlog.time_created":   `SystemTime=.(?P<v>[^'"]*)`,
		"winlog.process.pid":    `ProcessID=.(?P<v>[0-9]+)`,
		"winlog.process.thread": `ThreadID=.(?P<v>[0-9]+)`,
	} {
		stmt(fmt.Sprintf(`set(cache["m"], ExtractPatterns(body, %s))`, quote(re)))
		stmt(fmt.Sprintf(`set(attributes[%s], cache["m"]["v"])`, quote(attr)))
	}
	names, err := levelNames()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ottlgen:", err)
		os.Exit(1)
	}
	for level, name := range names {
		stmt(fmt.Sprintf(`set(attributes["winlog.level"], %s) where attributes["winlog.level"] == "%d"`, quote(name), level))
	}
	for _, e := range mapping.MustDefault().EventsSorted() {
		where := fmt.Sprintf(` where attributes["event.code"] == "%d"`, e.ID)
		stmt(`set(attributes["event.action"], ` + quote(e.Name) + `)` + where)
		stmt(`set(attributes["event.outcome"], ` + quote(string(e.Outcome)) + `)` + where)
		stmt(`set(attributes["log.level"], ` + quote(e.Severity.String()) + `)` + where)
		stmt(`set(attributes["intune.generation"], ` + quote(string(e.Generation)) + `)` + where)
		stmt(`set(attributes["intune.description"], ` + quote(e.Description) + `)` + where)
		stmt(`set(attributes["intune.remediation"], ` + quote(e.Remediation) + `)` + where)
		stmt(`set(attributes["intune.matched"], true)` + where)
	}
	stmt(`set(attributes["intune.matched"], false) where attributes["intune.matched"] == nil`)
	stmt(`delete_key(cache, "xml")`)
	if _, err := os.Stdout.WriteString(b.String()); err != nil {
		os.Exit(1)
	}
}

// levelNames returns winlog.level for the standard Windows levels 0-5, as
// otelcol-intune's enrichment writes it, so that both stacks store the same
// value.
func levelNames() ([]string, error) {
	en, err := mapping.NewEnricher(mapping.MustDefault(), mapping.Config{})
	if err != nil {
		return nil, err
	}
	var names []string
	for level := range uint8(6) {
		lr := plog.NewLogRecord()
		en.Enrich(&wineventlog.Event{Level: level}, lr)
		v, ok := lr.Attributes().Get("winlog.level")
		if !ok {
			return nil, fmt.Errorf("the enrichment wrote no winlog.level for level %d", level)
		}
		names = append(names, v.Str())
	}
	return names, nil
}

// quote writes an OTTL string literal.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
