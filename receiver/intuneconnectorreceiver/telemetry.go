package intuneconnectorreceiver

import (
	"context"
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

// telemetry records the receiver's metrics. The instruments, with their
// names, units, descriptions and buckets, come from metadata.yaml through
// internal/metadata.
type telemetry struct {
	read, emitted, unmatched, dropped, decodeErrs, bytes, retries metric.Int64Counter
	lag                                                           metric.Float64Histogram

	// Attribute sets built once: the hot path must not allocate them.
	bySource map[string]metric.MeasurementOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	t := &telemetry{
		read:       tb.IntuneReceiverEventsRead,
		emitted:    tb.IntuneReceiverEventsEmitted,
		unmatched:  tb.IntuneReceiverEventsUnmatched,
		dropped:    tb.IntuneReceiverEventsDropped,
		decodeErrs: tb.IntuneReceiverDecodeErrors,
		bytes:      tb.IntuneReceiverBytesRead,
		retries:    tb.IntuneReceiverConsumeRetries,
		lag:        tb.IntuneReceiverEventLag,
		bySource:   map[string]metric.MeasurementOption{},
	}
	for _, s := range []string{sourceFile, sourceChannel} {
		t.bySource[s] = metric.WithAttributeSet(attribute.NewSet(attribute.String("source", s)))
	}
	return t, nil
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
