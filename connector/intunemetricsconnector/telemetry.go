package intunemetricsconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-intune/otelcol-intune/connector/intunemetricsconnector/internal/metadata"
)

// Results of a record, the result attribute of
// otelcol_intune_metrics_records.
const (
	resultCounted  = "counted"
	resultOverflow = "overflow"
	resultSkipped  = "skipped"
)

// telemetry records the connector's own metrics. The instruments come from
// metadata.yaml through internal/metadata.
type telemetry struct {
	records, sendFailures metric.Int64Counter

	// Attribute sets built once: the hot path must not allocate them.
	counted, overflow, skipped metric.MeasurementOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	by := func(r string) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("result", r)))
	}
	return &telemetry{
		records:      tb.IntuneMetricsRecords,
		sendFailures: tb.IntuneMetricsSendFailures,
		counted:      by(resultCounted),
		overflow:     by(resultOverflow),
		skipped:      by(resultSkipped),
	}, nil
}

// tally is what one batch did.
type tally struct{ counted, overflow, skipped int64 }

func (t *telemetry) addRecords(ctx context.Context, n tally) {
	for _, r := range []struct {
		n   int64
		opt metric.MeasurementOption
	}{{n.counted, t.counted}, {n.overflow, t.overflow}, {n.skipped, t.skipped}} {
		if r.n > 0 {
			t.records.Add(ctx, r.n, r.opt)
		}
	}
}
