package intunesplunkhecexporter

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter/internal/metadatatest"
	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// catalogLogs enriches n generated connector events, cycling through every
// catalog case, into one resource and scope.
func catalogLogs(t testing.TB, n int) plog.Logs {
	t.Helper()
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	evs := eventgen.Stream(cat, n)
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range evs {
		en.Enrich(&evs[i], lrs.AppendEmpty())
	}
	return ld
}

// records lists ld's records in order.
func records(ld plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				out = append(out, lrs.At(k))
			}
		}
	}
	return out
}

type testExporter struct {
	*hecExporter
	tel    *componenttest.Telemetry
	dlPath string
}

// newTestExporter starts an exporter against rec with quick ack timings and
// a dead-letter file in a temporary directory.
func newTestExporter(t *testing.T, rec *hectest.Recorder, mutate func(*Config)) *testExporter {
	t.Helper()
	return newTestExporterURL(t, rec.URL, mutate)
}

func newTestExporterURL(t *testing.T, url string, mutate func(*Config)) *testExporter {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = url
	cfg.Token = "test-token"
	cfg.DeadLetter.Path = filepath.Join(t.TempDir(), "dead.jsonl")
	cfg.MaxEventSize = 8 << 10
	cfg.Ack.PollInterval = 5e6 // 5ms
	cfg.Ack.Timeout = 10e9     // 10s: long enough on a loaded machine; tests of the timeout set their own
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	tt := componenttest.NewTelemetry()
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tt.NewTelemetrySettings()
	e, err := newHECExporter(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		_ = tt.Shutdown(context.Background())
	})
	return &testExporter{hecExporter: e, tel: tt, dlPath: cfg.DeadLetter.Path}
}

// deadLetters reads the exporter's dead-letter file.
func (te *testExporter) deadLetters(t *testing.T) []deadletter.Entry {
	t.Helper()
	f, err := os.Open(te.dlPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []deadletter.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e deadletter.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("dead-letter line: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// counter sums a counter's points whose attributes include every given
// key=value pair. It fails t when any metric carries attributes
// metadata.yaml does not declare.
func (te *testExporter) counter(t *testing.T, name string, kv ...string) int64 {
	t.Helper()
	metadatatest.AssertDeclared(t, te.tel)
	m, err := te.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T, not an int64 sum", name, m.Data)
	}
	var total int64
	for _, dp := range sum.DataPoints {
		match := true
		for i := 0; i+1 < len(kv); i += 2 {
			v, ok := dp.Attributes.Value(attribute.Key(kv[i]))
			if !ok || v.AsString() != kv[i+1] {
				match = false
			}
		}
		if match {
			total += dp.Value
		}
	}
	return total
}

// eventIDs returns the event.id of each HEC event, in order.
func eventIDs(t *testing.T, evs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		var v struct {
			Event struct {
				Event struct {
					ID string `json:"id"`
				} `json:"event"`
			} `json:"event"`
		}
		if err := json.Unmarshal(ev, &v); err != nil {
			t.Fatalf("event is not JSON: %v", err)
		}
		out = append(out, v.Event.Event.ID)
	}
	return out
}

func recordIDs(ld plog.Logs) []string {
	var out []string
	for _, lr := range records(ld) {
		v, _ := lr.Attributes().Get(mapping.AttrEventID)
		out = append(out, v.AsString())
	}
	return out
}
