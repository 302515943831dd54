package main

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-intune/otelcol-intune/internal/contentgen"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

const alertSamples = "../../content/testdata/alerts/"

func reportInputs(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(samples + "*")
	more, _ := filepath.Glob(alertSamples + "*.xml")
	files = append(files, more...)
	if len(files) < 8 {
		t.Fatalf("only %d sample files", len(files))
	}
	return files
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "report.html")
	expired, _, ok := mapping.MustDefault().Code("0x00000405")
	if !ok {
		t.Fatal("0x00000405 left the catalog")
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		out      string // file that must hold a report afterwards ("" for none)
		contains []string
		stderr   string
	}{
		{
			name: "samples", args: append([]string{"report", "-o", good}, reportInputs(t)...), code: exitOK, out: good,
			contains: []string{
				`<svg class="chart" id="timeline"`, `class="o-failure"`, `class="o-success"`, `class="bar-fail"`, `class="bar-code"`,
				"NDES01.contoso.example", "NDES.rajanprem.com", "Service stopped", "Silent for", "RevokeRequestFailure (3001)",
				"0x00000405 Certificate_Expired",
				// The remediation of a code wins over its event's.
				expired.Remediation[:40],
				"default-src 'none'",
				// Devices with failures: the real export's worst device.
				`<section id="devices">`, "<h3>04aae477-6c9f-478a-822b-502d65d8842f</h3>", "368 failing events in its journey", "the last 8 of 368 steps",
			},
			stderr: "wrote " + good,
		},
		{name: "no files", args: []string{"report"}, code: exitUsage, stderr: "name at least one"},
		{name: "bad format", args: []string{"report", "--format", "csv", samples + "legacy.ps7.json"}, code: exitUsage, stderr: "unknown --format"},
		{name: "only a missing file", args: []string{"report", "-o", filepath.Join(dir, "none.html"), filepath.Join(dir, "absent.evtx")}, code: exitUnreadable, stderr: "no report written"},
		{
			name: "missing and good file", args: []string{"report", "-o", filepath.Join(dir, "partial.html"), filepath.Join(dir, "absent.evtx"), samples + "legacy.ps7.json"},
			code: exitUnreadable, out: filepath.Join(dir, "partial.html"), contains: []string{"could not be read", "CertificateRenewal_Failure"}, stderr: "no such file",
		},
		// An output problem is not an input problem.
		{name: "unwritable output", args: []string{"report", "-o", filepath.Join(dir, "no", "such", "dir.html"), samples + "legacy.ps7.json"}, code: exitOutput, stderr: "does not exist; create it or choose another -o"},
		{name: "help", args: []string{"report", "-h"}, code: exitOK, stderr: "Usage: intunectl report"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q: %s", tc.stderr, errOut)
			}
			if tc.out == "" {
				if strings.Contains(strings.Join(tc.args, " "), "-o") {
					if _, err := os.Stat(tc.args[2]); err == nil {
						t.Errorf("a report was written to %s", tc.args[2])
					}
				}
				return
			}
			page, err := os.ReadFile(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.contains {
				if !bytes.Contains(page, []byte(s)) {
					t.Errorf("report lacks %q", s)
				}
			}
			checkSelfContained(t, page)
		})
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".intunectl-report-*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// runbookLink is the one kind of link the page may hold: a site catalog's
// runbook, opened only when the reader clicks it.
var runbookLink = regexp.MustCompile(`<a href="https?://[^"<>]*" rel="noreferrer">[^<]*</a>`)

// checkSelfContained fails on anything that would make the page reach for
// a network or run code. Runbook links are taken out first: following one
// is the reader's choice, and the page loads nothing from it.
func checkSelfContained(t *testing.T, page []byte) {
	t.Helper()
	page = runbookLink.ReplaceAll(page, nil)
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import", "http://", "https://"} {
		if bytes.Contains(bytes.ToLower(page), []byte(bad)) {
			t.Errorf("report contains %q; it must be self-contained", bad)
		}
	}
}

func TestSilentLimitMatchesAlert(t *testing.T) {
	if silentAfter != time.Duration(contentgen.SilentHours)*time.Hour {
		t.Errorf("the report calls a host silent after %s, the host-silent alert after %d hours", silentAfter, contentgen.SilentHours)
	}
}

func TestReportToStdoutEscapes(t *testing.T) {
	code, out, errOut := runCLI(t, "", "report", "-o", "-", "--title", `<b>"x" & y</b>`, samples+"legacy.ps7.json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "<!DOCTYPE html>") || strings.Contains(out, `<b>"x"`) || !strings.Contains(out, "&lt;b&gt;") {
		t.Errorf("title not escaped or page not on stdout: %.200s", out)
	}
}

func TestCharts(t *testing.T) {
	if got, _ := timelineSVG(nil, time.Time{}, time.Time{}); !strings.Contains(string(got), "No event carries a time") {
		t.Errorf("empty timeline: %s", got)
	}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		span   time.Duration
		bucket time.Duration
		bars   int // one per bucket and outcome that has events
	}{
		{"one instant", 0, time.Minute, 2},
		{"an hour", time.Hour, time.Minute, 3},
		{"a day", 24 * time.Hour, time.Hour, 3},
		{"a month", 30 * 24 * time.Hour, 12 * time.Hour, 3},
		{"two years", 700 * 24 * time.Hour, 30 * 24 * time.Hour, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			times := map[mapping.Outcome][]time.Time{
				mapping.OutcomeFailure: {t0, t0.Add(tc.span)},
				mapping.OutcomeSuccess: {t0.Add(tc.span / 2)},
			}
			svg, bucket := timelineSVG(times, t0, t0.Add(tc.span))
			if bucket != tc.bucket {
				t.Errorf("bucket %s, want %s", bucket, tc.bucket)
			}
			if n := strings.Count(string(svg), `<rect class="o-`); n != tc.bars+3 { // bars + legend
				t.Errorf("%d outcome rects, want %d", n, tc.bars+3)
			}
		})
	}
	bars := string(hbarSVG([]barItem{{"a<b", 10}, {"c", 5}}, "bar-fail"))
	if strings.Count(bars, `<rect class="bar-fail"`) != 2 || !strings.Contains(bars, "a&lt;b") {
		t.Errorf("bars: %s", bars)
	}
	if !strings.Contains(string(hbarSVG(nil, "x")), "None") {
		t.Error("empty bar chart")
	}
	for _, tc := range []struct{ in, want int }{{0, 4}, {3, 4}, {7, 12}, {10, 12}, {18, 20}, {1635, 2000}, {99, 100}} {
		if got := niceCeil(tc.in); got != tc.want || got < tc.in || got%4 != 0 {
			t.Errorf("niceCeil(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// chromium finds Debian's chromium (or a compatible browser) for the
// rendering test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: install Debian's chromium package to run the report rendering test")
	return ""
}

// runBrowser runs headless Chromium over a local page and returns its
// standard output and the console messages it logged.
func runBrowser(t *testing.T, bin, page string, extra ...string) (stdout string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
	}, extra...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, errb.String())
	}
	for _, l := range strings.Split(errb.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return out.String(), console
}

// TestReportInBrowser opens the report in headless Chromium: the DOM it
// builds holds the three charts with their bars, the page logs nothing to
// the console (its Content-Security-Policy would log any attempt to load
// something), and a screenshot shows a drawn page. A control page with a
// blocked image proves console messages are seen.
func TestReportInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if code, _, errOut := runCLI(t, "", append([]string{"report", "-o", page}, reportInputs(t)...)...); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}

	control := filepath.Join(dir, "control.html")
	if err := os.WriteFile(control, []byte(`<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><img src="https://example.invalid/x.png"></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, console := runBrowser(t, bin, control, "--dump-dom"); len(console) == 0 {
		t.Fatal("the control page's blocked image left no console message: console errors would go unnoticed")
	}

	dom, console := runBrowser(t, bin, page, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("console messages while rendering the report:\n%s", strings.Join(console, "\n"))
	}
	if n := strings.Count(dom, "<svg"); n != 3 {
		t.Errorf("rendered DOM has %d svg charts, want 3", n)
	}
	for _, id := range []string{`id="timeline"`, `id="by-event"`, `id="by-code"`, `id="hosts"`, `id="failures"`, `id="devices"`} {
		if !strings.Contains(dom, id) {
			t.Errorf("rendered DOM lacks %s", id)
		}
	}
	if n := strings.Count(dom, `<div class="device">`); n != reportDevices {
		t.Errorf("rendered DOM has %d devices with failures, want %d", n, reportDevices)
	}
	if n := len(regexp.MustCompile(`<rect class="o-failure"`).FindAllString(dom, -1)); n < 2 {
		t.Errorf("timeline has %d failure bars", n)
	}

	shot := filepath.Join(dir, "report.png")
	if _, console := runBrowser(t, bin, page, "--hide-scrollbars", "--window-size=1280,2600", "--screenshot="+shot); len(console) > 0 {
		t.Errorf("console messages while taking the screenshot:\n%s", strings.Join(console, "\n"))
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// The chart colours are on the page: failure red and success green.
	var red, green int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch {
			case r>>8 == 0xd1 && g>>8 == 0x49 && bl>>8 == 0x5b:
				red++
			case r>>8 == 0x3c && g>>8 == 0x9d && bl>>8 == 0x6e:
				green++
			}
		}
	}
	if red < 100 || green < 10 {
		t.Errorf("screenshot shows %d failure-red and %d success-green pixels; the charts did not draw", red, green)
	}
	t.Logf("screenshot %s (%dx%d): %d red, %d green sampled pixels", shot, b.Dx(), b.Dy(), red, green)
	if keep := os.Getenv("INTUNECTL_REPORT_SCREENSHOT"); keep != "" {
		data, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(keep, data, 0o644)
		}
		if err != nil {
			t.Errorf("keeping the screenshot: %v", err)
		}
	}
}

// BenchmarkReport runs the whole command over a wevtutil export of 50,000
// generated events: decoding, enrichment, aggregation and the page.
func BenchmarkReport(b *testing.B) {
	const n = 50000
	cat := mapping.MustDefault()
	ex, err := eventgen.ExportByName("wevtutil")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	in := filepath.Join(dir, "events.xml")
	if err := os.WriteFile(in, ex.Write(eventgen.Stream(cat, n)), 0o644); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, "report.html")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c := &cli{stdout: io.Discard, stderr: io.Discard}
		if code := c.run([]string{"report", "-o", out, in}); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
	b.StopTimer()
	page, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(page, []byte(strconv.Itoa(n)+" events from")) {
		b.Fatalf("the report does not count %d events (%v)", n, err)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}
