package intuneenrichprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/processor/intuneenrichprocessor/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/processor/intuneenrichprocessor/internal/metadatatest"
)

// Every record is counted by what became of it, connector records the
// catalog lacks by what it lacks, and the data points carry only the
// attributes metadata.yaml declares.
func TestTelemetry(t *testing.T) {
	cat := mapping.MustDefault()
	cases := eventgen.CatalogCases(cat)
	known := eventgen.Rendered(cat, eventgen.Event(cat, cases[0], 0))
	unknownEvent := known
	unknownEvent.EventID = 65000
	var coded eventgen.Case
	for _, c := range cases {
		if c.Code != "" {
			coded = c
			break
		}
	}
	coded.Code = "0x0BADC0DE"
	unknownCode := eventgen.Rendered(cat, eventgen.Event(cat, coded, 1))

	tel := componenttest.NewTelemetry()
	defer func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	consume := func(cfg *Config, ld plog.Logs) *consumertest.LogsSink {
		t.Helper()
		set := processortest.NewNopSettings(metadata.Type)
		set.TelemetrySettings = tel.NewTelemetrySettings()
		sink := new(consumertest.LogsSink)
		p, err := NewFactory().CreateLogs(context.Background(), set, cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		return sink
	}

	broken := "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>3001"
	sink := consume(createDefaultConfig().(*Config), logsWith(
		contribBody(&known, contribReleases[2]),
		contribBody(&unknownEvent, contribReleases[2]),
		contribBody(&unknownCode, contribReleases[2]),
		strBody("plain application log line"),
		strBody(broken),
	))
	// The three enriched records once more.
	again := plog.NewLogs()
	sink.AllLogs()[0].CopyTo(again)
	again.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
		_, ok := lr.Attributes().Get(mapping.AttrIntuneEnrichmentVersion)
		return !ok
	})
	consume(createDefaultConfig().(*Config), again)
	consume(&Config{NonConnector: NonConnectorDrop}, logsWith(strBody("plain application log line")))

	tests := []struct {
		metric, key, value string
		want               int64
	}{
		{"otelcol_intune_enrich_records", "result", resultEnriched, 3},
		{"otelcol_intune_enrich_records", "result", resultAlreadyEnriched, 3},
		{"otelcol_intune_enrich_records", "result", resultPassed, 1},
		{"otelcol_intune_enrich_records", "result", resultParseError, 1},
		{"otelcol_intune_enrich_records", "result", resultDropped, 1},
		{"otelcol_intune_enrich_unmatched", "kind", kindEvent, 1},
		{"otelcol_intune_enrich_unmatched", "kind", kindCode, 1},
	}
	for _, tt := range tests {
		if got := counterWith(t, tel, tt.metric, attribute.String(tt.key, tt.value)); got != tt.want {
			t.Errorf("%s{%s=%q} = %d, want %d", tt.metric, tt.key, tt.value, got, tt.want)
		}
	}
	metadatatest.AssertDeclared(t, tel)
}

// counterWith sums the data points of a counter that carry kv.
func counterWith(t *testing.T, tel *componenttest.Telemetry, name string, kv attribute.KeyValue) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, ok := dp.Attributes.Value(kv.Key); ok && v == kv.Value {
			n += dp.Value
		}
	}
	return n
}
