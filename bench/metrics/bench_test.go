package metrics

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-intune/otelcol-intune/connector/intunemetricsconnector"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/cputime"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

const batchSize = 1_000 // records per plog.Logs at most, as a receiver batch

// samples returns the events of testdata/samples (every export format,
// both connector generations, a real connector log), enriched as the
// receiver does, in batches, and how many there are. The count connector
// benchmark (countconnector/) reads the same events.
func samples(b *testing.B) ([]plog.Logs, int) {
	b.Helper()
	en, err := mapping.NewEnricher(mapping.MustDefault(), mapping.Config{})
	if err != nil {
		b.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "samples", "*"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no sample exports: %v", err)
	}
	var out []plog.Logs
	n := 0
	for _, path := range files {
		f, err := eventfile.Open(path, eventfile.Options{NoOriginal: true})
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := f.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatalf("%s: %v", path, err)
			}
			if n%batchSize == 0 {
				ld := plog.NewLogs()
				ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
				out = append(out, ld)
			}
			en.Enrich(&rec.Event, out[len(out)-1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty())
			n++
		}
		f.Close()
	}
	return out, n
}

// BenchmarkIntuneMetrics counts every event into both metrics, and checks
// that the sum of the counts is what went in.
func BenchmarkIntuneMetrics(b *testing.B) {
	batches, events := samples(b)
	f := intunemetricsconnector.NewFactory()
	sink := &consumertest.MetricsSink{}
	cfg := f.CreateDefaultConfig()
	c, err := f.CreateLogsToMetrics(context.Background(), connectortest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for range b.N {
		for _, ld := range batches {
			if err := c.ConsumeLogs(context.Background(), ld); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	perEvent(b, cpu0, events)
	if err := c.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	all := sink.AllMetrics()
	if len(all) == 0 {
		b.Fatal("nothing sent at shutdown")
	}
	if got, want := total(all[len(all)-1]), int64(b.N*events); got != want {
		b.Fatalf("counted %d events, want %d", got, want)
	}
}

// perEvent reports wall and CPU time per event. On a shared machine the CPU
// time of the process is the steadier of the two.
func perEvent(b *testing.B, cpu0 time.Duration, n int) {
	events := float64(b.N * n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
	}
}

func total(md pmetric.Metrics) int64 {
	var n int64
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Name() != intunemetricsconnector.MetricEvents {
					continue
				}
				for _, dp := range m.Sum().DataPoints().All() {
					n += dp.IntValue()
				}
			}
		}
	}
	return n
}
