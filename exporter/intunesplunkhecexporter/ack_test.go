package intunesplunkhecexporter

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
)

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAckDelivered(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	rec.EnableAck(3) // acknowledged on the third poll
	te := newTestExporter(t, rec, func(c *Config) {
		c.Ack.Enabled = true
		c.MaxContentLength = 16 << 10
	})
	ld := catalogLogs(t, 50)
	if err := te.pushLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	posts := rec.EventPosts()
	ch := posts[0].Header.Get("X-Splunk-Request-Channel")
	if !guid.MatchString(ch) {
		t.Fatalf("channel %q is not a GUID", ch)
	}
	var polls int
	for _, r := range rec.Requests() {
		if strings.HasSuffix(r.Path, "/services/collector/ack") {
			polls++
			if r.Header.Get("X-Splunk-Request-Channel") != ch {
				t.Errorf("ack poll on another channel")
			}
		}
	}
	if polls < 3 {
		t.Errorf("%d ack polls, want at least 3", polls)
	}
	if n := te.counter(t, "otelcol_intune_hec_events_delivered"); n != 50 {
		t.Errorf("delivered %d after acknowledgement, want 50", n)
	}
	m, err := te.tel.GetMetric("otelcol_intune_hec_ack_latency")
	if err != nil {
		t.Fatal(err)
	}
	h := m.Data.(metricdata.Histogram[float64])
	if h.DataPoints[0].Count != uint64(len(posts)) {
		t.Errorf("ack latency has %d observations, want one per request (%d)", h.DataPoints[0].Count, len(posts))
	}
}

func TestAckTimeoutResends(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	rec.EnableAck(0) // never acknowledged
	te := newTestExporter(t, rec, func(c *Config) {
		c.Ack.Enabled = true
		c.Ack.Timeout = 50 * time.Millisecond
	})
	ld := catalogLogs(t, 20)
	err := te.pushLogs(context.Background(), ld)
	var le consumererror.Logs
	if err == nil || consumererror.IsPermanent(err) || !errors.As(err, &le) {
		t.Fatalf("want a retryable error with the unacknowledged records, got %v", err)
	}
	if got, want := recordIDs(le.Data()), recordIDs(ld); !slices.Equal(got, want) {
		t.Fatalf("retry holds %d records, want all %d", len(got), len(want))
	}
	if !strings.Contains(err.Error(), "ack::timeout") {
		t.Errorf("error does not name ack::timeout: %v", err)
	}
	if n := te.counter(t, "otelcol_intune_hec_events_retried", "reason", reasonAckTimeout); n != 20 {
		t.Errorf("retried{ack_timeout} = %d", n)
	}
	if n := te.counter(t, "otelcol_intune_hec_events_delivered"); n != 0 {
		t.Errorf("delivered %d events that were never acknowledged", n)
	}
}

func TestAckWaitEndsAtShutdown(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	rec.EnableAck(0)
	te := newTestExporter(t, rec, func(c *Config) {
		c.Ack.Enabled = true
		c.Ack.Timeout = time.Hour
	})
	done := make(chan error, 1)
	go func() { done <- te.pushLogs(context.Background(), catalogLogs(t, 5)) }()
	for len(rec.EventPosts()) == 0 {
		time.Sleep(time.Millisecond)
	}
	te.stop.Stop()
	select {
	case err := <-done:
		if err == nil || consumererror.IsPermanent(err) {
			t.Fatalf("want a retryable error at shutdown, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("push still waiting for acknowledgements after shutdown began")
	}
}

func TestAckTokenWithoutAck(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	// The token does not use acknowledgement: HEC answers without ackId.
	te := newTestExporter(t, rec, func(c *Config) { c.Ack.Enabled = true })
	if err := te.pushLogs(context.Background(), catalogLogs(t, 5)); err != nil {
		t.Fatal(err)
	}
	if n := te.counter(t, "otelcol_intune_hec_events_delivered"); n != 5 {
		t.Errorf("delivered %d, want 5", n)
	}
}

func TestAckRequiredButDisabled(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	rec.EnableAck(1)
	te := newTestExporter(t, rec, nil) // ack.enabled false: no channel
	err := te.pushLogs(context.Background(), catalogLogs(t, 5))
	if !consumererror.IsPermanent(err) || !strings.Contains(err.Error(), "ack::enabled: true") {
		t.Fatalf("want a permanent error telling to set ack::enabled, got %v", err)
	}
}

func TestAckPollFailuresAreRetried(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	rec.EnableAck(1)
	// The ack service is down for two polls, then answers garbage once.
	rec.EnqueueAck(hectest.ReplyCode(19), hectest.Reply{Status: 502, Body: "Bad Gateway"}, hectest.Reply{Status: 200, Body: "not json"})
	core, logs := observer.New(zapcore.WarnLevel)
	te := newTestExporter(t, rec, func(c *Config) { c.Ack.Enabled = true })
	te.logger = zap.New(core)
	if err := te.pushLogs(context.Background(), catalogLogs(t, 5)); err != nil {
		t.Fatal(err)
	}
	if n := te.counter(t, "otelcol_intune_hec_events_delivered"); n != 5 {
		t.Fatalf("delivered %d, want 5 once the ack service answered", n)
	}
	// Rate-limited: one line for the three failed polls.
	if n := logs.FilterMessageSnippet("Polling HEC for indexer acknowledgements failed").Len(); n != 1 {
		t.Errorf("%d log lines for failed polls, want 1", n)
	}
}
