package intuneelasticsearchexporter

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter/internal/metadatatest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testHost offers extensions (the storage extension of the persistent
// queue) to the exporter.
type testHost struct {
	ext map[component.ID]component.Component
}

func (h testHost) GetExtensions() map[component.ID]component.Component { return h.ext }

// records returns n enriched connector events as one Logs, each with its
// fingerprint in event.id, starting at event number from.
func records(t testing.TB, from, n int) plog.Logs {
	t.Helper()
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := eventgen.CatalogCases(cat)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "otelcol-intune")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := from; i < from+n; i++ {
		ev := eventgen.EventAt(cat, cases, i)
		en.Enrich(&ev, lrs.AppendEmpty())
	}
	return ld
}

// ids returns the event.id of every record, in order.
func ids(ld plog.Logs) []string {
	var out []string
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				v, _ := lrs.At(k).Attributes().Get(mapping.AttrEventID)
				out = append(out, v.Str())
			}
		}
	}
	return out
}

// testConfig points a default config at srv with quick retries and no
// queue, so ConsumeLogs returns the final outcome.
func testConfig(srv *esbulktest.Server) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoints = []string{srv.URL()}
	cfg.ClientConfig.Timeout = 10 * time.Second
	cfg.BackOffConfig.InitialInterval = 5 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 20 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 5 * time.Second
	cfg.QueueBatchConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	return cfg
}

type harness struct {
	exp exporter.Logs
	tel *componenttest.Telemetry
}

func startExporter(t *testing.T, cfg *Config) *harness {
	t.Helper()
	h, err := tryStart(t, cfg, testHost{})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return h
}

func tryStart(t *testing.T, cfg *Config, host component.Host) (*harness, error) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{exp: exp, tel: tel}
	t.Cleanup(func() {
		if err := exp.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		_ = tel.Shutdown(context.Background())
	})
	if err := exp.Start(context.Background(), host); err != nil {
		return h, err
	}
	return h, nil
}

// metricPrefix begins the name of each of the exporter's metrics.
const metricPrefix = "otelcol_intune_elasticsearch_"

// counter returns the sum of an int counter, 0 when nothing was recorded.
// It fails t when any metric carries attributes metadata.yaml does not
// declare.
func (h *harness) counter(t *testing.T, name string) int64 {
	t.Helper()
	metadatatest.AssertDeclared(t, h.tel)
	m, err := h.tel.GetMetric(metricPrefix + name)
	if err != nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T", name, m.Data)
	}
	var n int64
	for _, dp := range sum.DataPoints {
		n += dp.Value
	}
	return n
}

func (h *harness) histogramCount(t *testing.T, name string) uint64 {
	t.Helper()
	m, err := h.tel.GetMetric(metricPrefix + name)
	if err != nil {
		return 0
	}
	var n uint64
	switch d := m.Data.(type) {
	case metricdata.Histogram[int64]:
		for _, dp := range d.DataPoints {
			n += dp.Count
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			n += dp.Count
		}
	}
	return n
}

func startServer(t *testing.T, o esbulktest.Options) *esbulktest.Server {
	t.Helper()
	s := esbulktest.Start(o)
	t.Cleanup(s.Close)
	return s
}

const defaultStream = "logs-intune_connector.events-default"

func exporterSettings() exporter.Settings { return exportertest.NewNopSettings(metadata.Type) }
