package intunesplunkhecexporter

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	if f.Type() != metadata.Type || f.LogsStability() != metadata.LogsStability {
		t.Fatalf("type %s stability %s", f.Type(), f.LogsStability())
	}
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = "http://127.0.0.1:1"
	cfg.Token = "t"
	cfg.HealthCheck.Enabled = false
	e, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	// Shutdown is idempotent.
	for i := 0; i < 2; i++ {
		if err := e.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// Shutdown without Start is safe too.
	e2, _ := f.CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err := e2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func fastRetry() configretry.BackOffConfig {
	b := configretry.NewDefaultBackOffConfig()
	b.InitialInterval = 10 * time.Millisecond
	b.MaxInterval = 50 * time.Millisecond
	b.RandomizationFactor = 0
	return b
}

// Through the collector's queue and retry: a busy answer and a failed
// request in the middle of a batch end with every event stored once.
func TestQueueRetryDeliversEachEventOnce(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	busy := hectest.ReplyCode(9)
	busy.RetryAfter = "0"
	rec.Enqueue(hectest.ReplyCode(0), busy, hectest.ReplyCode(8))

	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = rec.URL
	cfg.Token = "t"
	cfg.MaxContentLength = 16 << 10
	cfg.MaxEventSize = 8 << 10
	cfg.BackOff = fastRetry()
	e, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	ld := catalogLogs(t, 80)
	want := recordIDs(ld)
	if err := e.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.Stored()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := eventIDs(t, rec.Stored())
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("stored %d events, want each of the %d exactly once", len(got), len(want))
	}
}

func startStorage(t *testing.T, dir string) (testutil.Host, component.ID, func()) {
	t.Helper()
	id := component.MustNewID("file_storage")
	h, _, stop := testutil.StartFileStorage(t, id, dir)
	return h, id, stop
}

// With a persistent queue and ack.enabled, a batch HEC accepted but never
// acknowledged stays in the queue across a restart and is sent again.
func TestPersistentQueueKeepsUnacknowledgedBatch(t *testing.T) {
	dir := t.TempDir()
	rec := hectest.New()
	defer rec.Close()
	rec.EnableAck(0) // the first run never sees an acknowledgement

	newExporter := func(storage component.ID) (exporter.Logs, *componenttest.Telemetry) {
		cfg := createDefaultConfig().(*Config)
		cfg.ClientConfig.Endpoint = rec.URL
		cfg.Token = "t"
		cfg.MaxEventSize = 8 << 10
		cfg.Ack.Enabled = true
		cfg.Ack.PollInterval = 10 * time.Millisecond
		cfg.Ack.Timeout = time.Hour
		cfg.BackOff = fastRetry()
		q := cfg.QueueConfig.Get()
		q.StorageID = &storage
		q.Batch.Get().FlushTimeout = 10 * time.Millisecond
		tt := componenttest.NewTelemetry()
		set := exportertest.NewNopSettings(metadata.Type)
		// The persistent queue is named after the exporter's ID.
		set.ID = component.NewIDWithName(metadata.Type, "persistent")
		set.TelemetrySettings = tt.NewTelemetrySettings()
		e, err := NewFactory().CreateLogs(context.Background(), set, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e, tt
	}

	host, sid, stopStorage := startStorage(t, dir)
	e1, tt1 := newExporter(sid)
	if err := e1.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	ld := catalogLogs(t, 10)
	if err := e1.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the first batch to be sent", func() bool { return len(rec.EventPosts()) > 0 })
	if err := e1.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = tt1.Shutdown(context.Background())
	stopStorage()

	// Second run: HEC acknowledges now.
	rec.EnableAck(1)
	first := len(rec.Stored())
	host, sid, stopStorage = startStorage(t, dir)
	defer stopStorage()
	e2, tt2 := newExporter(sid)
	defer tt2.Shutdown(context.Background())
	if err := e2.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	te := &testExporter{tel: tt2}
	deadline := time.Now().Add(10 * time.Second)
	for te.counter(t, "otelcol_intune_hec_events_delivered") < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := e2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := te.counter(t, "otelcol_intune_hec_events_delivered"); n != 10 {
		t.Fatalf("after restart %d events were acknowledged, want the 10 kept in the queue", n)
	}
	resent := eventIDs(t, rec.Stored()[first:])
	if !slices.Equal(resent, recordIDs(ld)) {
		t.Fatalf("resent %v, want the unacknowledged batch", resent)
	}
}
