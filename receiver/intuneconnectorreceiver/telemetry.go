package intuneconnectorreceiver

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/metadata"
)

// Source kinds, the "source" attribute of the receiver's metrics.
const (
	sourceFile    = "file"
	sourceChannel = "channel"
)

// Reasons for dropped events, the "reason" attribute.
const (
	dropPermanent = "permanent_error"
	dropExhausted = "retries_exhausted"
)

type telemetry struct {
	read, emitted, unmatched, dropped, decodeErrs, bytes, retries metric.Int64Counter
	lag                                                           metric.Float64Histogram

	// Attribute sets built once: the hot path must not allocate them.
	bySource map[string]metric.MeasurementOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	m := set.MeterProvider.Meter(metadata.ScopeName)
	t := &telemetry{bySource: map[string]metric.MeasurementOption{}}
	for _, s := range []string{sourceFile, sourceChannel} {
		t.bySource[s] = metric.WithAttributeSet(attribute.NewSet(attribute.String("source", s)))
	}
	var errs, err error
	counter := func(name, desc, unit string) metric.Int64Counter {
		c, e := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = errors.Join(errs, e)
		return c
	}
	t.read = counter("otelcol_intune_receiver_events_read", "Events decoded from files and channels.", "{event}")
	t.emitted = counter("otelcol_intune_receiver_events_emitted", "Events the pipeline accepted.", "{event}")
	t.unmatched = counter("otelcol_intune_receiver_events_unmatched", "Events whose event ID is not in the catalog (they still pass through).", "{event}")
	t.dropped = counter("otelcol_intune_receiver_events_dropped", "Events given up after a permanent pipeline error or exhausted retries.", "{event}")
	t.decodeErrs = counter("otelcol_intune_receiver_decode_errors", "Damaged or unreadable input.", "{error}")
	t.bytes = counter("otelcol_intune_receiver_bytes_read", "Bytes of file input read.", "By")
	t.retries = counter("otelcol_intune_receiver_consume_retries", "Batches sent again after a retryable pipeline error.", "{batch}")
	t.lag, err = m.Float64Histogram("otelcol_intune_receiver_event_lag",
		metric.WithDescription("Time between an event's creation and its reading."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 6*3600, 86400, 7*86400))
	errs = errors.Join(errs, err)
	return t, errs
}

func (t *telemetry) src(s string) metric.MeasurementOption { return t.bySource[s] }

func (t *telemetry) decodeError(ctx context.Context, format string) {
	t.decodeErrs.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("format", format))))
}

func (t *telemetry) drop(ctx context.Context, source, reason string, n int) {
	t.dropped.Add(ctx, int64(n), metric.WithAttributeSet(attribute.NewSet(
		attribute.String("source", source), attribute.String("reason", reason))))
}

// limitedLogger logs at most one line per key and interval, and tells how
// many it held back, so a damaged file cannot flood the collector's log.
type limitedLogger struct {
	logger   *zap.Logger
	interval time.Duration
	now      func() time.Time

	mu   sync.Mutex
	keys map[string]*limitState
}

type limitState struct {
	last       time.Time
	suppressed int
}

func newLimitedLogger(l *zap.Logger, interval time.Duration) *limitedLogger {
	return &limitedLogger{logger: l, interval: interval, now: time.Now, keys: map[string]*limitState{}}
}

// Warn logs msg for key unless another line for key was logged within the
// interval.
func (l *limitedLogger) Warn(key, msg string, fields ...zap.Field) {
	l.mu.Lock()
	st := l.keys[key]
	now := l.now()
	if st != nil && now.Sub(st.last) < l.interval {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	if st == nil {
		if len(l.keys) > 10000 {
			// Forget old keys rather than grow without bound.
			clear(l.keys)
		}
		st = &limitState{}
		l.keys[key] = st
	}
	held := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()
	if held > 0 {
		fields = append(fields, zap.Int("similar_messages_suppressed", held))
	}
	l.logger.Warn(msg, fields...)
}
