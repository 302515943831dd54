package elasticsearch

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/cputime"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
)

// BenchmarkRejections sends 1,000-event requests through the default
// sending queue into a bulk test server that turns away a random share of
// documents (bulk item 429, as a cluster whose write queues are full), and
// in the last case also answers 1 % of documents 500 and 2 % of requests
// 429 with Retry-After: 1. An iteration ends when every document is
// stored; the benchmark then checks that each _id sent is stored exactly
// once (the server answers a second create of an _id 409) and that nothing
// is missing.
func BenchmarkRejections(b *testing.B) {
	cases := []struct {
		name     string
		rejected float64 // share of documents answered 429
		failed   float64 // share answered 500
		throttle float64 // share of bulk requests answered 429, Retry-After: 1
	}{
		{name: "items=0%"},
		{name: "items=1%", rejected: 0.01},
		{name: "items=5%", rejected: 0.05},
		{name: "items=5%+500=1%+requests=2%", rejected: 0.05, failed: 0.01, throttle: 0.02},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			srv := esbulktest.Start(esbulktest.Options{DiscardSources: true, TrustSources: true})
			b.Cleanup(srv.Close)
			if tc.rejected > 0 {
				srv.FailItems(esbulktest.ItemFault{Status: 429, Type: esbulktest.TypeRejectedExecution, Fraction: tc.rejected, Seed: 1})
			}
			if tc.failed > 0 {
				srv.FailItems(esbulktest.ItemFault{Status: 500, Type: "exception", Fraction: tc.failed, Seed: 2})
			}
			if tc.throttle > 0 {
				srv.FailRequests(esbulktest.RequestFault{Path: "/_bulk", Status: 429, RetryAfter: "1", Fraction: tc.throttle, Seed: 3})
			}
			sink := &sink{url: srv.URL(), local: srv, created: func() int64 { return srv.Stats().Created }}
			exp := newExporter(b, sink, func(c *intuneelasticsearchexporter.Config) {
				c.QueueBatchConfig.Get().BlockOnOverflow = true
				// Retry without a time limit: the benchmark counts on
				// every document arriving.
				c.BackOffConfig.MaxElapsedTime = 0
			})
			defer shutdown(b, exp)

			const chunk, rounds = 1000, 20
			src := enriched(b, chunk)
			sent := 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				lds := make([]plog.Logs, rounds)
				for i := range lds {
					lds[i] = plog.NewLogs()
					src.CopyTo(lds[i])
					renumber(lds[i], sent/chunk+i)
				}
				c0 := cputime.Process()
				b.StartTimer()
				for _, ld := range lds {
					if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
						b.Fatal(err)
					}
					sent += chunk
				}
				sink.waitFor(b, int64(sent))
				b.StopTimer()
				cpu += cputime.Process() - c0
				b.StartTimer()
			}
			b.StopTimer()
			checkStoredOnce(b, srv, sent, chunk)
			st := srv.Stats()
			b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(sent), "CPU-µs/event")
			b.ReportMetric(float64(st.Faults)/float64(sent)*100, "faults-%")
			b.ReportMetric(float64(st.Conflicts), "409s")
			runtime.GC()
		})
	}
}

// checkStoredOnce fails unless the server holds exactly the _ids sent:
// rounds of chunk events numbered as renumber does.
func checkStoredOnce(b *testing.B, srv *esbulktest.Server, sent, chunk int) {
	b.Helper()
	seen := map[string]int{}
	for _, t := range srv.Targets() {
		for _, d := range srv.Docs(t) {
			seen[d.ID]++
		}
	}
	missing := 0
	for r := range sent / chunk {
		prefix := strconv.Itoa(r) + "-"
		for i := range chunk {
			if n := seen[prefix+strconv.Itoa(i)]; n != 1 {
				missing++
				if missing < 5 {
					b.Errorf("_id %s%d stored %d times", prefix, i, n)
				}
			}
		}
	}
	if missing > 0 || len(seen) != sent {
		b.Fatalf("%d of %d documents not stored exactly once; %d distinct _ids stored", missing, sent, len(seen))
	}
}
