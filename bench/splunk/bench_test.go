// Package splunkbench measures the intune_splunk_hec exporter: encoding and
// POSTing enriched connector events to a local HEC sink, and the whole path
// from a 200,000-event wevtutil export through decoding, enrichment and the
// exporter. Run:
//
//	go test -run '^$' -bench . -benchmem -cpu 2 ./bench/splunk/
package splunkbench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/cputime"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// batchSize is the exporter's default batch max_size.
var batchSize = int(intunesplunkhecexporter.NewFactory().CreateDefaultConfig().(*intunesplunkhecexporter.Config).QueueConfig.Get().Batch.Get().MaxSize)

// receiverBatch is the intune_connector receiver's default max_batch_size:
// the size of the requests the exporter's queue gets in a collector.
var receiverBatch = intuneconnectorreceiver.NewFactory().CreateDefaultConfig().(*intuneconnectorreceiver.Config).MaxBatchSize

// sink is a HEC endpoint that reads each body and answers success. It does
// not decompress: a real Splunk does that on its own machine.
type sink struct {
	*httptest.Server
	requests atomic.Int64
	bytes    atomic.Int64
	events   atomic.Int64 // counted in uncompressed bodies only
}

func newSink() *sink {
	s := &sink{}
	var bufs sync.Pool
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := bufs.Get().(*bytes.Buffer)
		if b == nil {
			b = new(bytes.Buffer)
		}
		b.Reset()
		n, _ := io.Copy(b, r.Body)
		if r.URL.Path == "/services/collector/event" {
			s.requests.Add(1)
			s.bytes.Add(n)
			if r.Header.Get("Content-Encoding") == "" {
				s.events.Add(int64(bytes.Count(b.Bytes(), []byte(`{"time":`))))
			}
		}
		bufs.Put(b)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	return s
}

// newExporter builds the exporter as a collector would, without the sending
// queue, so each ConsumeLogs is one synchronous push.
func newExporter(b *testing.B, url string, gzip bool) exporter.Logs {
	b.Helper()
	f := intunesplunkhecexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*intunesplunkhecexporter.Config)
	cfg.ClientConfig.Endpoint = url
	cfg.Token = "bench"
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	if !gzip {
		cfg.ClientConfig.Compression = "none"
	} else {
		cfg.ClientConfig.Compression = configcompression.TypeGzip
	}
	e, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e
}

func enrichedBatch(b *testing.B, n int) plog.Logs {
	b.Helper()
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		b.Fatal(err)
	}
	evs := eventgen.Stream(cat, n)
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range evs {
		en.Enrich(&evs[i], lrs.AppendEmpty())
	}
	return ld
}

// BenchmarkEncodePost pushes batches of 2000 enriched records: projection,
// request splitting at max_content_length, optional gzip, POST and answer.
// Pushes run in parallel, as the sending queue's consumers run them.
func BenchmarkEncodePost(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := "plain"
		if gz {
			name = "gzip1"
		}
		b.Run(name, func(b *testing.B) {
			s := newSink()
			defer s.Close()
			e := newExporter(b, s.URL, gz)
			src := enrichedBatch(b, batchSize)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process().Nanoseconds()
			b.RunParallel(func(pb *testing.PB) {
				ld := plog.NewLogs()
				src.CopyTo(ld)
				for pb.Next() {
					if err := e.ConsumeLogs(context.Background(), ld); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			total := int64(b.N) * int64(batchSize)
			if s.requests.Load() < int64(b.N) || s.bytes.Load() < total*200 {
				b.Fatalf("sink saw %d requests and %d bytes for %d events", s.requests.Load(), s.bytes.Load(), total)
			}
			if !gz && s.events.Load() != total {
				b.Fatalf("sink counted %d events, %d were pushed", s.events.Load(), total)
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cputime.Process().Nanoseconds()-cpu0)/float64(total), "cpu-ns/event")
			b.ReportMetric(float64(s.bytes.Load())/float64(total), "wire-bytes/event")
		})
	}
}

// BenchmarkEndToEnd200k reads a 200,000-event wevtutil export, decodes and
// enriches it in the receiver's default batches and hands them to the exporter with its
// default sending queue, as a collector pipeline would; each iteration ends when the queue has drained.
func BenchmarkEndToEnd200k(b *testing.B) {
	const n = 200_000
	path := filepath.Join(b.TempDir(), "events.xml")
	writeInput(b, path, n)
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, gz := range []bool{false, true} {
		name := "plain"
		if gz {
			name = "gzip1"
		}
		b.Run(name, func(b *testing.B) {
			s := newSink()
			defer s.Close()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process().Nanoseconds()
			for i := 0; i < b.N; i++ {
				e := newQueuedExporter(b, s.URL, gz)
				got := exportFile(b, path, en, e)
				if err := e.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
				if got != n {
					b.Fatalf("exported %d events of %d", got, n)
				}
			}
			b.StopTimer()
			if !gz && s.events.Load() != int64(b.N)*n {
				b.Fatalf("sink counted %d events, want %d", s.events.Load(), int64(b.N)*n)
			}
			if gz && s.bytes.Load() < int64(b.N)*n*100 {
				b.Fatalf("sink received %d bytes for %d events", s.bytes.Load(), int64(b.N)*n)
			}
			b.ReportMetric(float64(int64(b.N)*n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cputime.Process().Nanoseconds()-cpu0)/float64(int64(b.N)*n), "cpu-ns/event")
		})
	}
}

// newQueuedExporter is the exporter with its default sending queue (4,000
// records, four consumers, blocking when full, so nothing is dropped).
func newQueuedExporter(b *testing.B, url string, gzip bool) exporter.Logs {
	b.Helper()
	f := intunesplunkhecexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*intunesplunkhecexporter.Config)
	cfg.ClientConfig.Endpoint = url
	cfg.Token = "bench"
	cfg.HealthCheck.Enabled = false
	if q := cfg.QueueConfig.Get(); !q.BlockOnOverflow || q.NumConsumers != 4 {
		b.Fatalf("the defaults changed (%d consumers, block_on_overflow %v): update this benchmark's README", q.NumConsumers, q.BlockOnOverflow)
	}
	if !gzip {
		cfg.ClientConfig.Compression = "none"
	}
	e, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	return e
}

func exportFile(b *testing.B, path string, en *mapping.Enricher, e exporter.Logs) int {
	f, err := eventfile.Open(path, eventfile.Options{NoOriginal: true})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	total := 0
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	flush := func() {
		if lrs.Len() == 0 {
			return
		}
		total += lrs.Len()
		if err := e.ConsumeLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
		ld = plog.NewLogs()
		lrs = ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	}
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		en.Enrich(&rec.Event, lrs.AppendEmpty())
		if lrs.Len() == receiverBatch {
			flush()
		}
	}
	flush()
	return total
}

func writeInput(b *testing.B, path string, n int) {
	b.Helper()
	cat := mapping.MustDefault()
	ex, err := eventgen.ExportByName("wevtutil")
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	cases := eventgen.CatalogCases(cat)
	batch := make([]wineventlog.Event, 0, 1000)
	for i := 0; i < n; i++ {
		batch = append(batch, eventgen.EventAt(cat, cases, i))
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := w.Write(ex.Write(batch)); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}
