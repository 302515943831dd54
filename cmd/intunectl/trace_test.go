package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

const (
	traceDevice     = "04aae477-aaaa-4aaa-8aaa-000000000001"
	traceOther      = "04aae477-bbbb-4bbb-8bbb-000000000002"
	traceThumbprint = "0123456789ABCDEF0123456789ABCDEF01234567"
	traceSerial     = "6C0000000000000000000000AB"
)

func legacyTraceEvent(id uint32, rec uint64, at time.Time, metric string) wineventlog.Event {
	return wineventlog.Event{
		ProviderName: "Microsoft Intune Connector", Channel: "Microsoft Intune Connector",
		EventID: id, Level: 4, RecordID: rec, TimeCreated: at, Computer: "NDES-OLD",
		EventData: []wineventlog.Data{{Value: metric}},
	}
}

func currentTraceEvent(id uint32, rec uint64, at time.Time, data ...wineventlog.Data) wineventlog.Event {
	return wineventlog.Event{
		ProviderName: "Microsoft-Intune-CertificateConnectors", ProviderGUID: "{BFD22B4F-4968-5F48-A37C-42AD34E3EEDB}",
		Channel: "Microsoft-Intune-CertificateConnectors/Admin",
		EventID: id, Level: 4, RecordID: rec, TimeCreated: at, Computer: "NDES01", EventData: data,
	}
}

// traceFixture is one device's journey across both connector generations,
// written out of time order, with another device's failure in between and
// one event exported twice (the second time with PowerShell's millisecond
// times).
func traceFixture(t *testing.T) string {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 123456700, time.UTC)
	events := []wineventlog.Event{
		legacyTraceEvent(20100, 2, t0.Add(5*time.Minute), `{"Metric":{"Dimensions":{"DeviceId":"`+traceDevice+`","DiagnosticCode":"0x00000000","Thumbprint":"`+traceThumbprint+`"},"Name":"PkcsCertIssue_Success","Value":0}}`),
		legacyTraceEvent(20102, 1, t0, `{"Metric":{"Dimensions":{"DeviceId":"{`+strings.ToUpper(traceDevice)+`}","DiagnosticCode":"0x00000400","DiagnosticText":"PKCS_Issue_CA_Unavailable"},"Name":"PkcsCertIssue_Failure","Value":0}}`),
		legacyTraceEvent(20102, 3, t0.Add(2*time.Minute), `{"Metric":{"Dimensions":{"DeviceId":"`+traceOther+`","DiagnosticCode":"0x00000400"},"Name":"PkcsCertIssue_Failure","Value":0}}`),
		// Tied by the thumbprint only, then by the serial only.
		currentTraceEvent(3001, 10, t0.Add(30*time.Minute),
			wineventlog.Data{Name: "thumbprint", Value: strings.ToLower(traceThumbprint)}, wineventlog.Data{Name: "serialNumber", Value: traceSerial},
			wineventlog.Data{Name: "exception", Value: "System.InvalidOperationException: access denied"}),
		currentTraceEvent(3000, 11, t0.Add(40*time.Minute), wineventlog.Data{Name: "serialNumber", Value: traceSerial}),
		// A placeholder device ID ties nothing.
		currentTraceEvent(3000, 12, t0.Add(50*time.Minute), wineventlog.Data{Name: "deviceId", Value: "00000000-0000-0000-0000-000000000000"}),
	}
	var b []byte
	for i := range events {
		b = wineventlog.AppendEventXML(b, &events[i], wineventlog.XMLLine)
		b = append(b, '\n')
	}
	dup := events[0]
	dup.TimeCreated = dup.TimeCreated.Truncate(time.Millisecond)
	b = wineventlog.AppendEventXML(b, &dup, wineventlog.XMLLine)
	return writeTemp(t, "journey.xml", string(b)+"\n")
}

func TestTrace(t *testing.T) {
	file := traceFixture(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		lacks    []string
	}{
		{
			name: "by device: both generations, in time order, first failure with its code", args: []string{"trace", traceDevice, file}, code: exitOK,
			contains: []string{
				"Journey of " + traceDevice + " (device ID): 4 events",
				"Tied together by thumbprint " + traceThumbprint + ", serial number " + traceSerial,
				"1  2026-03-02 09:00:00  failure  PkcsCertIssue_Failure (20102)         0x00000400",
				"2  2026-03-02 09:05:00  success  PkcsCertIssue_Success (20100)",
				"3  2026-03-02 09:30:00  failure  RevokeRequestFailure (3001)",
				"4  2026-03-02 09:40:00  success  RevokeRequestSuccess (3000)",
				"First failing step: #1 PkcsCertIssue_Failure (20102) at 2026-03-02 09:00:00 UTC on NDES-OLD",
				"Code:       0x00000400 PKCS_Issue_CA_Unavailable",
				"What to do: Run certutil -ping",
				"The last step, #4 at 2026-03-02 09:40:00 UTC, succeeded.",
			},
			lacks: []string{"  5  "},
		},
		{
			name: "by thumbprint as a certificate dialog shows it: the certificate's steps, not the device's others",
			args: []string{"trace", spaced(strings.ToLower(traceThumbprint)), file}, code: exitOK,
			contains: []string{"(thumbprint): 3 events", "PkcsCertIssue_Success (20100)", "RevokeRequestSuccess (3000)", "First failing step: #2 RevokeRequestFailure (3001)", "access denied"},
			lacks:    []string{"PkcsCertIssue_Failure"},
		},
		{
			name: "flags after the files", args: []string{"trace", traceSerial, file, "--format", "xml"}, code: exitOK,
			contains: []string{"(serial number): 3 events"},
		},
		{
			name: "nothing names the key", args: []string{"trace", "04aae477-ffff-4fff-8fff-00000000ffff", file}, code: exitNotFound,
			contains: []string{"no event in 7 events names"},
		},
		{
			name: "a placeholder is not a key", args: []string{"trace", "00000000-0000-0000-0000-000000000000", file}, code: exitUsage,
			contains: []string{"name what to trace first"},
		},
		{
			name: "help names trace and content", args: []string{"help"}, code: exitOK,
			contains: []string{"intunectl trace [--json]", "intunectl content [--catalog FILE]... -o DIR", "trace: no event names the key"},
		},
		{
			name: "a file but no key", args: []string{"trace", file}, code: exitUsage,
			contains: []string{"name what to trace first", "Usage: intunectl trace"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			for _, s := range tc.contains {
				if !strings.Contains(out+errOut, s) {
					t.Errorf("output lacks %q:\n%s%s", s, out, errOut)
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(out+errOut, s) {
					t.Errorf("output has %q:\n%s%s", s, out, errOut)
				}
			}
		})
	}
}

func spaced(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+2, len(s))])
	}
	return b.String()
}

func TestTraceJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "", "trace", "--json", traceDevice, traceFixture(t))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v traceJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if v.Key != traceDevice || len(v.MatchedAs) != 1 || v.MatchedAs[0] != kindDevice || v.Events != 7 || len(v.Steps) != 4 || v.FirstFailure != 1 {
		t.Fatalf("trace: %+v", v)
	}
	first := v.Steps[0]
	if first.N != 1 || first.EventID != 20102 || first.Code != "0x00000400" || first.CodeName != "PKCS_Issue_CA_Unavailable" ||
		first.Outcome != "failure" || !strings.HasPrefix(first.Remediation, "Run certutil -ping") || first.Message == "" {
		t.Errorf("first step %+v", first)
	}
	for i := 1; i < len(v.Steps); i++ {
		if v.Steps[i].Time.Before(v.Steps[i-1].Time) {
			t.Errorf("step %d is before step %d", i+1, i)
		}
	}
	if v.Steps[1].Remediation != "" {
		t.Errorf("a successful step carries a remediation: %+v", v.Steps[1])
	}

	// Nothing found is still a JSON answer, with exit 4.
	code, out, _ = runCLI(t, "", "trace", "--json", "no-such-device", traceFixture(t))
	if code != exitNotFound || !strings.Contains(out, `"steps": []`) {
		t.Errorf("exit %d, output %s", code, out)
	}
}

func TestNormID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{04AAE477-AAAA-4AAA-8AAA-000000000001}", "04AAE477-AAAA-4AAA-8AAA-000000000001"},
		{" 04aae477-aaaa-4aaa-8aaa-000000000001 ", "04AAE477-AAAA-4AAA-8AAA-000000000001"},
		{"01 23 ab:cd", "0123ABCD"},
		{"\u200e0123abcd", "0123ABCD"},
		{"00000000-0000-0000-0000-000000000000", ""},
		{"0", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := normID(tc.in); got != tc.want {
			t.Errorf("normID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestReportDevices: the report's device section holds the device's
// journey across both generations and its latest failure with what to do
// and the site's runbook.
func TestReportDevices(t *testing.T) {
	page := filepath.Join(t.TempDir(), "r.html")
	code, _, errOut := runCLI(t, "", "report", "-o", page, "--catalog", siteCatalog, traceFixture(t))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	i := strings.Index(html, `<section id="devices">`)
	if i < 0 {
		t.Fatal("no devices section")
	}
	sec := html[i:]
	sec = sec[:strings.Index(sec, "</section>")]
	// Both devices failed once in the legacy log; ours failed again later,
	// so it comes first.
	first, other := strings.Index(sec, "<h3>"+traceDevice+"</h3>"), strings.Index(sec, "<h3>"+traceOther+"</h3>")
	if first < 0 || other < 0 || first > other {
		t.Fatalf("devices in the wrong order or missing:\n%s", sec)
	}
	ours := sec[first:other]
	for _, s := range []string{
		"2 failing events in its journey, the latest 2026-03-02 09:30:00 UTC",
		"PkcsCertIssue_Failure (20102)</td><td>0x00000400</td>",
		"RevokeRequestSuccess (3000)",
		"<dt>Latest failure</dt><dd>#3 RevokeRequestFailure (3001)</dd>",
		"Open a ticket for the PKI team",
		`<a href="https://wiki.example.com/pki/runbooks/revocation" rel="noreferrer">`,
	} {
		if !strings.Contains(ours, s) {
			t.Errorf("device section lacks %q:\n%s", s, ours)
		}
	}
	if strings.Contains(ours, "the last ") {
		t.Error("a journey of 4 steps is said to be cut")
	}
	checkSelfContained(t, b)
}
