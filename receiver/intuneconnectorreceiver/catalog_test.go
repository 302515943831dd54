package intuneconnectorreceiver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// TestCatalogFiles: the receiver enriches with a site catalog layered over
// the built-in one, and a file that went bad after validation stops Start
// with the file and line.
func TestCatalogFiles(t *testing.T) {
	dir := t.TempDir()
	ev := wineventlog.Event{
		ProviderName: "Microsoft-Intune-CertificateConnectors", ProviderGUID: "{BFD22B4F-4968-5F48-A37C-42AD34E3EEDB}",
		Channel: "Microsoft-Intune-CertificateConnectors/Operational",
		EventID: 1999, Level: 2, Computer: "NDES01", RecordID: 9,
		TimeCreated: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
	}
	appendFile(t, filepath.Join(dir, "ops.xml"), append(wineventlog.AppendEventXML(nil, &ev, wineventlog.XMLLine), '\n'))

	cfg := testConfig(dir)
	cfg.Enrichment.CatalogFiles = []string{"../../config/catalog/example.yaml"}
	sink := new(consumertest.LogsSink)
	startReceiver(t, cfg, sink, nopHost())
	waitFor(t, "the event", func() bool { return sink.LogRecordCount() == 1 })
	attrs := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	if v, _ := attrs.Get(mapping.AttrEventAction); v.Str() != "ExampleSitePkcsEvent" {
		t.Errorf("event.action %q", v.Str())
	}
	if v, _ := attrs.Get(mapping.AttrIntuneRunbookURL); v.Str() != "https://wiki.example.com/pki/runbooks/pkcs" {
		t.Errorf("intune.runbook_url %q", v.Str())
	}

	bad := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nevents:\n  - id: 1001\n    colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = testConfig(t.TempDir())
	cfg.Enrichment.CatalogFiles = []string{bad}
	r, err := newReceiver(receiverSettings(), cfg, new(consumertest.LogsSink))
	if err != nil {
		t.Fatal(err)
	}
	err = r.Start(context.Background(), nopHost())
	if err == nil || !strings.Contains(err.Error(), "enrichment::catalog_files: "+bad+":4: event 1001: unknown key \"colour\"") {
		t.Errorf("Start with a bad catalog file: %v", err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
