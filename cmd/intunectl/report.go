package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

//go:embed report.html.tmpl
var reportTemplate string

// silentAfter is how long a host may be quiet, before the export's last
// event, before the report calls it silent; the same limit as the
// host-silent alert in content/.
const silentAfter = 4 * time.Hour

// Legacy connector service events, for the per-host status.
const (
	eventServiceStarted = 10010
	eventServiceStopped = 10020
)

// reportData collects what the page shows: the summary that summarize
// prints, plus event times by outcome for the timeline and per-host
// service state.
type reportData struct {
	*summary
	times    map[mapping.Outcome][]time.Time
	services map[string]*serviceState
	journeys *journeys
}

type serviceState struct{ lastStart, lastStop time.Time }

func (c *cli) report(args []string) int {
	fs := c.newFlags("report")
	out := fs.String("o", "report.html", "write the HTML page to this file (- for standard output)")
	title := fs.String("title", "Intune Certificate Connector report", "page title")
	rf := addReadFlags(fs)
	files, code, ok := c.inputs(fs, args, rf)
	if !ok {
		return code
	}
	en := c.enricher(mapping.Config{})
	cat := en.Catalog()
	r := &reportData{
		summary:  newSummary(cat),
		times:    map[mapping.Outcome][]time.Time{},
		services: map[string]*serviceState{},
		journeys: newJourneys(),
	}
	lr := plog.NewLogRecord()
	totals, _ := c.eachEvent(files, rf.options(true), func(rec *wineventlog.Record) error {
		lr.Attributes().Clear()
		res := en.Enrich(&rec.Event, lr)
		r.add(&rec.Event, res, lr)
		return nil
	})
	if totals.files == 0 {
		fmt.Fprintln(c.stderr, "intunectl report: no input could be read; no report written")
		return totals.exitCode()
	}
	page, err := r.render(cat, *title, files, totals)
	if err != nil {
		fmt.Fprintln(c.stderr, "intunectl report:", err)
		return exitUsage
	}
	if err := writeOutput(*out, page, c); err != nil {
		fmt.Fprintf(c.stderr, "intunectl report: cannot write %s: %v\n", *out, err)
		return exitOutput
	}
	if *out != "-" {
		fmt.Fprintf(c.stderr, "intunectl report: wrote %s (%s from %s)\n", *out, plural(r.events, "event", "events"), plural(totals.files, "file", "files"))
	}
	return totals.exitCode()
}

// writeOutput replaces the file in one step, so an interrupted run never
// leaves half a page where a good report was. Errors name the file asked
// for, not the temporary one beside it.
func writeOutput(name string, b []byte, c *cli) error {
	if name == "-" {
		_, err := c.stdout.Write(b)
		return err
	}
	dir := filepath.Dir(name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("the folder %s does not exist; create it or choose another -o", dir)
	}
	tmp, err := os.CreateTemp(dir, ".intunectl-report-*")
	if err != nil {
		return underlying(err)
	}
	err = func() error {
		if _, err := tmp.Write(b); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), name)
	}()
	if err != nil {
		os.Remove(tmp.Name())
		return underlying(err)
	}
	return nil
}

// underlying drops the path from a file system error.
func underlying(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

func (r *reportData) add(ev *wineventlog.Event, res mapping.Result, lr plog.LogRecord) {
	if !r.summary.add(ev, res, lr) {
		return // another log's event: counted apart only
	}
	r.journeys.add(ev, res, lr)
	if !ev.TimeCreated.IsZero() {
		r.times[res.Outcome] = append(r.times[res.Outcome], ev.TimeCreated)
	}
	if res.Matched && (ev.EventID == eventServiceStarted || ev.EventID == eventServiceStopped) {
		s := r.services[ev.Computer]
		if s == nil {
			s = &serviceState{}
			r.services[ev.Computer] = s
		}
		if ev.EventID == eventServiceStarted && ev.TimeCreated.After(s.lastStart) {
			s.lastStart = ev.TimeCreated
		}
		if ev.EventID == eventServiceStopped && ev.TimeCreated.After(s.lastStop) {
			s.lastStop = ev.TimeCreated
		}
	}
}

// Page model.

type pageData struct {
	Title       string
	Generated   string
	Files       []string
	Events      int
	Damaged     int
	Unreadable  int
	From, To    string
	Outcomes    []outcomeCount
	Timeline    template.HTML
	BucketLabel string
	ByEvent     template.HTML
	ByCode      template.HTML
	Hosts       []hostView
	Failures    []failureView
	Devices     []deviceView
	DeviceLimit int
	Unmatched   int
	Foreign     int
	Sources     []sourceView
}

// sourceView is a log or provider whose events are not connector events.
type sourceView struct {
	Title, IDs string
	Count      int
}

type outcomeCount struct {
	Name  string
	Count int
	Class string
}

type hostView struct {
	Name, Status, StatusClass, LastSeen, LastFailure string
	Events, Failures                                 int
}

type failureView struct {
	Title, Severity, SevClass, Code, CodeMessage, Meaning, Remediation, First, Last string
	Count, Hosts                                                                    int
	// Runbook and Labels come from a site catalog (--catalog).
	Runbook, Labels string
}

func (r *reportData) render(cat *mapping.Catalog, title string, files []string, totals inputTotals) ([]byte, error) {
	tmpl, err := template.New("report").Parse(reportTemplate)
	if err != nil {
		return nil, fmt.Errorf("report template: %w", err)
	}
	p := pageData{
		Title: title, Events: r.events, Damaged: totals.damaged, Unreadable: totals.unreadable,
		From: fmtTime(r.first), To: fmtTime(r.last), Unmatched: r.unmatched, Foreign: r.foreign,
	}
	for _, src := range r.sources() {
		p.Sources = append(p.Sources, sourceView{Title: src.title(), IDs: src.idList(12), Count: src.count})
	}
	for _, f := range files {
		p.Files = append(p.Files, displayName(f))
	}
	for _, o := range []mapping.Outcome{mapping.OutcomeFailure, mapping.OutcomeSuccess, mapping.OutcomeUnknown} {
		p.Outcomes = append(p.Outcomes, outcomeCount{string(o), r.byOutcome[o], "o-" + string(o)})
	}
	var bucket time.Duration
	p.Timeline, bucket = timelineSVG(r.times, r.first, r.last)
	if bucket > 0 {
		p.BucketLabel = fmtDuration(bucket)
	}

	rows := make([]*eventRow, 0, len(r.byRow))
	for _, row := range r.byRow {
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
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
	byEvent := map[string]int{}
	byCode := map[string]int{}
	for _, row := range rows {
		if row.outcome != mapping.OutcomeFailure {
			continue
		}
		name := row.name
		if name == "" {
			name = "event " + strconv.FormatUint(uint64(row.key.id), 10)
		}
		byEvent[name+" ("+strconv.FormatUint(uint64(row.key.id), 10)+")"] += row.count
		if row.key.code != "" && row.key.code != "0x00000000" {
			label := row.key.code
			if ce, _, ok := cat.Code(row.key.code); ok {
				label += " " + ce.Name
			}
			byCode[label] += row.count
		}
		p.Failures = append(p.Failures, newFailureView(cat, row))
	}
	p.ByEvent = hbarSVG(topN(byEvent, 15), "bar-fail")
	p.ByCode = hbarSVG(topN(byCode, 15), "bar-code")

	hosts := make([]*hostRow, 0, len(r.hosts))
	for _, h := range r.hosts {
		hosts = append(hosts, h)
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].name < hosts[j].name })
	for _, h := range hosts {
		p.Hosts = append(p.Hosts, r.hostView(h))
	}

	p.Devices, p.DeviceLimit = r.deviceViews(), reportDevices

	var b bytes.Buffer
	if err := tmpl.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("report template: %w", err)
	}
	return b.Bytes(), nil
}

func newFailureView(cat *mapping.Catalog, row *eventRow) failureView {
	v := failureView{
		Title: rowTitle(row), Severity: row.severity.String(), SevClass: "sev-" + row.severity.String(),
		Count: row.count, Hosts: len(row.hosts), First: fmtTime(row.first), Last: fmtTime(row.last),
		Code: row.key.code,
	}
	e := cat.Event(row.key.id)
	if !row.matched {
		e = nil
	}
	var ce *mapping.CodeEntry
	if row.key.code != "" {
		ce, _, _ = cat.Code(row.key.code)
	}
	if e != nil {
		v.Meaning = e.Description
		v.Remediation = e.Remediation
	}
	// The code's hint is the more specific one, as in enrichment.
	if ce != nil && ce.Code != "0x00000000" {
		v.CodeMessage = ce.Message
		if ce.Remediation != "" {
			v.Remediation = ce.Remediation
		}
	}
	v.Runbook, v.Labels = annotations(e, ce)
	if v.Remediation == "" {
		v.Remediation = "Not in the catalog: look the event up in the connector's documentation and run intunectl explain with a newer intunectl."
	}
	return v
}

func (r *reportData) hostView(h *hostRow) hostView {
	name := h.name
	if name == "" {
		name = "(no computer name)"
	}
	v := hostView{Name: name, Events: h.events, Failures: h.failures, LastSeen: fmtTime(h.last), LastFailure: fmtTime(h.lastFails)}
	svc := r.services[h.name]
	switch {
	case svc != nil && svc.lastStop.After(svc.lastStart):
		v.Status, v.StatusClass = "Service stopped "+fmtTime(svc.lastStop), "st-bad"
	case !r.last.IsZero() && r.last.Sub(h.last) >= silentAfter:
		v.Status, v.StatusClass = "Silent for "+fmtDuration(r.last.Sub(h.last).Truncate(time.Minute))+" before the export ends", "st-warn"
	case h.failures > 0 && !h.lastFails.Before(h.last.Add(-time.Hour)):
		v.Status, v.StatusClass = "Failing", "st-bad"
	case h.failures > 0:
		v.Status, v.StatusClass = "Recovered", "st-warn"
	default:
		v.Status, v.StatusClass = "OK", "st-ok"
	}
	return v
}

// Charts, drawn as inline SVG so the page needs nothing from a network.

var outcomeOrder = []mapping.Outcome{mapping.OutcomeFailure, mapping.OutcomeUnknown, mapping.OutcomeSuccess}

var bucketSizes = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour,
}

const maxBuckets = 90

// timelineSVG draws events per time bucket, stacked by outcome.
func timelineSVG(times map[mapping.Outcome][]time.Time, first, last time.Time) (template.HTML, time.Duration) {
	if first.IsZero() {
		return template.HTML(`<p class="empty">No event carries a time.</p>`), 0
	}
	span := last.Sub(first)
	size := bucketSizes[len(bucketSizes)-1]
	for _, s := range bucketSizes {
		if span/s < maxBuckets {
			size = s
			break
		}
	}
	start := first.UTC().Truncate(size)
	n := int(last.Sub(start)/size) + 1
	counts := make(map[mapping.Outcome][]int, len(outcomeOrder))
	totals := make([]int, n)
	for _, o := range outcomeOrder {
		c := make([]int, n)
		for _, t := range times[o] {
			i := int(t.Sub(start) / size)
			if i >= 0 && i < n {
				c[i]++
				totals[i]++
			}
		}
		counts[o] = c
	}
	peak := 0
	for _, v := range totals {
		peak = max(peak, v)
	}
	top := niceCeil(peak)
	const W, H, left, right, topPad, bottom = 960, 260, 56, 12, 12, 40
	plotW, plotH := float64(W-left-right), float64(H-topPad-bottom)
	barW := plotW / float64(n)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="timeline" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="Events over time by outcome">`, W, H)
	for i := 0; i <= 4; i++ {
		v := top * i / 4
		y := float64(topPad) + plotH - plotH*float64(v)/float64(top)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="tick" x="%d" y="%.1f" text-anchor="end">%d</text>`,
			left, W-right, y, y, left-6, y+4, v)
	}
	for i := 0; i < n; i++ {
		y := float64(topPad) + plotH
		t := start.Add(time.Duration(i) * size)
		for _, o := range outcomeOrder {
			c := counts[o][i]
			if c == 0 {
				continue
			}
			h := plotH * float64(c) / float64(top)
			y -= h
			fmt.Fprintf(&b, `<rect class="o-%s" x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s: %d %s</title></rect>`,
				o, float64(left)+float64(i)*barW+0.5, y, math.Max(barW-1, 0.5), h, template.HTMLEscapeString(fmtTime(t)), c, o)
		}
	}
	// A few time labels along the axis.
	step := max(1, n/6)
	for i := 0; i < n; i += step {
		t := start.Add(time.Duration(i) * size)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="start">%s</text>`,
			float64(left)+float64(i)*barW, H-bottom+16, template.HTMLEscapeString(bucketLabel(t, size)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, W-right, float64(topPad)+plotH, float64(topPad)+plotH)
	// Legend.
	x := left
	for _, o := range outcomeOrder {
		fmt.Fprintf(&b, `<rect class="o-%s" x="%d" y="%d" width="12" height="12"/><text class="legend" x="%d" y="%d">%s</text>`, o, x, H-14, x+16, H-3, o)
		x += 100
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), size
}

type barItem struct {
	label string
	value int
}

func topN(m map[string]int, n int) []barItem {
	items := make([]barItem, 0, len(m))
	for k, v := range m {
		items = append(items, barItem{k, v})
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].value != items[j].value {
			return items[i].value > items[j].value
		}
		return items[i].label < items[j].label
	})
	if len(items) > n {
		items = items[:n]
	}
	return items
}

// hbarSVG draws a labelled horizontal bar per item.
func hbarSVG(items []barItem, class string) template.HTML {
	if len(items) == 0 {
		return template.HTML(`<p class="empty">None.</p>`)
	}
	peak := 0
	for _, it := range items {
		peak = max(peak, it.value)
	}
	const W, rowH, labelW, valueW = 620, 24, 300, 56
	H := rowH*len(items) + 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart hbar" viewBox="0 0 %d %d" width="100%%" role="img">`, W, H)
	for i, it := range items {
		y := i*rowH + 2
		w := float64(W-labelW-valueW) * float64(it.value) / float64(peak)
		label := it.label
		if len(label) > 44 {
			label = label[:43] + "…"
		}
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d" text-anchor="end">%s<title>%s</title></text>`, labelW-8, y+16, template.HTMLEscapeString(label), template.HTMLEscapeString(it.label))
		fmt.Fprintf(&b, `<rect class="%s" x="%d" y="%d" width="%.2f" height="%d"><title>%s: %d</title></rect>`, class, labelW, y+3, math.Max(w, 1), rowH-6, template.HTMLEscapeString(it.label), it.value)
		fmt.Fprintf(&b, `<text class="value" x="%.2f" y="%d">%d</text>`, float64(labelW)+math.Max(w, 1)+6, y+16, it.value)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, for axis tops.
func niceCeil(v int) int {
	if v <= 4 {
		return 4
	}
	p := 1
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= v {
			if m*p%4 != 0 && m*p > 4 {
				// keep the four grid lines on whole numbers
				return (m*p + 3) / 4 * 4
			}
			return m * p
		}
	}
	return v
}

func bucketLabel(t time.Time, size time.Duration) string {
	switch {
	case size >= 30*24*time.Hour:
		return t.Format("2006-01")
	case size >= 24*time.Hour:
		return t.Format("2006-01-02")
	}
	return t.Format("01-02 15:04")
}

// fmtDuration writes a duration the way an admin reads it: whole days past
// two days, else hours and minutes.
func fmtDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= 2*day:
		return plural(int(d/day), "day", "days")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour", "hours")
	case d >= time.Hour:
		return plural(int(d/time.Hour), "hour", "hours") + " " + plural(int(d%time.Hour/time.Minute), "minute", "minutes")
	case d >= time.Minute:
		return plural(int(d/time.Minute), "minute", "minutes")
	}
	return d.String()
}
