package intuneconnectorreceiver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/checkpoint"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/fileid"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

func uitoa(v uint64) string { return strconv.FormatUint(v, 10) }

func sumOf(m metricdata.Metrics) int64 {
	var n int64
	if s, ok := m.Data.(metricdata.Sum[int64]); ok {
		for _, dp := range s.DataPoints {
			n += dp.Value
		}
	}
	return n
}

const samplesDir = "../../testdata/samples"

// Every sample export is read whole, with the same events the decoders
// give, in contract records with the receiver's resource.
func TestReadsEverySampleFormat(t *testing.T) {
	entries, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			src := filepath.Join(samplesDir, e.Name())
			want := countEvents(t, src)
			dir := t.TempDir()
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
			sink := new(consumertest.LogsSink)
			cfg := testConfig(dir)
			cfg.IncludeFilePath = true
			s := startReceiver(t, cfg, sink, nopHost())
			waitFor(t, "all events", func() bool { return sink.LogRecordCount() >= want })
			s.settled(t)
			if got := sink.LogRecordCount(); got != want {
				t.Fatalf("%d records, want %d", got, want)
			}
			logs := sink.AllLogs()[0]
			res := logs.ResourceLogs().At(0).Resource().Attributes()
			for _, k := range []string{"host.name", "os.type", "service.name"} {
				if _, ok := res.Get(k); !ok {
					t.Errorf("resource lacks %s", k)
				}
			}
			lr := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			if lr.Timestamp() == 0 || lr.ObservedTimestamp() == 0 {
				t.Errorf("timestamps: %v %v", lr.Timestamp(), lr.ObservedTimestamp())
			}
			if v, ok := lr.Attributes().Get(mapping.AttrEventModule); !ok || v.Str() != mapping.EventModule {
				t.Errorf("record is not enriched: %v", lr.Attributes().AsRaw())
			}
			if v, _ := lr.Attributes().Get(attrLogFilePath); v.Str() != filepath.Join(dir, e.Name()) {
				t.Errorf("log.file.path = %q", v.Str())
			}
			if n := s.counter(t, "otelcol_intune_receiver_events_emitted"); n != int64(want) {
				t.Errorf("events_emitted = %d, want %d", n, want)
			}
			if n := s.counter(t, "otelcol_intune_receiver_decode_errors"); n != 0 {
				t.Errorf("decode_errors = %d", n)
			}
		})
	}
}

func countEvents(t *testing.T, path string) int {
	t.Helper()
	f, err := eventfile.Open(path, eventfile.Options{NoOriginal: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for {
		_, err := f.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return n
			}
			t.Fatalf("%s: %v", path, err)
		}
		n++
	}
}

// A restart with a real file_storage extension neither loses nor repeats:
// data appended and files added while the collector was down are read, and
// nothing already delivered comes again.
func TestRestartWithStorage(t *testing.T) {
	dir, store := t.TempDir(), t.TempDir()
	a := filepath.Join(dir, "a.xml")
	appendFile(t, a, wevtutilXML(0, 300))
	evtxData, err := os.ReadFile(filepath.Join(samplesDir, "real-ndes-admin.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	nEVTX := countEvents(t, filepath.Join(samplesDir, "real-ndes-admin.evtx"))

	cfg := testConfig(dir)
	cfg.Storage = &storageID
	cfg.MaxBatchSize = 64
	got := &recorded{}

	h, stopStorage := startStorage(t, store)
	s := startReceiver(t, cfg, got, h)
	waitFor(t, "first run", func() bool { return got.count() >= 300 })
	s.stop(t)
	stopStorage()

	appendFile(t, a, wevtutilXML(300, 200))
	if err := os.WriteFile(filepath.Join(dir, "b.evtx"), evtxData, 0o644); err != nil {
		t.Fatal(err)
	}
	h, stopStorage = startStorage(t, store)
	s = startReceiver(t, cfg, got, h)
	waitFor(t, "second run", func() bool { return got.count() >= 500+nEVTX })
	s.settled(t)
	s.stop(t)
	stopStorage()

	// A third run with nothing new delivers nothing.
	before := got.count()
	h, _ = startStorage(t, store)
	s = startReceiver(t, cfg, got, h)
	s.settled(t)
	s.stop(t)
	if got.count() != before {
		t.Errorf("third run delivered %d records again", got.count()-before)
	}

	want := wantKeys(nil, "a.xml", 0, 500)
	f, err := eventfile.Open(filepath.Join(dir, "b.evtx"), eventfile.Options{NoOriginal: true})
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := f.Next()
		if err != nil {
			break
		}
		want["b.evtx#"+uitoa(rec.Event.RecordID)] = true
	}
	f.Close()
	checkExactlyOnce(t, got.snapshot(), want)
}

// While the pipeline refuses, the checkpoint stays; once it accepts, every
// event arrives once. A permanent refusal drops that batch, counts it, and
// reading goes on.
func TestConsumerFailures(t *testing.T) {
	tests := []struct {
		name string
		err  error
		// failCalls is how many calls fail.
		failCalls   int
		wantDropped bool
	}{
		{name: "retryable", err: errors.New("queue is full"), failCalls: 5},
		{name: "permanent", err: consumererror.NewPermanent(errors.New("bad data")), failCalls: 1, wantDropped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.xml")
			appendFile(t, path, wevtutilXML(0, 100))
			release := make(chan struct{})
			got := &recorded{fail: func(call int) error {
				if call <= tt.failCalls {
					if call == tt.failCalls {
						<-release // hold the last failure until the checkpoint is checked
					}
					return tt.err
				}
				return nil
			}}
			cfg := testConfig(dir)
			cfg.MaxBatchSize = 40
			cfg.MaxBatchDelay = time.Minute // batches cut by size only
			s := startReceiver(t, cfg, got, nopHost())
			waitFor(t, "failing calls", func() bool {
				got.mu.Lock()
				defer got.mu.Unlock()
				return got.call >= tt.failCalls
			})
			if cp := storedCheckpoint(t, s.r, path); cp != nil {
				t.Errorf("checkpoint moved while the pipeline refused: %+v", *cp)
			}
			close(release)
			wantN := 100
			if tt.wantDropped {
				wantN = 60
			}
			waitFor(t, "delivery", func() bool { return got.count() >= wantN })
			s.settled(t)
			want := wantKeys(nil, "a.xml", 0, 100)
			if tt.wantDropped {
				want = wantKeys(nil, "a.xml", 40, 60)
				if n := s.counter(t, "otelcol_intune_receiver_events_dropped"); n != 40 {
					t.Errorf("events_dropped = %d, want 40", n)
				}
			} else if n := s.counter(t, "otelcol_intune_receiver_consume_retries"); n < int64(tt.failCalls) {
				t.Errorf("consume_retries = %d, want at least %d", n, tt.failCalls)
			}
			checkExactlyOnce(t, got.snapshot(), want)
			// The checkpoint is past the last event; only its line end follows.
			cp := storedCheckpoint(t, s.r, path)
			data, _ := os.ReadFile(path)
			if cp == nil || strings.TrimSpace(string(data[cp.Offset:])) != "" || !strings.HasSuffix(string(data[:cp.Offset]), "</Event>") {
				t.Errorf("checkpoint %+v is not at the end of the last event (file size %d)", cp, len(data))
			}
		})
	}
}

func storedCheckpoint(t *testing.T, r *intuneReceiver, path string) *checkpoint.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	r.mu.Lock()
	c := r.client
	r.mu.Unlock()
	v, err := c.Get(context.Background(), checkpoint.Key(fileid.Of(f, fi, path)))
	if err != nil || v == nil {
		return nil
	}
	cp, err := checkpoint.Parse(v)
	if err != nil {
		t.Fatal(err)
	}
	return &cp
}

// A shutdown while the pipeline keeps refusing returns promptly and leaves
// no goroutine behind (TestMain checks).
func TestShutdownDuringRetry(t *testing.T) {
	dir := t.TempDir()
	appendFile(t, filepath.Join(dir, "a.xml"), wevtutilXML(0, 10))
	got := &recorded{fail: func(int) error { return errors.New("down") }}
	cfg := testConfig(dir)
	cfg.Retry.InitialInterval, cfg.Retry.MaxInterval = time.Hour, time.Hour
	s := startReceiver(t, cfg, got, nopHost())
	waitFor(t, "a refused call", func() bool {
		got.mu.Lock()
		defer got.mu.Unlock()
		return got.call > 0
	})
	start := time.Now()
	s.stop(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	s.stop(t) // idempotent
}

// Shutdown without Start is safe.
func TestShutdownWithoutStart(t *testing.T) {
	r, err := newReceiver(receiverSettings(), testConfig(t.TempDir()), new(consumertest.LogsSink))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// An exporter queue smaller than the receiver's batch refuses it on every
// attempt; the receiver sends it in halves instead, and every event arrives
// once, through a real exporterhelper queue.
func TestBatchLargerThanExporterQueue(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.xml")
	appendFile(t, path, wevtutilXML(0, 230))
	got := &recorded{}
	qcfg := exporterhelper.NewDefaultQueueConfig()
	qcfg.Sizer = exporterhelper.RequestSizerTypeItems
	qcfg.QueueSize = 30
	qcfg.NumConsumers = 1
	qcfg.BlockOnOverflow = true
	qcfg.Batch = configoptional.None[exporterhelper.BatchConfig]()
	exp, err := exporterhelper.NewLogs(context.Background(), exportertest.NewNopSettings(component.MustNewType("sink")), &struct{}{},
		got.ConsumeLogs, exporterhelper.WithQueue(configoptional.Some(qcfg)))
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })

	cfg := testConfig(dir)
	cfg.MaxBatchSize = 100
	cfg.MaxBatchDelay = time.Minute
	s := startReceiver(t, cfg, exp, nopHost())
	waitFor(t, "delivery", func() bool { return got.count() >= 230 })
	s.settled(t)
	checkExactlyOnce(t, got.snapshot(), wantKeys(nil, "a.xml", 0, 230))
	// Each of the three batches (100, 100, 30 events) was cut into pieces
	// the queue takes: 100 -> 50 -> 25.
	if n := got.calls(); n < 9 {
		t.Errorf("%d pieces reached the queue, want at least 9", n)
	}
}

// An export that lost its event data (here Export-Csv) is named in the log
// as what it is, counted once, and the exports beside it are read.
func TestNonEventExportIsNamed(t *testing.T) {
	dir := t.TempDir()
	csv := "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"Message\",\"Id\",\"ProviderName\"\r\n\"x\",\"1001\",\"y\"\r\n"
	if err := os.WriteFile(filepath.Join(dir, "a-events.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b-events.xml"), wevtutilXML(0, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	logger := zap.New(core)
	got := &recorded{}
	st := startReceiver(t, testConfig(dir), got, nopHost(), func(r *intuneReceiver) {
		r.logger = logger
		r.warn = newLimitedLogger(logger, time.Hour)
	})
	waitFor(t, "the events beside the CSV", func() bool { return got.count() == 5 })
	st.settled(t)
	if n := st.counter(t, "otelcol_intune_receiver_decode_errors"); n != 1 {
		t.Errorf("decode_errors = %d, want the CSV counted once", n)
	}
	found := false
	for _, e := range logs.FilterMessageSnippet("not an event export").All() {
		if err, ok := e.ContextMap()["error"].(string); ok && strings.Contains(err, "Export-Csv") && strings.Contains(err, "wevtutil qe") {
			found = true
		}
	}
	if !found {
		t.Errorf("no log line names the CSV export and what to run instead: %v", logs.All())
	}
}
