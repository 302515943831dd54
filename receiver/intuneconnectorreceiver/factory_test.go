package intuneconnectorreceiver

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/metadata"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	if f.Type() != metadata.Type || f.LogsStability() != metadata.LogsStability {
		t.Fatalf("type %v, stability %v", f.Type(), f.LogsStability())
	}
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Include = []string{t.TempDir() + "/*.xml"}
	cfg.Channels = nil
	r, err := f.CreateLogs(context.Background(), receiverSettings(), cfg, new(consumertest.LogsSink))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background(), nopHost()); err != nil {
		t.Fatal(err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// metadata.yaml says what internal/metadata says.
func TestMetadataYAMLAgrees(t *testing.T) {
	b, err := os.ReadFile("metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"type: " + metadata.Type.String(), metadata.LogsStability.String() + ": [logs]"} {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
			t.Errorf("metadata.yaml lacks %q", want)
		}
	}
	for _, m := range []string{
		"otelcol_intune_receiver_events_read", "otelcol_intune_receiver_events_emitted", "otelcol_intune_receiver_events_unmatched",
		"otelcol_intune_receiver_events_dropped", "otelcol_intune_receiver_decode_errors", "otelcol_intune_receiver_bytes_read",
		"otelcol_intune_receiver_consume_retries", "otelcol_intune_receiver_event_lag",
	} {
		// Keys leave out the otelcol_ prefix, which the generated code adds.
		if !strings.Contains(text, strings.TrimPrefix(m, "otelcol_")+":") {
			t.Errorf("metadata.yaml does not document %s", m)
		}
	}
}

// Starting with a storage ID that names no extension, or one that is not
// a storage extension, fails with a message that says what to do.
func TestStorageErrors(t *testing.T) {
	tests := []struct {
		name string
		host host
		want string
	}{
		{name: "missing", host: nopHost(), want: "not found; declare it under extensions"},
		{name: "not storage", host: host{Host: componenttest.NewNopHost(), Extensions: map[component.ID]component.Component{storageID: nopExtension{}}}, want: "is not a storage extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			cfg.Storage = &storageID
			r, err := newReceiver(receiverSettings(), cfg, new(consumertest.LogsSink))
			if err != nil {
				t.Fatal(err)
			}
			err = r.Start(context.Background(), tt.host)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if err := r.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

type nopExtension struct{}

func (nopExtension) Start(context.Context, component.Host) error { return nil }
func (nopExtension) Shutdown(context.Context) error              { return nil }

func TestLimitedLogger(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	l := newLimitedLogger(zap.New(core), 10*time.Second)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	steps := []struct {
		name    string
		advance time.Duration
		key     string
		want    int // lines logged so far
	}{
		{name: "first line", key: "a", want: 1},
		{name: "same key soon", advance: time.Second, key: "a", want: 1},
		{name: "other key", key: "b", want: 2},
		{name: "same key again soon", advance: time.Second, key: "a", want: 2},
		{name: "after the interval", advance: 10 * time.Second, key: "a", want: 3},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		l.Warn(s.key, "msg")
		if logs.Len() != s.want {
			t.Fatalf("%s: %d lines, want %d", s.name, logs.Len(), s.want)
		}
	}
	last := logs.All()[2]
	if v, ok := last.ContextMap()["similar_messages_suppressed"]; !ok || v != int64(2) {
		t.Errorf("suppressed count: %v", last.ContextMap())
	}
}
