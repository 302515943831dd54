package intuneelasticsearchexporter

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter/internal/metadata"
)

// telemetry is the exporter's own metrics; metadata.yaml describes them.
type telemetry struct {
	delivered, duplicates, retried, deadLettered, failed metric.Int64Counter
	duration                                             metric.Float64Histogram
	size, docs                                           metric.Int64Histogram
}

const metricPrefix = "otelcol_intune_elasticsearch_"

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	m := set.MeterProvider.Meter(metadata.ScopeName)
	var t telemetry
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(metricPrefix+name, metric.WithDescription(desc), metric.WithUnit("{document}"))
		errs = append(errs, err)
		return c
	}
	t.delivered = counter("documents_delivered", "Documents Elasticsearch stored (bulk item 200/201).")
	t.duplicates = counter("documents_duplicate", "Documents Elasticsearch already held (bulk item 409 on create); delivered by an earlier send.")
	t.retried = counter("documents_retried", "Documents handed back for retry.")
	t.deadLettered = counter("documents_dead_lettered", "Documents Elasticsearch refused for good, written to the dead-letter destination.")
	t.failed = counter("documents_failed", "Documents dropped as permanent failures.")
	var err error
	t.duration, err = m.Float64Histogram(metricPrefix+"bulk_request_duration",
		metric.WithDescription("Time from sending a bulk request to reading its answer."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
	errs = append(errs, err)
	t.size, err = m.Int64Histogram(metricPrefix+"bulk_request_size",
		metric.WithDescription("Uncompressed size of a bulk request body."), metric.WithUnit("By"),
		metric.WithExplicitBucketBoundaries(1<<10, 16<<10, 128<<10, 1<<20, 4<<20, 16<<20, 64<<20, 100<<20))
	errs = append(errs, err)
	t.docs, err = m.Int64Histogram(metricPrefix+"bulk_request_documents",
		metric.WithDescription("Documents in a bulk request."), metric.WithUnit("{document}"),
		metric.WithExplicitBucketBoundaries(1, 10, 100, 1000, 5000, 10000, 50000))
	errs = append(errs, err)
	return &t, errors.Join(errs...)
}

func (t *telemetry) recordBulk(ctx context.Context, d time.Duration, size, docs int) {
	t.duration.Record(ctx, d.Seconds())
	t.size.Record(ctx, int64(size))
	t.docs.Record(ctx, int64(docs))
}
