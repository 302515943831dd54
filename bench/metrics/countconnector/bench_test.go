// Package countconnector measures the contrib count connector on the same
// events as the intune_metrics connector benchmark (../): the sample
// exports, enriched, read from the OTLP JSON lines that
// `intunectl convert --to otlp-json` writes. Run it with ./run.sh.
package countconnector

import (
	"bufio"
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/countconnector"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

const batchSize = 1_000

// input reads INTUNE_OTLP_JSON into batches of at most batchSize records.
func input(b *testing.B) ([]plog.Logs, int) {
	b.Helper()
	path := os.Getenv("INTUNE_OTLP_JSON")
	if path == "" {
		b.Skip("INTUNE_OTLP_JSON is not set: run ./run.sh")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var u plog.JSONUnmarshaler
	var out []plog.Logs
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		ld, err := u.UnmarshalLogs(sc.Bytes())
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					if n%batchSize == 0 {
						nb := plog.NewLogs()
						nb.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
						out = append(out, nb)
					}
					lr.CopyTo(out[len(out)-1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty())
					n++
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	if n == 0 {
		b.Fatalf("%s holds no records", path)
	}
	return out, n
}

// The attributes intune.connector.events groups by. The count connector
// skips a record that lacks one unless it has a default, and most events
// lack the CA, the template or the diagnostic code: so every attribute
// gets the default "none" (v0.130.0 treats an empty default as no default;
// v0.165.0 accepts one).
var attributes = []string{
	"event.action", "event.code", "event.outcome", "intune.category", "intune.diagnostic.code",
	"host.name", "intune.certificate_authority", "intune.certificate.template",
}

func metricInfo(conditions []string) countconnector.MetricInfo {
	mi := countconnector.MetricInfo{Description: "Intune Certificate Connector events.", Conditions: conditions}
	for _, a := range attributes {
		mi.Attributes = append(mi.Attributes, countconnector.AttributeConfig{Key: a, DefaultValue: "none"})
	}
	return mi
}

// BenchmarkCountConnector counts the events by the eight attributes, with
// no condition and with one (records of the record contract only), and
// checks that every event was counted.
func BenchmarkCountConnector(b *testing.B) {
	for _, bc := range []struct {
		name       string
		conditions []string
	}{
		{"attributes_only", nil},
		{"one_condition", []string{`attributes["intune.enrichment.version"] != nil`}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			batches, events := input(b)
			f := countconnector.NewFactory()
			cfg := &countconnector.Config{Logs: map[string]countconnector.MetricInfo{"intune.connector.events": metricInfo(bc.conditions)}}
			sink := &consumertest.MetricsSink{}
			c, err := f.CreateLogsToMetrics(context.Background(), connectortest.NewNopSettings(f.Type()), cfg, sink)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
				b.Fatal(err)
			}
			defer c.Shutdown(context.Background())
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for range b.N {
				sink.Reset()
				for _, ld := range batches {
					if err := c.ConsumeLogs(context.Background(), ld); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			n := float64(b.N * events)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/event")
			}
			// The sink holds the last round: one delta per batch.
			var got int64
			for _, md := range sink.AllMetrics() {
				got += total(md)
			}
			if got != int64(events) {
				b.Fatalf("counted %d events in the last round, want %d", got, events)
			}
		})
	}
}

func total(md pmetric.Metrics) int64 {
	var n int64
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				for _, dp := range m.Sum().DataPoints().All() {
					n += dp.IntValue()
				}
			}
		}
	}
	return n
}

// processCPU is the CPU time of the whole process: steadier than wall time
// on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
