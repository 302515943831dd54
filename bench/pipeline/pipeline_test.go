package pipeline

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/cputime"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

const benchEvents = 20000

// input renders benchEvents generated connector events (both generations,
// every catalog case, odd code spellings) in one export shape.
func input(b *testing.B, export string) []byte {
	b.Helper()
	cat := mapping.MustDefault()
	ex, err := eventgen.ExportByName(export)
	if err != nil {
		b.Fatal(err)
	}
	evs := eventgen.Stream(cat, benchEvents)
	if ex.Rendered {
		for i := range evs {
			evs[i] = eventgen.Rendered(cat, evs[i])
		}
	}
	return ex.Write(evs)
}

// run decodes, enriches and encodes every event of data, as the receiver
// and an exporter do, and returns how many went through.
func run(b *testing.B, data []byte, encode func([]byte, pcommon.Resource, plog.LogRecord) []byte) int {
	en, err := mapping.NewEnricher(mapping.MustDefault(), mapping.Config{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := wineventlog.NewDecoder(bytes.NewReader(data), wineventlog.Options{NoOriginal: true})
	if err != nil {
		b.Fatal(err)
	}
	res := pcommon.NewResource()
	lr := plog.NewLogRecord()
	var out []byte
	n := 0
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		lr.Attributes().Clear()
		en.Enrich(&rec.Event, lr)
		out = encode(out[:0], res, lr)
		n++
	}
}

func benchPipeline(b *testing.B, export string, encode func([]byte, pcommon.Resource, plog.LogRecord) []byte) {
	data := input(b, export)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	events := 0
	for i := 0; i < b.N; i++ {
		if n := run(b, data, encode); n != benchEvents {
			b.Fatalf("%d events through the pipeline, want %d", n, benchEvents)
		}
		events += benchEvents
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

func ecs(dst []byte, res pcommon.Resource, lr plog.LogRecord) []byte {
	return mapping.AppendECS(dst, res, lr, mapping.ECSOptions{DataStream: true})
}

func hec(dst []byte, res pcommon.Resource, lr plog.LogRecord) []byte {
	return mapping.AppendHEC(dst, res, lr, mapping.HECOptions{})
}

// BenchmarkDecodeEnrichECS is the foundation's goal: under 10 µs per event
// on one core for wevtutil XML lines.
func BenchmarkDecodeEnrichECS(b *testing.B) {
	for _, export := range []string{"wevtutil", "rendered-events", "compress", "ps51"} {
		b.Run(export, func(b *testing.B) { benchPipeline(b, export, ecs) })
	}
}

func BenchmarkDecodeEnrichHEC(b *testing.B) {
	benchPipeline(b, "wevtutil", hec)
}
