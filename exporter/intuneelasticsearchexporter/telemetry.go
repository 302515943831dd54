package intuneelasticsearchexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter/internal/metadata"
)

// telemetry records the exporter's metrics. The instruments, with their
// names, units, descriptions and buckets, come from metadata.yaml through
// internal/metadata.
type telemetry struct {
	delivered, duplicates, retried, deadLettered, failed metric.Int64Counter
	duration                                             metric.Float64Histogram
	size, docs                                           metric.Int64Histogram
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	return &telemetry{
		delivered:    tb.IntuneElasticsearchDocumentsDelivered,
		duplicates:   tb.IntuneElasticsearchDocumentsDuplicate,
		retried:      tb.IntuneElasticsearchDocumentsRetried,
		deadLettered: tb.IntuneElasticsearchDocumentsDeadLettered,
		failed:       tb.IntuneElasticsearchDocumentsFailed,
		duration:     tb.IntuneElasticsearchBulkRequestDuration,
		size:         tb.IntuneElasticsearchBulkRequestSize,
		docs:         tb.IntuneElasticsearchBulkRequestDocuments,
	}, nil
}

func (t *telemetry) recordBulk(ctx context.Context, d time.Duration, size, docs int) {
	t.duration.Record(ctx, d.Seconds())
	t.size.Record(ctx, int64(size))
	t.docs.Record(ctx, int64(docs))
}
