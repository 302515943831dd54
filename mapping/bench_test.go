package mapping_test

import (
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// benchEvents is a mix of every catalog entry and code, both generations,
// as a real log would interleave them.
func benchEvents(b *testing.B) ([]plog.LogRecord, *mapping.Enricher, []wineventlog.Event) {
	b.Helper()
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		b.Fatal(err)
	}
	evs := eventgen.Stream(cat, 1024)
	recs := make([]plog.LogRecord, len(evs))
	for i := range evs {
		recs[i] = plog.NewLogRecord()
		en.Enrich(&evs[i], recs[i])
	}
	return recs, en, evs
}

func BenchmarkEnrich(b *testing.B) {
	_, en, evs := benchEvents(b)
	lr := plog.NewLogRecord()
	b.ReportAllocs()
	b.ResetTimer()
	matched := 0
	for i := 0; i < b.N; i++ {
		lr.Attributes().Clear()
		if en.Enrich(&evs[i%len(evs)], lr).Matched {
			matched++
		}
	}
	if matched != b.N {
		b.Fatalf("%d of %d generated events matched the catalog", matched, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// BenchmarkAppendECS projects records with no resource ("bare", the
// figures bench/README.md quotes) and with the resource the intune_connector
// receiver puts on every record.
func BenchmarkAppendECS(b *testing.B) {
	recs, _, _ := benchEvents(b)
	receiver := plog.NewResourceLogs().Resource()
	for k, v := range map[string]string{"host.name": "NDES01.contoso.example", "os.type": "windows",
		"service.name": "intune-certificate-connector", "service.namespace": "intune"} {
		receiver.Attributes().PutStr(k, v)
	}
	for _, tc := range []struct {
		name string
		res  pcommon.Resource
	}{
		{"bare", plog.NewResourceLogs().Resource()},
		{"receiver_resource", receiver},
	} {
		b.Run(tc.name, func(b *testing.B) {
			benchProjection(b, recs, "ECS documents", func(buf []byte, lr plog.LogRecord) []byte {
				return mapping.AppendECS(buf, tc.res, lr, mapping.ECSOptions{DataStream: true})
			})
		})
	}
}

// benchProjection runs project over the records and checks that it wrote
// full documents.
func benchProjection(b *testing.B, recs []plog.LogRecord, what string, project func([]byte, plog.LogRecord) []byte) {
	var buf []byte
	total := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = project(buf[:0], recs[i%len(recs)])
		total += len(buf)
	}
	if total < b.N*500 {
		b.Fatalf("%s average %d bytes; expected full ones", what, total/b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// BenchmarkEnrichThenECS asks whether the exporters would gain from
// encoding a record while it is still in the cache, right after enrichment
// (the receiver's goroutine), instead of after the queue, a batch later:
// "at_once" projects each record as soon as it is enriched, "after_batch"
// enriches a batch of 1,000 records and then projects them all.
func BenchmarkEnrichThenECS(b *testing.B) {
	_, en, evs := benchEvents(b)
	res := plog.NewResourceLogs().Resource()
	const batch = 1000
	for _, atOnce := range []bool{true, false} {
		name := "after_batch"
		if atOnce {
			name = "at_once"
		}
		b.Run(name, func(b *testing.B) {
			var buf []byte
			total, docs := 0, 0
			project := func(lr plog.LogRecord) {
				buf = mapping.AppendECS(buf[:0], res, lr, mapping.ECSOptions{DataStream: true})
				total += len(buf)
				docs++
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i += batch {
				recs := plog.NewLogRecordSlice()
				recs.EnsureCapacity(batch)
				for j := range batch {
					lr := recs.AppendEmpty()
					en.Enrich(&evs[(i+j)%len(evs)], lr)
					if atOnce {
						project(lr)
					}
				}
				if !atOnce {
					for j := range batch {
						project(recs.At(j))
					}
				}
			}
			if docs == 0 || total < docs*500 {
				b.Fatalf("%d documents of %d bytes on average; expected full ECS documents", docs, total/max(docs, 1))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(docs), "ns/event")
		})
	}
}

func BenchmarkAppendHEC(b *testing.B) {
	recs, _, _ := benchEvents(b)
	res := plog.NewResourceLogs().Resource()
	benchProjection(b, recs, "HEC events", func(buf []byte, lr plog.LogRecord) []byte {
		return mapping.AppendHEC(buf, res, lr, mapping.HECOptions{})
	})
}

// BenchmarkRecordMemory reports the heap a finished record keeps alive,
// which is what bounds a collector's memory while records wait in an
// exporter's queue. The events themselves are allocated before the count.
func BenchmarkRecordMemory(b *testing.B) {
	_, en, evs := benchEvents(b)
	const n = 4096
	var retained uint64
	for i := 0; i < b.N; i++ {
		logs := plog.NewLogs()
		recs := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		recs.EnsureCapacity(n)
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		for j := 0; j < n; j++ {
			en.Enrich(&evs[j%len(evs)], recs.AppendEmpty())
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		if recs.Len() != n || recs.At(n-1).Attributes().Len() < 10 {
			b.Fatalf("%d records, the last with %d attributes", recs.Len(), recs.At(n-1).Attributes().Len())
		}
		retained += m1.HeapAlloc - m0.HeapAlloc
		runtime.KeepAlive(logs)
	}
	b.ReportMetric(float64(retained)/float64(b.N*n), "retained-B/record")
}
