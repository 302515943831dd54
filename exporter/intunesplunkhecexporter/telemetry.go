package intunesplunkhecexporter

import (
	"context"
	"errors"
	"strconv"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter/internal/metadata"
)

// Reasons recorded on the retried and dead-lettered counters.
const (
	reasonOversize   = "oversize"
	reasonBadEvent   = "invalid_event"
	reasonBadIndex   = "incorrect_index"
	reasonTooLarge   = "request_too_large"
	reasonConfig     = "configuration"
	reasonTransport  = "transport"
	reasonThrottled  = "throttled"
	reasonServer     = "server_error"
	reasonAckTimeout = "ack_timeout"
	reasonShutdown   = "shutdown"
	// reasonCredentials: HEC refused the token; the events wait for a fix.
	reasonCredentials = "credentials"
)

type telemetry struct {
	delivered    metric.Int64Counter
	retried      metric.Int64Counter
	deadLettered metric.Int64Counter
	failed       metric.Int64Counter
	truncated    metric.Int64Counter
	ackLatency   metric.Float64Histogram
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	m := set.MeterProvider.Meter(metadata.ScopeName)
	var t telemetry
	var errs, err error
	t.delivered, err = m.Int64Counter("otelcol_intune_hec_events_delivered",
		metric.WithDescription("Events HEC accepted (and, with ack.enabled, acknowledged as indexed)."), metric.WithUnit("{event}"))
	errs = errors.Join(errs, err)
	t.retried, err = m.Int64Counter("otelcol_intune_hec_events_retried",
		metric.WithDescription("Events handed back to the sending queue for another attempt, by reason."), metric.WithUnit("{event}"))
	errs = errors.Join(errs, err)
	t.deadLettered, err = m.Int64Counter("otelcol_intune_hec_events_dead_lettered",
		metric.WithDescription("Events refused for good and written to the dead-letter file (or only logged without one), by reason."), metric.WithUnit("{event}"))
	errs = errors.Join(errs, err)
	t.failed, err = m.Int64Counter("otelcol_intune_hec_events_failed",
		metric.WithDescription("Events in requests HEC answered with an error, by HEC code and HTTP status."), metric.WithUnit("{event}"))
	errs = errors.Join(errs, err)
	t.truncated, err = m.Int64Counter("otelcol_intune_hec_events_truncated",
		metric.WithDescription("Events larger than max_event_size sent truncated (oversize = truncate)."), metric.WithUnit("{event}"))
	errs = errors.Join(errs, err)
	t.ackLatency, err = m.Float64Histogram("otelcol_intune_hec_ack_latency",
		metric.WithDescription("Time from HEC accepting a request to its indexer acknowledgement."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
	errs = errors.Join(errs, err)
	return &t, errs
}

func (t *telemetry) addDelivered(ctx context.Context, n int) {
	t.delivered.Add(ctx, int64(n))
}

func (t *telemetry) addRetried(ctx context.Context, n int, reason string) {
	if n > 0 {
		t.retried.Add(ctx, int64(n), metric.WithAttributes(attribute.String("reason", reason)))
	}
}

func (t *telemetry) addDeadLettered(ctx context.Context, n int, reason string) {
	if n > 0 {
		t.deadLettered.Add(ctx, int64(n), metric.WithAttributes(attribute.String("reason", reason)))
	}
}

func (t *telemetry) addFailed(ctx context.Context, n int, v verdict) {
	t.failed.Add(ctx, int64(n), metric.WithAttributes(
		attribute.String("hec_code", v.codeLabel()),
		attribute.String("http_status", strconv.Itoa(v.Status)),
	))
}
