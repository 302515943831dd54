package intunesplunkhecexporter

import (
	"context"
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

// telemetry records the exporter's metrics. The instruments, with their
// names, units, descriptions and buckets, come from metadata.yaml through
// internal/metadata.
type telemetry struct {
	delivered    metric.Int64Counter
	retried      metric.Int64Counter
	deadLettered metric.Int64Counter
	failed       metric.Int64Counter
	truncated    metric.Int64Counter
	ackLatency   metric.Float64Histogram
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	return &telemetry{
		delivered:    tb.IntuneHecEventsDelivered,
		retried:      tb.IntuneHecEventsRetried,
		deadLettered: tb.IntuneHecEventsDeadLettered,
		failed:       tb.IntuneHecEventsFailed,
		truncated:    tb.IntuneHecEventsTruncated,
		ackLatency:   tb.IntuneHecAckLatency,
	}, nil
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
