package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// utf16LE is what PowerShell's > and Out-File write.
func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// A file that is not an event export stops with exit 3, saying what it is
// and what to do, instead of exit 0 (nothing read) or 1 (bytes that belong
// to no event).
func TestNotAnEventExport(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile(samples + "current-admin.wevtutil.xml")
	if err != nil {
		t.Fatal(err)
	}
	var zipped, gzipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("admin.xml")
	w.Write(sample)
	zw.Close()
	gw := gzip.NewWriter(&gzipped)
	gw.Write(sample)
	gw.Close()
	const html = "<!DOCTYPE html>\n<html><head><title>Intune Certificate Connector report</title></head><body></body></html>\n"
	const otherXML = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration><appSettings/></configuration>\r\n"
	const notEvents = "[\r\n    {\r\n        \"Name\":  \"PKCS\",\r\n        \"Count\":  3\r\n    }\r\n]\r\n"
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"zipped export", zipped.Bytes(), []string{"ZIP archive", "unzip it"}},
		{"gzipped export", gzipped.Bytes(), []string{"gzip-compressed", "decompress it first"}},
		{"HTML page", []byte(html), []string{"HTML page", "wevtutil qe <log> /f:xml"}},
		{"HTML page UTF-16", utf16LE(html), []string{"HTML page"}},
		{"other XML", []byte(otherXML), []string{"root element is <configuration>", "Get-WinEvent | ConvertTo-Json"}},
		{"other XML UTF-16", utf16LE(otherXML), []string{"root element is <configuration>"}},
		{"JSON that is not events", []byte(notEvents), []string{"not Windows events", "members Name, Count"}},
		{"JSON that is not events UTF-16", utf16LE(notEvents), []string{"members Name, Count"}},
		{"converted records", []byte(`{"@timestamp":"2026-11-22T10:00:00Z","event":{"code":"3001"}}` + "\n"), []string{"ECS documents", "already converted"}},
		{"dead-letter file", []byte(`{"time":"2026-11-22T10:00:00Z","exporter":"intune_elasticsearch","status":400,"reason":"r","id":"x","document":{"@timestamp":"2026-11-22T10:00:00Z"}}` + "\n"),
			[]string{"members time, exporter", "intunectl replay"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "_"), tc.data)
			for _, cmd := range []string{"summarize", "convert"} {
				code, _, errOut := runCLI(t, "", cmd, path)
				if code != exitUnreadable {
					t.Errorf("%s: exit %d, want %d; stderr: %s", cmd, code, exitUnreadable, errOut)
				}
				for _, s := range append(tc.want, path) {
					if !strings.Contains(errOut, s) {
						t.Errorf("%s: stderr lacks %q: %s", cmd, s, errOut)
					}
				}
				if strings.Contains(errOut, "belong to no event") {
					t.Errorf("%s: read as damaged events: %s", cmd, errOut)
				}
			}
		})
	}
}

// connectorAndSystemEvents is a wevtutil export of the connector's Admin
// log with System-log events, a catalog ID from another log and a connector
// event the catalog does not know mixed in.
func connectorAndSystemEvents(t *testing.T) (data []byte, connector int) {
	t.Helper()
	sample, err := os.ReadFile(samples + "current-admin.wevtutil.xml")
	if err != nil {
		t.Fatal(err)
	}
	connector = strings.Count(string(sample), "<Event ")
	system := func(provider, channel string, id, record int) string {
		return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='" + provider + "'/>" +
			"<EventID>" + strconv.Itoa(id) + "</EventID><Level>4</Level><TimeCreated SystemTime='2026-11-22T10:00:00.0000000Z'/>" +
			"<EventRecordID>" + strconv.Itoa(record) + "</EventRecordID><Channel>" + channel + "</Channel><Computer>NDES01.contoso.example</Computer></System></Event>\r\n"
	}
	var b strings.Builder
	b.Write(sample)
	for i := 0; i < 3; i++ {
		b.WriteString(system("Service Control Manager", "System", 7036, 100+i))
	}
	b.WriteString(system("Service Control Manager", "System", 7040, 200))
	b.WriteString(system("Windows Error Reporting", "Application", 1001, 300))
	b.WriteString(system("Microsoft-Intune-CertificateConnectors", "Microsoft-Intune-CertificateConnectors/Admin", 9999, 400))
	return []byte(b.String()), connector + 1
}

// Events of other logs are not explained as connector events the catalog
// lacks: they are named as not connector events and counted apart.
func TestOtherLogsCountedApart(t *testing.T) {
	data, connector := connectorAndSystemEvents(t)
	path := writeFile(t, t.TempDir(), "mixed.xml", data)

	code, out, errOut := runCLI(t, "", "summarize", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{
		strconv.Itoa(connector) + " connector events from 1 file; 5 events from other logs, counted apart",
		"Not connector events",
		"System log, Service Control Manager (event IDs 7036, 7040)",
		"Application log, Windows Error Reporting (event IDs 1001)",
		"1 event is from the connector but not in the catalog",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), s) {
			t.Errorf("summary lacks %q:\n%s", s, out)
		}
	}
	// The sample holds one connector 1001; Windows Error Reporting's is not
	// counted with it.
	if flat := strings.Join(strings.Fields(out), " "); strings.Contains(flat, "7036 (not in the catalog)") || !strings.Contains(flat, "1 failure error PkcsRequestFailure (1001)") {
		t.Errorf("another log's events are explained as connector events:\n%s", out)
	}

	report := filepath.Join(t.TempDir(), "r.html")
	if code, _, errOut := runCLI(t, "", "report", "-o", report, path); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	page, _ := os.ReadFile(report)
	for _, s := range []string{"(and 5 from other logs)", "<b>5</b>events from other logs", "<b>1</b>connector events not in the catalog",
		"<td>System log, Service Control Manager</td><td class=\"num\">4</td><td>7036, 7040</td>"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("report lacks %q", s)
		}
	}

	_, _, errOut = runCLI(t, "", "explain", "7036")
	if !strings.Contains(errOut, "not a connector event") {
		t.Errorf("explain 7036: %s", errOut)
	}
}

// A torn EVTX record points at --carve, which every reading command takes,
// and no message names a Go identifier.
func TestCarveFlag(t *testing.T) {
	data, err := os.ReadFile(samples + "real-ndes-admin.evtx")
	if err != nil {
		t.Fatal(err)
	}
	// Walk chunk 0's records and tear the fourth: its size no longer
	// matches the copy at its end.
	p := 4096 + 512
	for i := 0; i < 3; i++ {
		if string(data[p:p+4]) != "\x2a\x2a\x00\x00" {
			t.Fatal("sample layout changed")
		}
		p += int(binary.LittleEndian.Uint32(data[p+4:]))
	}
	data[p+4]++
	path := writeFile(t, t.TempDir(), "torn.evtx", data)

	code, out, errOut := runCLI(t, "", "summarize", path)
	if code != exitDamaged || !strings.Contains(errOut, "run again with --carve") || strings.Contains(errOut, "Options.") {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	events := func(out string) int {
		n, err := strconv.Atoi(strings.Fields(out)[0])
		if err != nil {
			t.Fatalf("summary starts with %q", out)
		}
		return n
	}
	first := events(out)
	code, out, errOut = runCLI(t, "", "summarize", "--carve", path)
	if code != exitDamaged || strings.Contains(errOut, "--carve to recover") {
		t.Fatalf("--carve: exit %d, stderr: %s", code, errOut)
	}
	if again := events(out); again <= first {
		t.Errorf("--carve recovered nothing: %d then %d events", first, again)
	}
	for _, cmd := range []string{"convert", "report", "dump"} {
		if code, _, errOut := runCLI(t, "", cmd, "--carve", "-h"); code != exitOK || !strings.Contains(errOut, "-carve") {
			t.Errorf("%s does not take --carve: %s", cmd, errOut)
		}
	}
}

// Help lists every command, and the README documents every command and
// every flag.
func TestHelpAndREADME(t *testing.T) {
	code, out, _ := runCLI(t, "", "help")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if code != exitOK {
		t.Fatal(code)
	}
	header := out[:strings.Index(out, "Usage:")]
	for _, cmd := range commands() {
		if !strings.Contains(header, "  "+cmd.name+" ") {
			t.Errorf("the help header lacks %s:\n%s", cmd.name, header)
		}
		if !strings.Contains(string(readme), "`intunectl "+cmd.name) {
			t.Errorf("README does not document intunectl %s", cmd.name)
		}
		_, _, flags := runCLI(t, "", cmd.name, "-h")
		for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(flags, -1) {
			if !strings.Contains(string(readme), "-"+m[1]) {
				t.Errorf("README does not mention %s's -%s", cmd.name, m[1])
			}
		}
	}
	for code := exitOK; code <= exitNotSent; code++ {
		if !strings.Contains(out, "  "+strconv.Itoa(code)+"  ") {
			t.Errorf("help lacks exit code %d", code)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// Output that cannot be written is an output error, not an input one.
func TestOutputErrors(t *testing.T) {
	for _, args := range [][]string{
		{"convert", samples + "legacy.ps7.json"},
		{"dump", samples + "real-ndes-admin.evtx"},
		{"report", "-o", "-", samples + "legacy.ps7.json"},
	} {
		var errb bytes.Buffer
		c := &cli{stdout: failingWriter{}, stderr: &errb}
		if code := c.run(args); code != exitOutput {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitOutput, errb.String())
		}
	}
	// -o into a folder that does not exist names the folder, not the
	// temporary file beside the page.
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	code, _, errOut := runCLI(t, "", "report", "-o", filepath.Join(missing, "r.html"), samples+"legacy.ps7.json")
	if code != exitOutput || !strings.Contains(errOut, "the folder "+missing+" does not exist") || strings.Contains(errOut, ".intunectl-report-") {
		t.Errorf("report -o into a missing folder: exit %d, want %d: %s", code, exitOutput, errOut)
	}
}
