package intunemetricsconnector

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-intune/otelcol-intune/connector/intunemetricsconnector/internal/metadatatest"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// Every record is counted by what became of it, every refused send once,
// and the data points carry only the attributes metadata.yaml declares.
func TestTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	defer func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	cfg := defaultConfig()
	cfg.MaxSeries = 2
	h := newHarness(t, cfg)
	c, err := newConnector(tel.NewTelemetrySettings(), "test", cfg, h.sink)
	if err != nil {
		t.Fatal(err)
	}
	c.now = h.clock.Now
	h.c = c
	// Three hosts for two series: the third host's two events overflow.
	h.consume(t, logsOf(t, nil,
		record{attrs: scepVerify("ndes01")}, record{attrs: scepVerify("ndes02")},
		record{attrs: scepVerify("ndes03")}, record{attrs: scepVerify("ndes03")},
		record{attrs: with(scepVerify("ndes01"), mapping.AttrIntuneEnrichmentVersion, nil)},
		record{attrs: map[string]any{"message": "another application's log"}},
	))
	refusing := true
	h.c.next = &switchable{refuse: func() bool { return refusing }, sink: h.sink}
	h.c.send(context.Background())
	h.c.send(context.Background())
	refusing = false
	h.c.send(context.Background())

	for _, tt := range []struct {
		result string
		want   int64
	}{{resultCounted, 2}, {resultOverflow, 2}, {resultSkipped, 2}} {
		if got := counterWith(t, tel, "otelcol_intune_metrics_records", attribute.String("result", tt.result)); got != tt.want {
			t.Errorf("otelcol_intune_metrics_records{result=%q} = %d, want %d", tt.result, got, tt.want)
		}
	}
	if got := counterWith(t, tel, "otelcol_intune_metrics_send_failures"); got != 2 {
		t.Errorf("otelcol_intune_metrics_send_failures = %d, want 2", got)
	}
	metadatatest.AssertDeclared(t, tel)
}

// counterWith sums the data points of a counter that carry every kv.
func counterWith(t *testing.T, tel *componenttest.Telemetry, name string, kvs ...attribute.KeyValue) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		match := true
		for _, kv := range kvs {
			v, ok := dp.Attributes.Value(kv.Key)
			match = match && ok && v == kv.Value
		}
		if match {
			n += dp.Value
		}
	}
	return n
}
