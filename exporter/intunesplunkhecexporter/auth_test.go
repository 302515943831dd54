package intunesplunkhecexporter

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"
)

// A wrong token is a configuration problem, not bad events: HEC answers
// code 4 (403) to every request; the events are retried well past
// max_elapsed_time, stay in the persistent queue across a restart, are
// never dead-lettered, and all arrive once the token is fixed. The
// component reports a recoverable error meanwhile and OK after.
func TestWrongTokenKeepsEvents(t *testing.T) {
	dir := t.TempDir()
	dead := filepath.Join(t.TempDir(), "dead.jsonl")
	rec := hectest.New()
	defer rec.Close()
	rec.RequireToken("right-token")

	newExporter := func(token string, storage component.ID) (exporter.Logs, *componenttest.Telemetry) {
		cfg := createDefaultConfig().(*Config)
		cfg.ClientConfig.Endpoint = rec.URL
		cfg.Token = configopaque.String(token)
		cfg.MaxEventSize = 8 << 10
		cfg.DeadLetter.Path = dead
		cfg.BackOff = fastRetry()
		cfg.BackOff.MaxElapsedTime = 100 * time.Millisecond
		q := cfg.QueueConfig.Get()
		q.StorageID = &storage
		q.Batch.Get().FlushTimeout = 10 * time.Millisecond
		tt := componenttest.NewTelemetry()
		set := exportertest.NewNopSettings(metadata.Type)
		set.ID = component.NewIDWithName(metadata.Type, "persistent")
		set.TelemetrySettings = tt.NewTelemetrySettings()
		e, err := NewFactory().CreateLogs(context.Background(), set, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e, tt
	}

	// First run: the token is wrong.
	h, sid, stopStorage := startStorage(t, dir)
	host := &testutil.StatusHost{Host: h}
	e1, tt1 := newExporter("wrong-token", sid)
	if err := e1.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	ld := catalogLogs(t, 30)
	if err := e1.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	testutil.WaitFor(t, 30*time.Second, "retries past max_elapsed_time, reported as a recoverable error", func() bool {
		return len(rec.EventPosts()) > 10 && time.Since(start) > 300*time.Millisecond &&
			slices.Contains(host.Statuses(), componentstatus.StatusRecoverableError)
	})
	if err := e1.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = tt1.Shutdown(context.Background())
	stopStorage()
	if len(rec.Stored()) != 0 {
		t.Fatalf("%d events stored with a wrong token", len(rec.Stored()))
	}

	// Second run: the token is fixed.
	h, sid, stopStorage = startStorage(t, dir)
	defer stopStorage()
	host = &testutil.StatusHost{Host: h}
	e2, tt2 := newExporter("right-token", sid)
	defer tt2.Shutdown(context.Background())
	if err := e2.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "every event delivered", func() bool { return len(rec.Stored()) >= 30 })
	if err := e2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := eventIDs(t, rec.Stored())
	want := recordIDs(ld)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("stored %d events, want each of the %d exactly once", len(got), len(want))
	}
	if b, err := os.ReadFile(dead); err != nil || len(b) != 0 {
		t.Errorf("dead-letter file: %d bytes, %v", len(b), err)
	}
}
