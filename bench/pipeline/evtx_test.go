package pipeline

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/cputime"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/evtx"
)

// evtxFile returns the real Intune Certificate Connector Admin log of the
// EVTX reader's test data, or the file EVTX_BENCH_FILE names.
func evtxFile(b *testing.B) []byte {
	b.Helper()
	if p := os.Getenv("EVTX_BENCH_FILE"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	f, err := os.Open(filepath.Join("..", "..", "wineventlog", "evtx", "testdata", "intune_certificateconnectors_admin.evtx.gz"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkEVTXEnrichECS is the EVTX input's share of the end-to-end goal
// (10 CPU-µs per event): read every record of an EVTX file, enrich it into
// a fresh record and write its ECS document, as the receiver and the
// Elasticsearch exporter do.
func BenchmarkEVTXEnrichECS(b *testing.B) {
	data := evtxFile(b)
	en, err := mapping.NewEnricher(mapping.MustDefault(), mapping.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	events := 0
	res := pcommon.NewResource()
	var out []byte
	for i := 0; i < b.N; i++ {
		r, err := evtx.NewReader(bytes.NewReader(data), int64(len(data)), evtx.Options{NoOriginal: true})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			lr := plog.NewLogRecord()
			en.Enrich(&rec.Event, lr)
			out = mapping.AppendECS(out[:0], res, lr, mapping.ECSOptions{DataStream: true})
			n++
		}
		if n == 0 {
			b.Fatal("no record read from the EVTX file")
		}
		events += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
	}
	b.ReportMetric(float64(b.N*len(data))/float64(events), "bytes/event")
}
