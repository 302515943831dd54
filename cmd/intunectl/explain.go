package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func (c *cli) explain(args []string) int {
	fs := c.newFlags("explain")
	c.addCatalogFlag(fs)
	queries, err := parse(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(queries) == 0 {
		fs.Usage()
		return exitUsage
	}
	if !c.loadCatalog("explain") {
		return exitUsage
	}
	cat := c.catalog()
	code := exitOK
	for i, q := range queries {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		e, ce := cat.Lookup(q)
		switch {
		case e != nil:
			c.explainEvent(cat, e, q)
		case ce != nil:
			c.explainCode(cat, ce)
		default:
			fmt.Fprintf(c.stderr, "intunectl: %q is not a known event ID, event name or diagnostic code.\n", q)
			if _, err := strconv.ParseUint(q, 10, 32); err == nil {
				fmt.Fprintln(c.stderr, "  Neither connector generation documents this event ID. Seen in another log (System, Application) or from another provider, it is not a connector event; seen in a connector log, it is newer than this catalog.")
			} else {
				fmt.Fprintln(c.stderr, "  Event IDs are numbers (3001, 20102), names look like PkcsCertIssue_Failure, codes like 0x00000400.")
			}
			if sugg := suggest(cat, q); len(sugg) > 0 {
				fmt.Fprintf(c.stderr, "  Did you mean: %s?\n", strings.Join(sugg, ", "))
			}
			code = exitNotFound
		}
	}
	return code
}

func (c *cli) explainEvent(cat *mapping.Catalog, e *mapping.EventEntry, q string) {
	w := c.stdout
	fmt.Fprintf(w, "Event %d  %s\n", e.ID, e.Name)
	if q != "" && !strings.EqualFold(q, e.Name) && q != fmt.Sprint(e.ID) {
		fmt.Fprintf(w, "  (you asked for %s, a documented alternative for this event)\n", q)
	}
	gen := "Certificate Connector for Microsoft Intune (current)"
	if e.Generation == mapping.GenerationLegacy {
		gen = "Microsoft Intune Connector (legacy NDES connector)"
	}
	fmt.Fprintf(w, "  Connector:    %s\n", gen)
	fmt.Fprintf(w, "  Channel:      %s\n", e.Channel)
	if catg := cat.CategoryOf(e); catg != nil {
		fmt.Fprintf(w, "  Category:     %s\n", catg.Title)
	}
	fmt.Fprintf(w, "  Outcome:      %s\n", e.Outcome)
	fmt.Fprintf(w, "  Severity:     %s\n", e.Severity)
	fmt.Fprintf(w, "  Meaning:      %s\n", wrapText(e.Description, 64, "                "))
	if e.Remediation != "" {
		fmt.Fprintf(w, "  What to do:   %s\n", wrapText(e.Remediation, 64, "                "))
	}
	c.explainAnnotations(e.RunbookURL, e.SortedLabels())
	if len(e.DataFields) > 0 {
		fmt.Fprintf(w, "  Event data:   %s\n", strings.Join(e.DataFields, ", "))
	}
	if len(e.Codes) > 0 {
		fmt.Fprintln(w, "  Diagnostic codes it can carry:")
		for _, code := range e.Codes {
			if ce, _, ok := cat.Code(code); ok {
				fmt.Fprintf(w, "    %s  %s\n", ce.Code, ce.Name)
			}
		}
	}
}

func (c *cli) explainCode(cat *mapping.Catalog, ce *mapping.CodeEntry) {
	w := c.stdout
	fmt.Fprintf(w, "Diagnostic code %s  %s\n", ce.Code, ce.Name)
	if len(ce.Aliases) > 0 {
		fmt.Fprintf(w, "  Also written: %s\n", strings.Join(ce.Aliases, ", "))
	}
	if ce.Severity != mapping.SeverityUnset {
		fmt.Fprintf(w, "  Severity:     at least %s\n", ce.Severity)
	}
	fmt.Fprintf(w, "  Meaning:      %s\n", wrapText(ce.Message, 64, "                "))
	if ce.Remediation != "" {
		fmt.Fprintf(w, "  What to do:   %s\n", wrapText(ce.Remediation, 64, "                "))
	}
	c.explainAnnotations(ce.RunbookURL, ce.SortedLabels())
	var events []string
	for _, e := range cat.EventsSorted() {
		for _, code := range e.Codes {
			if code == ce.Code {
				events = append(events, fmt.Sprintf("%d %s", e.ID, e.Name))
			}
		}
	}
	if len(events) > 0 {
		fmt.Fprintln(w, "  Seen on events:")
		for _, e := range events {
			fmt.Fprintf(w, "    %s\n", e)
		}
	}
}

// suggest offers names that contain what was typed, for near misses.
func suggest(cat *mapping.Catalog, q string) []string {
	lq := strings.ToLower(q)
	var out []string
	for _, e := range cat.EventsSorted() {
		if len(lq) >= 4 && strings.Contains(strings.ToLower(e.Name), lq) {
			out = append(out, e.Name)
		}
		if len(out) == 5 {
			break
		}
	}
	return out
}
