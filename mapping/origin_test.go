package mapping

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func TestForeign(t *testing.T) {
	tests := []struct {
		name    string
		ev      wineventlog.Event
		foreign bool
	}{
		{"current connector", wineventlog.Event{ProviderName: "Microsoft-Intune-CertificateConnectors", Channel: "Microsoft-Intune-CertificateConnectors/Admin", EventID: 1001}, false},
		{"current connector, ID not in the catalog", wineventlog.Event{ProviderName: "Microsoft-Intune-CertificateConnectors", Channel: "Microsoft-Intune-CertificateConnectors/Operational", EventID: 9999}, false},
		{"current provider by GUID only", wineventlog.Event{ProviderGUID: "{bfd22b4f-4968-5f48-a37c-42ad34e3eedb}", EventID: 9999}, false},
		{"legacy connector log", wineventlog.Event{ProviderName: "Microsoft Intune Connector", Channel: "Microsoft Intune Connector", EventID: 20102}, false},
		{"System log", wineventlog.Event{ProviderName: "Service Control Manager", Channel: "System", EventID: 7036}, true},
		{"another log, with a catalog ID", wineventlog.Event{ProviderName: "Windows Error Reporting", Channel: "Application", EventID: 1001}, true},
		{"Get-EventLog: no log name, catalog ID", wineventlog.Event{ProviderName: "NDESConnector", EventID: 20102}, false},
		{"Get-EventLog: no log name, another provider's ID", wineventlog.Event{ProviderName: "Service Control Manager", EventID: 7036}, true},
		{"nothing to judge by", wineventlog.Event{EventID: 7036}, false},
	}
	cat := MustDefault()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cat.Foreign(&tc.ev); got != tc.foreign {
				t.Errorf("Foreign = %v, want %v", got, tc.foreign)
			}
		})
	}
}

// Enrichment agrees with Foreign: a foreign event is never matched, even
// when its ID is in the catalog, and carries no connector generation.
func TestForeignEventsAreNotMatched(t *testing.T) {
	en, err := NewEnricher(MustDefault(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []wineventlog.Event{
		{ProviderName: "Windows Error Reporting", Channel: "Application", EventID: 1001, Level: 4},
		{ProviderName: "Service Control Manager", Channel: "System", EventID: 7036, Level: 4},
	} {
		lr := plog.NewLogRecord()
		res := en.Enrich(&ev, lr)
		if res.Matched || res.Generation != "" {
			t.Errorf("%s %d: matched %v, generation %q", ev.Channel, ev.EventID, res.Matched, res.Generation)
		}
		if v, ok := lr.Attributes().Get(AttrIntuneMatched); !ok || v.Bool() {
			t.Errorf("%s %d: %s = %v", ev.Channel, ev.EventID, AttrIntuneMatched, v.AsRaw())
		}
		if _, ok := lr.Attributes().Get(AttrEventAction); ok {
			t.Errorf("%s %d has a catalog name", ev.Channel, ev.EventID)
		}
	}
}
