package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// trace prints the journey of one device, request or certificate through
// the exports: every event that names it, and those tied to it through the
// requests and certificates they share, in time order, with the first
// failing step and what to do about it.
func (c *cli) trace(args []string) int {
	fs := c.newFlags("trace")
	asJSON := fs.Bool("json", false, "print the journey as one JSON object")
	rf := addReadFlags(fs)
	rest, code, ok := c.inputs(fs, args, rf)
	if !ok {
		return code
	}
	if len(rest) < 2 || normID(rest[0]) == "" {
		fmt.Fprintln(c.stderr, "intunectl trace: name what to trace first (a device ID, request ID, certificate thumbprint or serial number), then the exported log files")
		fs.Usage()
		return exitUsage
	}
	key, files := rest[0], rest[1:]

	en := c.enricher(mapping.Config{})
	j := newJourneys()
	lr := plog.NewLogRecord()
	totals, _ := c.eachEvent(files, rf.options(true), func(rec *wineventlog.Record) error {
		lr.Attributes().Clear()
		res := en.Enrich(&rec.Event, lr)
		j.add(&rec.Event, res, lr)
		return nil
	})
	steps, kinds := j.chain(key)
	var err error
	if *asJSON {
		err = writeTraceJSON(c.stdout, key, kinds, steps, totals)
	} else if len(steps) > 0 {
		err = writeTrace(c.stdout, key, kinds, steps)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "intunectl trace: writing output: %v\n", err)
		return exitOutput
	}
	if len(steps) == 0 {
		fmt.Fprintf(c.stderr, "intunectl trace: no event in %s names %q as a device ID, request ID, thumbprint or serial number\n",
			plural(totals.events, "event", "events"), key)
		if totals.exitCode() != exitOK {
			return totals.exitCode()
		}
		return exitNotFound
	}
	return totals.exitCode()
}

func writeTrace(out io.Writer, key string, kinds []string, steps []step) error {
	w := bufio.NewWriter(out)
	first, last := steps[0], steps[len(steps)-1]
	span := "at " + fmtTime(first.Time)
	if !first.Time.Equal(last.Time) {
		span = "from " + fmtTime(first.Time) + " to " + fmtTime(last.Time)
	}
	fmt.Fprintf(w, "Journey of %s (%s): %s %s UTC\n", key, strings.Join(kinds, ", "), plural(len(steps), "event", "events"), span)
	if tied := tiedBy(key, steps); tied != "" {
		fmt.Fprintf(w, "Tied together by %s\n", tied)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %3s  %-19s  %-7s  %-36s  %-10s  %s\n", "#", "Time (UTC)", "Outcome", "Event", "Code", "Host / channel")
	for _, s := range steps {
		fmt.Fprintf(w, "  %3d  %-19s  %-7s  %-36s  %-10s  %s\n", s.N, fmtTime(s.Time), s.Outcome, stepTitle(s), s.Code,
			s.Host+" "+shortChannel(s.Channel))
	}
	fmt.Fprintln(w)
	ff := firstFailure(steps)
	if ff == nil {
		fmt.Fprintln(w, "No step failed.")
		return w.Flush()
	}
	fmt.Fprintf(w, "First failing step: #%d %s at %s UTC on %s\n", ff.N, stepTitle(*ff), fmtTime(ff.Time), ff.Host)
	if ff.Code != "" {
		fmt.Fprintf(w, "  Code:       %s %s\n", ff.Code, ff.CodeName)
	}
	if ff.Message != "" {
		fmt.Fprintf(w, "  Message:    %s\n", wrapText(ff.Message, 70, "              "))
	}
	if ff.Remediation != "" {
		fmt.Fprintf(w, "  What to do: %s\n", wrapText(ff.Remediation, 70, "              "))
	}
	if ff.RunbookURL != "" {
		fmt.Fprintf(w, "  Runbook:    %s\n", ff.RunbookURL)
	}
	if last.Outcome == string(mapping.OutcomeSuccess) && last.N > ff.N {
		fmt.Fprintf(w, "The last step, #%d at %s UTC, succeeded.\n", last.N, fmtTime(last.Time))
	}
	return w.Flush()
}

// tiedBy names the identifiers other than key that joined steps to the
// journey, so that a reader sees why an event is in it.
func tiedBy(key string, steps []step) string {
	want := normID(key)
	seen := map[string]bool{}
	var parts []string
	add := func(kind, v string) {
		n := normID(v)
		if n == "" || n == want || seen[kind+n] {
			return
		}
		seen[kind+n] = true
		parts = append(parts, kind+" "+v)
	}
	for _, s := range steps {
		add(kindRequest, s.RequestID)
		add(kindThumbprint, s.Thumbprint)
		add(kindSerial, s.Serial)
	}
	const most = 6
	if len(parts) > most {
		return strings.Join(parts[:most], ", ") + fmt.Sprintf(" and %d more", len(parts)-most)
	}
	return strings.Join(parts, ", ")
}

func stepTitle(s step) string {
	if s.Name == "" {
		return fmt.Sprintf("event %d (not in the catalog)", s.EventID)
	}
	return fmt.Sprintf("%s (%d)", s.Name, s.EventID)
}

// shortChannel drops the provider part of the current connector's
// channels, which is the same on every line.
func shortChannel(ch string) string {
	if _, after, ok := strings.Cut(ch, "CertificateConnectors/"); ok {
		return after
	}
	return ch
}

// traceJSON is what trace --json prints.
type traceJSON struct {
	Key       string   `json:"key"`
	MatchedAs []string `json:"matched_as"`
	Events    int      `json:"events_read"`
	Steps     []step   `json:"steps"`
	// FirstFailure is the number of the first failing step; 0 when none
	// failed.
	FirstFailure int `json:"first_failure"`
}

func writeTraceJSON(out io.Writer, key string, kinds []string, steps []step, totals inputTotals) error {
	v := traceJSON{Key: key, MatchedAs: kinds, Events: totals.events, Steps: steps}
	if v.MatchedAs == nil {
		v.MatchedAs = []string{}
	}
	if v.Steps == nil {
		v.Steps = []step{}
	}
	if ff := firstFailure(steps); ff != nil {
		v.FirstFailure = ff.N
	}
	for i := range v.Steps {
		v.Steps[i].Time = v.Steps[i].Time.UTC()
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
