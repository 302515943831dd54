package main

import (
	"bufio"
	"fmt"
	"sort"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// eventKey groups events for the summary: one row per event and code.
type eventKey struct {
	id   uint32
	code string
}

type eventRow struct {
	key      eventKey
	name     string
	outcome  mapping.Outcome
	severity mapping.Severity
	matched  bool
	count    int
	first    time.Time
	last     time.Time
	hosts    map[string]int
}

type summary struct {
	events             int
	first, last        time.Time
	byRow              map[eventKey]*eventRow
	byOutcome          map[mapping.Outcome]int
	byCode             map[string]int
	hosts              map[string]*hostRow
	unmatched          int
	unmatchedCodeCount int
}

type hostRow struct {
	name      string
	events    int
	failures  int
	last      time.Time
	lastFails time.Time
}

func (c *cli) summarize(args []string) int {
	fs := c.newFlags("summarize", "[--format xml|json|evtx] FILE...")
	format := formatFlag(fs)
	files, f, code, ok := c.inputs(fs, args, format)
	if !ok {
		return code
	}
	en := c.enricher(mapping.Config{})
	cat := en.Catalog()
	s := newSummary()
	lr := plog.NewLogRecord()
	totals, _ := c.eachEvent(files, eventfile.Options{Format: f, NoOriginal: true}, func(rec *wineventlog.Record) error {
		lr.Attributes().Clear()
		res := en.Enrich(&rec.Event, lr)
		s.add(&rec.Event, res, lr)
		return nil
	})
	s.print(c, cat, totals)
	return totals.exitCode()
}

func newSummary() *summary {
	return &summary{byRow: map[eventKey]*eventRow{}, byOutcome: map[mapping.Outcome]int{}, byCode: map[string]int{}, hosts: map[string]*hostRow{}}
}

func (s *summary) add(ev *wineventlog.Event, res mapping.Result, lr plog.LogRecord) {
	s.events++
	t := ev.TimeCreated
	if !t.IsZero() {
		if s.first.IsZero() || t.Before(s.first) {
			s.first = t
		}
		if t.After(s.last) {
			s.last = t
		}
	}
	code := ""
	if v, ok := lr.Attributes().Get(mapping.AttrIntuneDiagCode); ok {
		code = v.Str()
		s.byCode[code]++
		if !res.CodeMatched {
			s.unmatchedCodeCount++
		}
	}
	k := eventKey{ev.EventID, code}
	row := s.byRow[k]
	if row == nil {
		row = &eventRow{key: k, outcome: res.Outcome, severity: res.Severity, matched: res.Matched, hosts: map[string]int{}, first: t}
		if v, ok := lr.Attributes().Get(mapping.AttrEventAction); ok {
			row.name = v.Str()
		}
		s.byRow[k] = row
	}
	row.count++
	row.hosts[ev.Computer]++
	if res.Severity > row.severity {
		row.severity = res.Severity
	}
	if t.Before(row.first) {
		row.first = t
	}
	if t.After(row.last) {
		row.last = t
	}
	s.byOutcome[res.Outcome]++
	if !res.Matched {
		s.unmatched++
	}
	h := s.hosts[ev.Computer]
	if h == nil {
		h = &hostRow{name: ev.Computer}
		s.hosts[ev.Computer] = h
	}
	h.events++
	if t.After(h.last) {
		h.last = t
	}
	if res.Outcome == mapping.OutcomeFailure {
		h.failures++
		if t.After(h.lastFails) {
			h.lastFails = t
		}
	}
}

func (s *summary) print(c *cli, cat *mapping.Catalog, totals inputTotals) {
	w := bufio.NewWriter(c.stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%s from %s", plural(s.events, "event", "events"), plural(totals.files, "file", "files"))
	if totals.damaged > 0 {
		fmt.Fprintf(w, "; %s damaged and skipped (see the messages above)", plural(totals.damaged, "place", "places"))
	}
	if totals.unreadable > 0 {
		fmt.Fprintf(w, "; %s could not be read", plural(totals.unreadable, "input", "inputs"))
	}
	fmt.Fprintln(w)
	if s.events == 0 {
		return
	}
	if !s.first.IsZero() {
		fmt.Fprintf(w, "Time range: %s to %s (UTC)\n", s.first.UTC().Format(time.DateTime), s.last.UTC().Format(time.DateTime))
	}
	fmt.Fprintf(w, "Outcomes:   %d failure, %d success, %d unknown\n",
		s.byOutcome[mapping.OutcomeFailure], s.byOutcome[mapping.OutcomeSuccess], s.byOutcome[mapping.OutcomeUnknown])

	fmt.Fprintln(w, "\nHosts")
	hosts := make([]*hostRow, 0, len(s.hosts))
	for _, h := range s.hosts {
		hosts = append(hosts, h)
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].name < hosts[j].name })
	for _, h := range hosts {
		name := h.name
		if name == "" {
			name = "(no computer name)"
		}
		fmt.Fprintf(w, "  %-32s %7d events  %7d failures  last event %s\n", name, h.events, h.failures, fmtTime(h.last))
	}

	rows := make([]*eventRow, 0, len(s.byRow))
	for _, r := range s.byRow {
		rows = append(rows, r)
	}
	// Failures first, worst first, then by count.
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if (a.outcome == mapping.OutcomeFailure) != (b.outcome == mapping.OutcomeFailure) {
			return a.outcome == mapping.OutcomeFailure
		}
		if a.severity != b.severity {
			return a.severity > b.severity
		}
		if a.count != b.count {
			return a.count > b.count
		}
		if a.key.id != b.key.id {
			return a.key.id < b.key.id
		}
		return a.key.code < b.key.code
	})

	failures := 0
	for _, r := range rows {
		if r.outcome == mapping.OutcomeFailure {
			failures++
		}
	}
	if failures > 0 {
		fmt.Fprintln(w, "\nFailures, worst first")
		for _, r := range rows {
			if r.outcome != mapping.OutcomeFailure {
				continue
			}
			fmt.Fprintf(w, "  %7d  %-9s %s\n", r.count, r.severity, rowTitle(r))
			fmt.Fprintf(w, "           between %s and %s on %s\n", fmtTime(r.first), fmtTime(r.last), plural(len(r.hosts), "host", "hosts"))
			e := cat.Event(r.key.id)
			var ce *mapping.CodeEntry
			if r.key.code != "" {
				ce, _, _ = cat.Code(r.key.code)
			}
			if ce != nil && ce.Code != "0x00000000" {
				fmt.Fprintf(w, "           Code:       %s\n", wrapText(ce.Message, 70, "                       "))
			}
			if e != nil {
				fmt.Fprintf(w, "           Meaning:    %s\n", wrapText(e.Description, 70, "                       "))
			}
			fix := ""
			if ce != nil && ce.Code != "0x00000000" && ce.Remediation != "" {
				fix = ce.Remediation
			} else if e != nil {
				fix = e.Remediation
			}
			if fix != "" {
				fmt.Fprintf(w, "           What to do: %s\n", wrapText(fix, 70, "                       "))
			}
			runbook, labels := annotations(e, ce)
			if runbook != "" {
				fmt.Fprintf(w, "           Runbook:    %s\n", runbook)
			}
			if labels != "" {
				fmt.Fprintf(w, "           Labels:     %s\n", labels)
			}
		}
	}

	fmt.Fprintln(w, "\nAll events")
	fmt.Fprintf(w, "  %7s  %-8s %-11s %s\n", "count", "outcome", "severity", "event")
	for _, r := range rows {
		fmt.Fprintf(w, "  %7d  %-8s %-11s %s\n", r.count, r.outcome, r.severity, rowTitle(r))
	}

	if len(s.byCode) > 0 {
		fmt.Fprintln(w, "\nDiagnostic codes")
		codes := make([]string, 0, len(s.byCode))
		for c := range s.byCode {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, code := range codes {
			name := "(not in the catalog)"
			if ce, _, ok := cat.Code(code); ok {
				name = ce.Name
			}
			fmt.Fprintf(w, "  %7d  %-12s %s\n", s.byCode[code], code, name)
		}
	}
	if s.unmatched > 0 {
		fmt.Fprintf(w, "\n%s not in the catalog (passed through unexplained; a newer connector version may have added them).\n",
			plural(s.unmatched, "event is", "events are"))
	}
}

func rowTitle(r *eventRow) string {
	t := strconv.FormatUint(uint64(r.key.id), 10)
	if r.name != "" {
		t = r.name + " (" + t + ")"
	} else {
		t = "event " + t + " (not in the catalog)"
	}
	if r.key.code != "" {
		t += " code " + r.key.code
	}
	return t
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
