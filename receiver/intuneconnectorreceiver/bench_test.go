package intuneconnectorreceiver

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/cputime"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// writeWevtutilInput writes n generated events as wevtutil qe /f:xml does,
// the same input as `gensamples -n N -export wevtutil`.
func writeWevtutilInput(tb testing.TB, path string, n int) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for i := range n {
		ev := genEvent(i)
		buf = wineventlog.AppendEventXML(buf[:0], &ev, wineventlog.XMLLine)
		buf = append(buf, '\r', '\n')
		if _, err := w.Write(buf); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return st.Size()
}

// countingSink counts records and drops them, so the benchmark measures
// the receiver, not a sink holding 200k records.
type countingSink struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (s *countingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *countingSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if s.n.Add(int64(ld.LogRecordCount())) == s.want {
		close(s.done)
	}
	return nil
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

// BenchmarkReceiverThroughput reads a wevtutil export of 50k and of 200k
// events from a cold start to the last record accepted by a sink:
// decoding, enrichment, batching and checkpoints (in memory). Reported:
// events/s, and the peak live heap, which stays flat as the input grows.
//
//	go test -run '^$' -bench ReceiverThroughput -benchtime 5x ./receiver/intuneconnectorreceiver/
func BenchmarkReceiverThroughput(b *testing.B) {
	for _, n := range []int{50_000, 200_000} {
		b.Run("events="+strconv.Itoa(n), func(b *testing.B) { benchThroughput(b, n) })
	}
}

func benchThroughput(b *testing.B, n int) {
	dir := b.TempDir()
	size := writeWevtutilInput(b, filepath.Join(dir, "events.xml"), n)
	cfg := testConfig(dir)
	cfg.PollInterval = 10 * time.Millisecond
	cfg.MaxBatchDelay = 200 * time.Millisecond

	var peak atomic.Uint64
	stopPeak := make(chan struct{})
	peakDone := make(chan struct{})
	go func() { heapPeak(stopPeak, &peak); close(peakDone) }()
	defer func() { close(stopPeak); <-peakDone }()

	b.ReportAllocs()
	b.SetBytes(size)
	iters := 0
	cpu0 := cputime.Process()
	for b.Loop() {
		sink := &countingSink{want: int64(n), done: make(chan struct{})}
		r, err := newReceiver(receiverSettings(), cfg, sink)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Start(context.Background(), nopHost()); err != nil {
			b.Fatal(err)
		}
		select {
		case <-sink.done:
		case <-time.After(2 * time.Minute):
			b.Fatalf("only %d of %d events arrived", sink.n.Load(), n)
		}
		if err := r.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
		if got := sink.n.Load(); got != int64(n) {
			b.Fatalf("%d events, want %d", got, n)
		}
		iters++
	}
	b.ReportMetric(float64(n*iters)/b.Elapsed().Seconds(), "events/s")
	// CPU time per event does not depend on what else the machine runs:
	// two cores give at most 2s / cpu-µs/event events per second.
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(n*iters), "cpu-µs/event")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}
