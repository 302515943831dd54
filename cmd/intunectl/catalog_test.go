package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const siteCatalog = "../../config/catalog/example.yaml"

// unknownEventXML is an event of an ID the built-in catalog lacks and the
// example site catalog adds (1999).
const unknownEventXML = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Intune-CertificateConnectors' Guid='{BFD22B4F-4968-5F48-A37C-42AD34E3EEDB}'/><EventID>1999</EventID><Level>2</Level><TimeCreated SystemTime='2026-03-02T09:16:13.6234567Z'/><EventRecordID>77</EventRecordID><Channel>Microsoft-Intune-CertificateConnectors/Operational</Channel><Computer>NDES01.contoso.example</Computer></System><EventData><Data Name='deviceId'>dev-1</Data></EventData></Event>`

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCatalogFlag(t *testing.T) {
	bad := writeTemp(t, "site.yaml", "version: 1\nevents:\n  - id: 1001\n    runbok_url: https://wiki.example.com/x\n")
	admin := samples + "current-admin.wevtutil.xml"
	unknownFile := writeTemp(t, "unknown.xml", unknownEventXML)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		lacks    []string
	}{
		{
			name: "explain an event the file adds", args: []string{"explain", "--catalog", siteCatalog, "1999"}, code: exitOK,
			contains: []string{"Event 1999  ExampleSitePkcsEvent", "Runbook:      https://wiki.example.com/pki/runbooks/pkcs", "Labels:       team=pki-operations"},
		},
		{
			name: "without the file the event is unknown", args: []string{"explain", "1999"}, code: exitNotFound,
			contains: []string{`"1999" is not a known event ID`},
		},
		{
			name: "global form before the command", args: []string{"--catalog", siteCatalog, "explain", "RevokeRequestFailure"}, code: exitOK,
			contains: []string{"Open a ticket for the PKI team", "Runbook:      https://wiki.example.com/pki/runbooks/revocation"},
		},
		{
			name: "global form with =", args: []string{"--catalog=" + siteCatalog, "explain", "0x00000400"}, code: exitOK,
			contains: []string{"Runbook:      https://wiki.example.com/pki/runbooks/ca-unreachable", "Labels:       escalation=tier1"},
		},
		{
			name: "summarize shows the site's remediation and runbook", args: []string{"summarize", admin, "--catalog", siteCatalog}, code: exitOK,
			contains: []string{"Open a ticket for the PKI team", "Runbook:    https://wiki.example.com/pki/runbooks/revocation", "Labels:     escalation=tier2, team=pki-operations"},
		},
		{
			name: "summarize matches the added event", args: []string{"summarize", "--catalog", siteCatalog, unknownFile}, code: exitOK,
			contains: []string{"ExampleSitePkcsEvent (1999)"}, lacks: []string{"not in the catalog"},
		},
		{
			name: "a bad file stops the command with file and line", args: []string{"summarize", "--catalog", bad, admin}, code: exitUsage,
			contains: []string{"the --catalog file cannot be used", "site.yaml:4: event 1001: unknown key \"runbok_url\" (did you mean \"runbook_url\"?)", "leave --catalog out"},
			lacks:    []string{"Outcomes:"},
		},
		{
			name: "a missing file", args: []string{"explain", "--catalog", "no-such-site.yaml", "1001"}, code: exitUsage,
			contains: []string{"no-such-site.yaml: no such file"},
		},
		{
			name: "global flag without a value", args: []string{"--catalog"}, code: exitUsage,
			contains: []string{"--catalog needs a file"},
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

// TestCatalogReachesConvert: the ECS document and the HEC event carry the
// site's runbook link and labels, and the added event is matched.
func TestCatalogReachesConvert(t *testing.T) {
	for _, to := range []string{"ecs", "hec"} {
		t.Run(to, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "convert", "--to", to, "--catalog", siteCatalog, writeTemp(t, "unknown.xml", unknownEventXML))
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &doc); err != nil {
				t.Fatal(err)
			}
			if to == "hec" {
				doc, _ = doc["event"].(map[string]any)
			}
			intune, _ := doc["intune"].(map[string]any)
			labels, _ := doc["labels"].(map[string]any)
			event, _ := doc["event"].(map[string]any)
			if intune["runbook_url"] != "https://wiki.example.com/pki/runbooks/pkcs" || labels["team"] != "pki-operations" ||
				intune["matched"] != true || event["action"] != "ExampleSitePkcsEvent" {
				t.Errorf("document lacks the site catalog's fields: %s", out)
			}
		})
	}
}

func TestReportShowsRunbook(t *testing.T) {
	page := filepath.Join(t.TempDir(), "r.html")
	code, _, errOut := runCLI(t, "", "report", "-o", page, "--catalog", siteCatalog, samples+"current-admin.wevtutil.xml")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, b)
	for _, s := range []string{
		`<a href="https://wiki.example.com/pki/runbooks/revocation" rel="noreferrer">`,
		"Open a ticket for the PKI team",
		"<dt>Labels</dt><dd>escalation=tier2, team=pki-operations</dd>",
	} {
		if !strings.Contains(string(b), s) {
			t.Errorf("report lacks %q", s)
		}
	}
}

func TestContentCommand(t *testing.T) {
	dir := t.TempDir()
	// A file of the site's own in the folder stays.
	own := filepath.Join(dir, "splunk", "other_app", "default", "app.conf")
	if err := os.MkdirAll(filepath.Dir(own), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(own, []byte("[ui]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "content", "--catalog", siteCatalog, "-o", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Wrote ") || !strings.Contains(out, filepath.Join(dir, "kibana")) {
		t.Errorf("output: %s", out)
	}
	events, err := os.ReadFile(filepath.Join(dir, "splunk", "intune_connector", "lookups", "intune_connector_events.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"\n1999,ExampleSitePkcsEvent,", "https://wiki.example.com/pki/runbooks/revocation", "Open a ticket for the PKI team"} {
		if !strings.Contains(string(events), s) {
			t.Errorf("events lookup lacks %q", s)
		}
	}
	codes, err := os.ReadFile(filepath.Join(dir, "splunk", "intune_connector", "lookups", "intune_connector_codes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(codes), "https://wiki.example.com/pki/runbooks/ca-unreachable") {
		t.Error("codes lookup lacks the code's runbook")
	}
	props, err := os.ReadFile(filepath.Join(dir, "splunk", "intune_connector", "default", "props.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Generated by intunectl content from the built-in catalog with " + siteCatalog + " layered over it;"; !strings.HasPrefix(string(props), want) {
		t.Errorf("props.conf starts %q, want %q", strings.SplitN(string(props), "\n", 2)[0], want)
	}
	if _, err := os.Stat(filepath.Join(dir, "kibana", "intune_connector.ndjson")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(own); err != nil {
		t.Errorf("the site's own file was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "testdata")); err == nil {
		t.Error("the repository's alert samples were written")
	}

	for _, args := range [][]string{{"content"}, {"content", "-o", dir, "extra.xml"}} {
		if code, _, errOut := runCLI(t, "", args...); code != exitUsage || !strings.Contains(errOut, "-o DIR") {
			t.Errorf("%v: exit %d, stderr %s", args, code, errOut)
		}
	}
}
