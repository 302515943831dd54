package intuneenrichprocessor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// TestCatalogFiles: the processor enriches with the site catalog layered
// over the built-in one, and refuses to be built with a bad file.
func TestCatalogFiles(t *testing.T) {
	cfg := &Config{NonConnector: NonConnectorPass, Enrichment: mapping.Config{CatalogFiles: []string{"../../config/catalog/example.yaml"}}}
	sink, consume := newTestProcessor(t, cfg)
	ev := &wineventlog.Event{
		ProviderName: "Microsoft-Intune-CertificateConnectors",
		Channel:      "Microsoft-Intune-CertificateConnectors/Operational",
		EventID:      1999, Level: 2, Computer: "NDES01", RecordID: 5,
		TimeCreated: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
	}
	consume(logsWith(strBody(string(wineventlog.AppendEventXML(nil, ev, wineventlog.XMLLine)))))
	got := records(sink)
	if len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	attrs := got[0].Attributes()
	for k, want := range map[string]string{
		mapping.AttrEventAction:      "ExampleSitePkcsEvent",
		mapping.AttrIntuneRunbookURL: "https://wiki.example.com/pki/runbooks/pkcs",
	} {
		if v, _ := attrs.Get(k); v.AsString() != want {
			t.Errorf("%s = %q, want %q", k, v.AsString(), want)
		}
	}
	if v, _ := attrs.Get(mapping.AttrIntuneMatched); !v.Bool() {
		t.Error("the event the file adds is not matched")
	}

	bad := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\ncodes:\n  - code: 400\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := NewFactory()
	_, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()),
		&Config{NonConnector: NonConnectorPass, Enrichment: mapping.Config{CatalogFiles: []string{bad}}}, sink)
	if err == nil || !strings.Contains(err.Error(), "enrichment::catalog_files: "+bad+":3:") {
		t.Errorf("bad file: error %v", err)
	}
}
