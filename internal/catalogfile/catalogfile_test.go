package catalogfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const siteEvent = `version: 1
events:
  - id: 1999
    name: SitePkcsEvent
    generation: current
    channel: Microsoft-Intune-CertificateConnectors/Operational
    outcome: failure
    severity: warning
    description: An event the built-in catalog lacks.
    remediation: Follow the PKCS runbook.
    runbook_url: https://wiki.example.com/pkcs
`

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "site.yaml", siteEvent)
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		paths   []string
		wantErr []string // each must appear in the error
		check   func(t *testing.T, c *mapping.Catalog)
	}{
		{
			name: "no files is the embedded catalog", paths: nil,
			check: func(t *testing.T, c *mapping.Catalog) {
				if c != mapping.MustDefault() {
					t.Error("want the embedded catalog itself")
				}
			},
		},
		{
			name: "a file adds an event", paths: []string{good},
			check: func(t *testing.T, c *mapping.Catalog) {
				e := c.Event(1999)
				if e == nil || e.Name != "SitePkcsEvent" || e.RunbookURL != "https://wiki.example.com/pkcs" {
					t.Errorf("event 1999 = %+v", e)
				}
				if mapping.MustDefault().Event(1999) != nil {
					t.Error("layering changed the embedded catalog")
				}
			},
		},
		{name: "missing file", paths: []string{filepath.Join(dir, "nope.yaml")}, wantErr: []string{"[0]: ", "nope.yaml: no such file"}},
		{name: "relative missing file names the working directory", paths: []string{"nope.yaml"}, wantErr: []string{"nope.yaml: no such file", "working directory", "write an absolute path"}},
		{name: "a folder", paths: []string{filepath.Join(dir, "folder")}, wantErr: []string{"is a folder"}},
		{name: "empty path", paths: []string{good, " "}, wantErr: []string{"[1]: the path is empty"}},
		{
			name: "every bad file is reported", paths: []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")},
			wantErr: []string{"[0]: ", "a.yaml: no such file", "[1]: ", "b.yaml: no such file"},
		},
		{
			name:    "a bad file names its line",
			paths:   []string{writeFile(t, dir, "typo.yaml", "version: 1\nevents:\n  - id: 1001\n    runbok_url: https://x.example.com\n")},
			wantErr: []string{"typo.yaml:4:", `unknown key "runbok_url"`, `did you mean "runbook_url"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.paths)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestCheckPrefixesEveryLine: the collector prints the joined error line by
// line; each line must say which setting it belongs to.
func TestCheckPrefixesEveryLine(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "version: 2\nevents:\n  - id: 1001\n    colour: red\n")
	err := Check("enrichment", mapping.Config{CatalogFiles: []string{bad}})
	if err == nil {
		t.Fatal("no error for a bad file")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) < 2 {
		t.Fatalf("want a line per problem, got %q", err)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "enrichment::catalog_files") || !strings.Contains(l, "bad.yaml:") {
			t.Errorf("line %q does not name the setting and the file", l)
		}
	}
	if !strings.Contains(err.Error(), "bad.yaml:1:") || !strings.Contains(err.Error(), "bad.yaml:4:") {
		t.Errorf("error %q does not name both lines", err)
	}
}

func TestCheckOverrideOfAddedEvent(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "site.yaml", siteEvent)
	override := []mapping.SeverityOverride{{Event: "SitePkcsEvent", Severity: mapping.SeverityCritical}}
	if err := Check("enrichment", mapping.Config{CatalogFiles: []string{good}, SeverityOverrides: override}); err != nil {
		t.Errorf("an override naming an event the file adds: %v", err)
	}
	other := []mapping.SeverityOverride{{Event: "NoSuchEvent", Severity: mapping.SeverityCritical}}
	err := Check("enrichment", mapping.Config{CatalogFiles: []string{good}, SeverityOverrides: other})
	if err == nil || !strings.HasPrefix(err.Error(), "enrichment") || !strings.Contains(err.Error(), "NoSuchEvent") {
		t.Errorf("override of an unknown event: error %v", err)
	}
	if err := Check("enrichment", mapping.Config{}); err != nil {
		t.Errorf("no files: %v", err)
	}
}

func TestEnricherUsesTheFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "site.yaml", siteEvent)
	en, err := Enricher("enrichment", mapping.Config{CatalogFiles: []string{good}})
	if err != nil {
		t.Fatal(err)
	}
	ev := wineventlog.Event{
		ProviderName: "Microsoft-Intune-CertificateConnectors",
		Channel:      "Microsoft-Intune-CertificateConnectors/Operational",
		EventID:      1999, Level: 2, Computer: "NDES01", RecordID: 1,
		TimeCreated: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
	}
	lr := plog.NewLogRecord()
	if res := en.Enrich(&ev, lr); !res.Matched {
		t.Fatal("the event the file adds is not matched")
	}
	if v, _ := lr.Attributes().Get(mapping.AttrEventAction); v.Str() != "SitePkcsEvent" {
		t.Errorf("event.action %q", v.Str())
	}
	if v, _ := lr.Attributes().Get(mapping.AttrIntuneRunbookURL); v.Str() != "https://wiki.example.com/pkcs" {
		t.Errorf("intune.runbook_url %q", v.Str())
	}

	// A file that went bad after validation still stops the component.
	if err := os.WriteFile(good, []byte("version: 1\nevents: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Enricher("enrichment", mapping.Config{CatalogFiles: []string{good}}); err == nil ||
		!strings.HasPrefix(err.Error(), "enrichment::catalog_files: ") || !strings.Contains(err.Error(), "site.yaml:2:") {
		t.Errorf("bad file at start: error %v", err)
	}
}
