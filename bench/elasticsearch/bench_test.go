// Package elasticsearch benchmarks the intune_elasticsearch exporter into
// the bulk test server: encoding and bulk requests alone, through the
// sending queue, and end to end from a wevtutil export read by the
// intune_connector receiver. Figures are in README.md.
//
//	go test -run '^$' -bench . -benchtime 20x ./bench/elasticsearch/
package elasticsearch

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/cputime"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

const batchSize = 5000

// sink is where documents go: the bulk test server in this process, or,
// with ESBULK_URL set, an esbulkserver in another process, so that the CPU
// figures are the exporter's alone:
//
//	go run ./internal/tools/esbulkserver -addr 127.0.0.1:9201 -discard-sources -trust-sources &
//	ESBULK_URL=http://127.0.0.1:9201 go test -run '^$' -bench . ./bench/elasticsearch/
type sink struct {
	url     string
	local   *esbulktest.Server
	created func() int64
}

func newSink(b *testing.B) *sink {
	b.Helper()
	if u := os.Getenv("ESBULK_URL"); u != "" {
		s := &sink{url: u}
		base := remoteCreated(b, u)
		s.created = func() int64 { return remoteCreated(b, u) - base }
		return s
	}
	srv := esbulktest.Start(esbulktest.Options{DiscardSources: true, TrustSources: true})
	b.Cleanup(srv.Close)
	return &sink{url: srv.URL(), local: srv, created: func() int64 { return srv.Stats().Created }}
}

func remoteCreated(b *testing.B, u string) int64 {
	res, err := http.Get(u + "/_esbulktest/stats")
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var st esbulktest.Stats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		b.Fatal(err)
	}
	return st.Created
}

func (s *sink) waitFor(b *testing.B, n int64) {
	deadline := time.Now().Add(3 * time.Minute)
	for s.created() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d documents arrived", s.created(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// enriched returns n enriched connector events in one Logs.
func enriched(b *testing.B, n int) plog.Logs {
	b.Helper()
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		b.Fatal(err)
	}
	cases := eventgen.CatalogCases(cat)
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		ev := eventgen.EventAt(cat, cases, i)
		en.Enrich(&ev, lrs.AppendEmpty())
	}
	return ld
}

// renumber gives every record a fresh event.id, so each push creates
// documents rather than meeting 409s.
func renumber(ld plog.Logs, round int) {
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	prefix := strconv.Itoa(round) + "-"
	for i := 0; i < lrs.Len(); i++ {
		lrs.At(i).Attributes().PutStr(mapping.AttrEventID, prefix+strconv.Itoa(i))
	}
}

func newExporter(b *testing.B, srv *sink, mutate func(*intuneelasticsearchexporter.Config)) exporter.Logs {
	b.Helper()
	f := intuneelasticsearchexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*intuneelasticsearchexporter.Config)
	cfg.Endpoints = []string{srv.url}
	// A data stream of its own per exporter: _ids repeat between runs, and a
	// server in another process outlives them.
	cfg.DataStream.Namespace = "b" + strconv.FormatInt(time.Now().UnixNano(), 36)
	mutate(cfg)
	exp, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	return exp
}

func shutdown(b *testing.B, exp exporter.Logs) {
	b.Helper()
	if err := exp.Shutdown(context.Background()); err != nil {
		b.Error(err)
	}
}

// report adds events/s, ns/event, CPU-µs/event (exporter and test server
// together, the whole process) and allocations per event.
func report(b *testing.B, events int, cpu time.Duration, ms0, ms1 *runtime.MemStats) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	b.ReportMetric(float64(cpu.Microseconds())/float64(events), "CPU-µs/event")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(events), "allocs/event")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(events), "B/event")
}

// BenchmarkEncodeBulk pushes batches of 5,000 events straight through the
// exporter (no queue): ECS encoding, the bulk body, compression, the HTTP
// round trip, the test server's parsing and storing, and reading the
// answer.
func BenchmarkEncodeBulk(b *testing.B) {
	for _, comp := range []configcompression.Type{"none", configcompression.TypeGzip} {
		b.Run("compression="+string(comp), func(b *testing.B) {
			srv := newSink(b)
			exp := newExporter(b, srv, func(c *intuneelasticsearchexporter.Config) {
				c.ClientConfig.Compression = comp
				c.QueueBatchConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
			})
			defer shutdown(b, exp)
			ld := enriched(b, batchSize)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cputime.Process()
			round := 0
			for b.Loop() {
				b.StopTimer()
				renumber(ld, round)
				round++
				b.StartTimer()
				if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cputime.Process() - cpu0
			runtime.ReadMemStats(&ms1)
			if got := srv.created(); got != int64(round*batchSize) {
				b.Fatalf("server created %d documents, want %d", got, round*batchSize)
			}
			report(b, round*batchSize, cpu, &ms0, &ms1)
		})
	}
}

// BenchmarkQueued feeds 1,000-event requests to the exporter with its
// default sending queue and batching (4 consumers, batches of 5,000 to
// 10,000) and waits until the server holds them all.
func BenchmarkQueued(b *testing.B) {
	srv := newSink(b)
	exp := newExporter(b, srv, func(c *intuneelasticsearchexporter.Config) {
		c.QueueBatchConfig.Get().BlockOnOverflow = true
	})
	defer shutdown(b, exp)
	const chunk = 1000
	src := enriched(b, chunk)
	const rounds = 40 // per iteration: 40,000 events
	var cpu time.Duration
	var mallocs, bytes uint64
	var ms runtime.MemStats
	sent := 0
	for b.Loop() {
		// Building the input is not the exporter's work: it is done with
		// the timer and the CPU and allocation counts stopped.
		b.StopTimer()
		lds := make([]plog.Logs, rounds)
		for i := range lds {
			lds[i] = plog.NewLogs()
			src.CopyTo(lds[i])
			renumber(lds[i], sent/chunk+i)
		}
		runtime.ReadMemStats(&ms)
		m0, b0 := ms.Mallocs, ms.TotalAlloc
		c0 := cputime.Process()
		b.StartTimer()
		for _, ld := range lds {
			if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
				b.Fatal(err)
			}
			sent += chunk
		}
		srv.waitFor(b, int64(sent))
		b.StopTimer()
		cpu += cputime.Process() - c0
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - m0
		bytes += ms.TotalAlloc - b0
		b.StartTimer()
	}
	if got := srv.created(); got != int64(sent) {
		b.Fatalf("server created %d documents, want %d", got, sent)
	}
	ms0 := runtime.MemStats{}
	ms1 := runtime.MemStats{Mallocs: mallocs, TotalAlloc: bytes}
	report(b, sent, cpu, &ms0, &ms1)
}

// BenchmarkEndToEnd reads a 200,000-event wevtutil export with the
// intune_connector receiver, which hands its batches to the exporter (with
// its default queue), until the test server holds every document: the
// whole file -> receiver -> exporter -> Elasticsearch path, on the
// machine's cores.
func BenchmarkEndToEnd(b *testing.B) {
	const n = 200_000
	dir := b.TempDir()
	input := filepath.Join(dir, "events.xml")
	size := writeWevtutil(b, input, n)

	var peak atomic.Uint64
	stopPeak := make(chan struct{})
	peakDone := make(chan struct{})
	go func() { heapPeak(stopPeak, &peak); close(peakDone) }()
	defer func() { close(stopPeak); <-peakDone }()

	b.SetBytes(size)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cputime.Process()
	iters := 0
	for b.Loop() {
		srv := newSink(b)
		exp := newExporter(b, srv, func(c *intuneelasticsearchexporter.Config) {
			c.QueueBatchConfig.Get().BlockOnOverflow = true
		})
		rf := intuneconnectorreceiver.NewFactory()
		rcfg := rf.CreateDefaultConfig().(*intuneconnectorreceiver.Config)
		rcfg.Channels = nil
		rcfg.Include = []string{input}
		rcfg.PollInterval = 10 * time.Millisecond
		rcv, err := rf.CreateLogs(context.Background(), receivertest.NewNopSettings(rf.Type()), rcfg, exp)
		if err != nil {
			b.Fatal(err)
		}
		if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			b.Fatal(err)
		}
		srv.waitFor(b, n)
		if err := rcv.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
		shutdown(b, exp)
		if got := srv.created(); got != n {
			b.Fatalf("%d documents, want %d", got, n)
		}
		if srv.local != nil {
			srv.local.Close()
		}
		iters++
	}
	cpu := cputime.Process() - cpu0
	runtime.ReadMemStats(&ms1)
	report(b, n*iters, cpu, &ms0, &ms1)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// writeWevtutil writes n generated events as `wevtutil qe /f:xml` does,
// the input `gensamples -n 200000 -export wevtutil` writes.
func writeWevtutil(b *testing.B, path string, n int) int64 {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	cat := mapping.MustDefault()
	cases := eventgen.CatalogCases(cat)
	var buf []byte
	for i := range n {
		ev := eventgen.EventAt(cat, cases, i)
		buf = wineventlog.AppendEventXML(buf[:0], &ev, wineventlog.XMLLine)
		buf = append(buf, '\r', '\n')
		if _, err := w.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// heapPeak samples live heap bytes until stop is closed.
func heapPeak(stop <-chan struct{}, peak *atomic.Uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > peak.Load() {
			peak.Store(v)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}
