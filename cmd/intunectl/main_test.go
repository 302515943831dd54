package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// No goroutine outlives the tests: replay's OTLP exporter, the test
// receivers, and the exporters that write dead letters in replay_test.go.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin), getenv: func(string) string { return "" }}
	code = c.run(args)
	return code, out.String(), errb.String()
}

const samples = "../../testdata/samples/"

func TestExplain(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"event id", []string{"explain", "20102"}, exitOK, []string{"PkcsCertIssue_Failure", "legacy", "0x00000400  PKCS_Issue_CA_Unavailable", "What to do:"}},
		{"event name any case", []string{"explain", "revokerequestfailure"}, exitOK, []string{"Event 3001", "Admin", "userId, deviceId"}},
		{"documented misspelling", []string{"explain", "ScepRequestSuccess"}, exitOK, []string{"Event 4000  ScrepRequestSuccess"}},
		{"id alias", []string{"explain", "2003"}, exitOK, []string{"Event 2203"}},
		{"code typo spelling", []string{"explain", "0x0FFFFFFFF"}, exitOK, []string{"0x0FFFFFFF  Unknown_Error", "Seen on events:"}},
		{"short code", []string{"explain", "0x408"}, exitOK, []string{"0x00000408  CRPSCEPCert_NotFound", "20502 CRPVerifyMetric_Failure"}},
		{"several at once", []string{"explain", "3001", "0x00000405"}, exitOK, []string{"Event 3001", "Certificate_Expired"}},
		{"unknown", []string{"explain", "Revoke"}, exitNotFound, []string{"not a known", "Did you mean"}},
		{"no argument", []string{"explain"}, exitUsage, []string{"Usage: intunectl explain"}},
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
		})
	}
}

func TestConvertEveryProjection(t *testing.T) {
	for _, to := range []string{"ecs", "hec", "otlp-json"} {
		t.Run(to, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "convert", "--to", to, samples+"current-admin.wevtutil.xml", samples+"legacy.ps7.json")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) < 20 {
				t.Fatalf("only %d lines", len(lines))
			}
			for i, l := range lines {
				var doc map[string]any
				if err := json.Unmarshal([]byte(l), &doc); err != nil {
					t.Fatalf("line %d is not JSON: %v", i+1, err)
				}
				switch to {
				case "ecs":
					if doc["@timestamp"] == nil || doc["event"] == nil {
						t.Fatalf("line %d is not an ECS document: %s", i+1, l)
					}
				case "hec":
					if doc["time"] == nil || doc["fields"] == nil || doc["event"] == nil {
						t.Fatalf("line %d is not a HEC event: %s", i+1, l)
					}
				case "otlp-json":
					if doc["resourceLogs"] == nil {
						t.Fatalf("line %d is not OTLP JSON: %s", i+1, l)
					}
				}
			}
		})
	}
}

func TestConvertFromStdinAndOriginal(t *testing.T) {
	data, err := os.ReadFile(samples + "current-admin.wevtutil.xml")
	if err != nil {
		t.Fatal(err)
	}
	// Standard input is read by the process, not through cli.stdin, so
	// point os.Stdin at the file for this test.
	f, err := os.Open(samples + "current-admin.wevtutil.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	code, out, errOut := runCLI(t, "", "convert", "-", "--original")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	n := strings.Count(string(data), "<Event ")
	if got := strings.Count(out, "\n"); got != n {
		t.Errorf("%d documents from stdin, want %d", got, n)
	}
	if !strings.Contains(out, `"original":"\u003cEvent`) && !strings.Contains(out, `"original":"<Event`) {
		t.Errorf("--original did not keep event.original")
	}
}

func TestSummarize(t *testing.T) {
	files, _ := filepath.Glob(samples + "*")
	code, out, errOut := runCLI(t, "", append([]string{"summarize"}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{"events from 7 files", "Failures, worst first", "CertificateRenewal_Failure (10102) code 0x00000405",
		"RevokeRequestFailure (3001)", "What to do:", "Diagnostic codes", "NDES.rajanprem.com"} {
		if !strings.Contains(out, s) {
			t.Errorf("summary lacks %q", s)
		}
	}
	// Failures come before the full table, worst first.
	if strings.Index(out, "critical") > strings.Index(out, "All events") {
		t.Error("critical failures are not listed first")
	}
}

func TestDamagedAndUnreadableInputs(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(samples + "current-admin.wevtutil.xml")
	if err != nil {
		t.Fatal(err)
	}
	// Split at event starts (values hold line breaks), cut the second
	// event in half and put binary junk after it.
	events := strings.SplitAfter(string(good), "</Event>")
	events = events[:len(events)-1]
	n := len(events)
	damaged := events[0] + events[1][:len(events[1])/2] + "\n" + "\x00\x01\x02 junk \xff\n" + strings.Join(events[2:], "")
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	damagedPath := write("damaged.xml", damaged)
	t.Run("damaged events are skipped, the rest converted", func(t *testing.T) {
		code, out, errOut := runCLI(t, "", "convert", damagedPath)
		if code != exitDamaged {
			t.Errorf("exit %d, want %d", code, exitDamaged)
		}
		if got, want := strings.Count(out, "\n"), n-1; got != want {
			t.Errorf("%d events converted, want %d", got, want)
		}
		if !strings.Contains(errOut, "skipped damaged input") || !strings.Contains(errOut, "at byte") {
			t.Errorf("damage not reported with a position: %s", errOut)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		code, _, errOut := runCLI(t, "", "summarize", write("notes.txt", "just some text\n"), damagedPath)
		if code != exitUnreadable {
			t.Errorf("exit %d, want %d", code, exitUnreadable)
		}
		if !strings.Contains(errOut, "notes.txt") || !strings.Contains(errOut, "wevtutil") {
			t.Errorf("unhelpful message: %s", errOut)
		}
	})
	t.Run("missing file does not stop the others", func(t *testing.T) {
		code, out, errOut := runCLI(t, "", "summarize", filepath.Join(dir, "nope.evtx"), samples+"current-admin.wevtutil.xml")
		if code != exitUnreadable || !strings.Contains(errOut, "no such file") || !strings.Contains(out, "from 1 file") {
			t.Errorf("exit %d, stderr %q, stdout %q", code, errOut, out)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{{"convert"}, {"convert", "--to", "csv", "x"}, {"nosuchcommand"}, {}, {"summarize", "--format", "txt", "x"}} {
			if code, _, _ := runCLI(t, "", args...); code != exitUsage {
				t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
			}
		}
	})
}

func TestDumpEVTX(t *testing.T) {
	code, out, errOut := runCLI(t, "", "dump", samples+"real-ndes-admin.evtx")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">`) {
			n++
		}
	}
	if n != 1632 {
		t.Errorf("dump printed %d events, want 1632", n)
	}
	if code, _, errOut := runCLI(t, "", "dump", samples+"current-admin.wevtutil.xml"); code != exitUnreadable || !strings.Contains(errOut, "EVTX") {
		t.Errorf("dump of an XML file: exit %d, %s", code, errOut)
	}
}
