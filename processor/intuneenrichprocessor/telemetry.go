package intuneenrichprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-intune/otelcol-intune/processor/intuneenrichprocessor/internal/metadata"
)

// Kinds of unmatched records, the kind attribute of
// otelcol_intune_enrich_unmatched.
const (
	kindEvent = "event"
	kindCode  = "code"
)

// telemetry records the processor's metrics. The instruments, with their
// names, units and descriptions, come from metadata.yaml through
// internal/metadata.
type telemetry struct {
	records, unmatched metric.Int64Counter

	// Attribute sets built once: the hot path must not allocate them.
	byResult, byKind map[string]metric.MeasurementOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	t := &telemetry{
		records:   tb.IntuneEnrichRecords,
		unmatched: tb.IntuneEnrichUnmatched,
		byResult:  map[string]metric.MeasurementOption{},
		byKind:    map[string]metric.MeasurementOption{},
	}
	for _, r := range []string{resultEnriched, resultAlreadyEnriched, resultPassed, resultDropped, resultParseError} {
		t.byResult[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", r)))
	}
	for _, k := range []string{kindEvent, kindCode} {
		t.byKind[k] = metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", k)))
	}
	return t, nil
}

func (t *telemetry) addRecords(ctx context.Context, result string, n int64) {
	t.records.Add(ctx, n, t.byResult[result])
}

func (t *telemetry) addUnmatched(ctx context.Context, kind string, n int64) {
	if n > 0 {
		t.unmatched.Add(ctx, n, t.byKind[kind])
	}
}
