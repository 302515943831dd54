package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
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

// summary counts connector events; events of other logs and providers
// (mapping's Catalog.Foreign) are counted apart, by where they come from,
// and left out of every other figure.
type summary struct {
	cat                *mapping.Catalog
	events             int
	first, last        time.Time
	byRow              map[eventKey]*eventRow
	byOutcome          map[mapping.Outcome]int
	byCode             map[string]int
	hosts              map[string]*hostRow
	unmatched          int // connector events the catalog does not know
	unmatchedCodeCount int
	foreign            int
	bySource           map[sourceKey]*sourceRow
}

type hostRow struct {
	name      string
	events    int
	failures  int
	last      time.Time
	lastFails time.Time
}

// sourceKey is where a foreign event comes from.
type sourceKey struct{ channel, provider string }

type sourceRow struct {
	key   sourceKey
	count int
	ids   map[uint32]int
}

func (c *cli) summarize(args []string) int {
	fs := c.newFlags("summarize")
	rf := addReadFlags(fs)
	files, code, ok := c.inputs(fs, args, rf)
	if !ok {
		return code
	}
	en := c.enricher(mapping.Config{})
	s := newSummary(en.Catalog())
	lr := plog.NewLogRecord()
	totals, _ := c.eachEvent(files, rf.options(true), func(rec *wineventlog.Record) error {
		lr.Attributes().Clear()
		res := en.Enrich(&rec.Event, lr)
		s.add(&rec.Event, res, lr)
		return nil
	})
	s.print(c, totals)
	return totals.exitCode()
}

func newSummary(cat *mapping.Catalog) *summary {
	return &summary{cat: cat, byRow: map[eventKey]*eventRow{}, byOutcome: map[mapping.Outcome]int{}, byCode: map[string]int{},
		hosts: map[string]*hostRow{}, bySource: map[sourceKey]*sourceRow{}}
}

// add counts one event; it reports false for an event of another log or
// provider, which is counted apart only.
func (s *summary) add(ev *wineventlog.Event, res mapping.Result, lr plog.LogRecord) bool {
	if !res.Matched && s.cat.Foreign(ev) {
		s.addForeign(ev)
		return false
	}
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
	s.addRow(ev, eventKey{ev.EventID, code}, res, lr)
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
	return true
}

func (s *summary) addRow(ev *wineventlog.Event, k eventKey, res mapping.Result, lr plog.LogRecord) {
	t := ev.TimeCreated
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
}

func (s *summary) addForeign(ev *wineventlog.Event) {
	s.foreign++
	k := sourceKey{ev.Channel, ev.ProviderName}
	if k.provider == "" {
		k.provider = ev.EventSourceName
	}
	r := s.bySource[k]
	if r == nil {
		r = &sourceRow{key: k, ids: map[uint32]int{}}
		s.bySource[k] = r
	}
	r.count++
	r.ids[ev.EventID]++
}

// sources returns the foreign sources, most events first.
func (s *summary) sources() []*sourceRow {
	rows := make([]*sourceRow, 0, len(s.bySource))
	for _, r := range s.bySource {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].count != rows[j].count {
			return rows[i].count > rows[j].count
		}
		return rows[i].key.channel+rows[i].key.provider < rows[j].key.channel+rows[j].key.provider
	})
	return rows
}

func (r *sourceRow) title() string {
	switch {
	case r.key.channel != "" && r.key.provider != "":
		return r.key.channel + " log, " + r.key.provider
	case r.key.channel != "":
		return r.key.channel + " log"
	}
	return r.key.provider
}

// idList lists the event IDs, most frequent first, at most max of them.
func (r *sourceRow) idList(max int) string {
	ids := make([]uint32, 0, len(r.ids))
	for id := range r.ids {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if r.ids[ids[i]] != r.ids[ids[j]] {
			return r.ids[ids[i]] > r.ids[ids[j]]
		}
		return ids[i] < ids[j]
	})
	var parts []string
	for i, id := range ids {
		if i == max {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, strconv.FormatUint(uint64(id), 10))
	}
	return strings.Join(parts, ", ")
}

// rows returns the event rows: failures first, worst first, then by count.
func (s *summary) rows() []*eventRow {
	rows := make([]*eventRow, 0, len(s.byRow))
	for _, r := range s.byRow {
		rows = append(rows, r)
	}
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
	return rows
}

func (s *summary) print(c *cli, totals inputTotals) {
	w := bufio.NewWriter(c.stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%s from %s", plural(s.events, "connector event", "connector events"), plural(totals.files, "file", "files"))
	if s.foreign > 0 {
		fmt.Fprintf(w, "; %s from other logs, counted apart", plural(s.foreign, "event", "events"))
	}
	if totals.damaged > 0 {
		fmt.Fprintf(w, "; %s damaged and skipped (see the messages above)", plural(totals.damaged, "place", "places"))
	}
	if totals.unreadable > 0 {
		fmt.Fprintf(w, "; %s could not be read", plural(totals.unreadable, "input", "inputs"))
	}
	fmt.Fprintln(w)
	if s.events > 0 {
		if !s.first.IsZero() {
			fmt.Fprintf(w, "Time range: %s to %s (UTC)\n", s.first.UTC().Format(time.DateTime), s.last.UTC().Format(time.DateTime))
		}
		fmt.Fprintf(w, "Outcomes:   %d failure, %d success, %d unknown\n",
			s.byOutcome[mapping.OutcomeFailure], s.byOutcome[mapping.OutcomeSuccess], s.byOutcome[mapping.OutcomeUnknown])
		s.printHosts(w)
		rows := s.rows()
		s.printFailures(w, rows)
		fmt.Fprintln(w, "\nAll events")
		fmt.Fprintf(w, "  %7s  %-8s %-11s %s\n", "count", "outcome", "severity", "event")
		for _, r := range rows {
			fmt.Fprintf(w, "  %7d  %-8s %-11s %s\n", r.count, r.outcome, r.severity, rowTitle(r))
		}
		s.printCodes(w)
	}
	s.printForeign(w)
	if s.unmatched > 0 {
		fmt.Fprintf(w, "\n%s from the connector but not in the catalog (passed through unexplained; a newer connector version may have added them).\n",
			plural(s.unmatched, "event is", "events are"))
	}
}

func (s *summary) printHosts(w io.Writer) {
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
}

func (s *summary) printFailures(w io.Writer, rows []*eventRow) {
	header := false
	for _, r := range rows {
		if r.outcome != mapping.OutcomeFailure {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nFailures, worst first")
			header = true
		}
		fmt.Fprintf(w, "  %7d  %-9s %s\n", r.count, r.severity, rowTitle(r))
		fmt.Fprintf(w, "           between %s and %s on %s\n", fmtTime(r.first), fmtTime(r.last), plural(len(r.hosts), "host", "hosts"))
		e, ce := s.cat.Event(r.key.id), s.codeEntry(r.key.code)
		if ce != nil {
			fmt.Fprintf(w, "           Code:       %s\n", wrapText(ce.Message, 70, "                       "))
		}
		if e != nil {
			fmt.Fprintf(w, "           Meaning:    %s\n", wrapText(e.Description, 70, "                       "))
		}
		fix := ""
		if ce != nil && ce.Remediation != "" {
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

// codeEntry is the catalog entry of a diagnostic code that reports an
// error: the success code 0x00000000 explains nothing.
func (s *summary) codeEntry(code string) *mapping.CodeEntry {
	if code == "" {
		return nil
	}
	ce, _, _ := s.cat.Code(code)
	if ce == nil || ce.Code == "0x00000000" {
		return nil
	}
	return ce
}

func (s *summary) printCodes(w io.Writer) {
	if len(s.byCode) == 0 {
		return
	}
	fmt.Fprintln(w, "\nDiagnostic codes")
	codes := make([]string, 0, len(s.byCode))
	for c := range s.byCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, code := range codes {
		name := "(not in the catalog)"
		if ce, _, ok := s.cat.Code(code); ok {
			name = ce.Name
		}
		fmt.Fprintf(w, "  %7d  %-12s %s\n", s.byCode[code], code, name)
	}
}

func (s *summary) printForeign(w io.Writer) {
	if s.foreign == 0 {
		return
	}
	fmt.Fprintln(w, "\nNot connector events (other logs or providers; not explained, left out of the figures above)")
	for _, r := range s.sources() {
		fmt.Fprintf(w, "  %7d  %s (event IDs %s)\n", r.count, r.title(), r.idList(8))
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
