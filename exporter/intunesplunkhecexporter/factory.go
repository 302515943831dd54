// Package intunesplunkhecexporter sends Intune connector records to a Splunk
// HTTP Event Collector as JSON events with a small set of CIM index-time
// fields, handling every HEC status code and, optionally, indexer
// acknowledgement.
package intunesplunkhecexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
	"github.com/otelcol-intune/otelcol-intune/internal/sendqueue"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// NewFactory returns the factory of the intune_splunk_hec exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = 30 * time.Second
	client.Compression = configcompression.TypeGzip
	client.CompressionParams.Level = 1

	// Counted in records: the collector's default of 1,000 requests let a
	// Splunk outage hold up to a million records in memory. Four POSTs in
	// flight cover the answer's latency (and the ack polling's); batches of
	// 250-500 keep what they hold small, since a push keeps its encoded
	// events for resends. Measured with bench/e2e (EXPORTER=hec, 200,000
	// events): 1,000 records in batches of 250-500 peak at 34 MiB of the
	// collector's own memory, 4,000 in batches of 1,000-2,000 at 81-87,
	// at the same CPU per event. The queue stays at twice the receiver's
	// batch (see README).
	queue := sendqueue.Config(sendqueue.Settings{
		QueueSize: 1_000, Consumers: 4, MinBatch: 250, MaxBatch: 500,
	})

	return &Config{
		ClientConfig:     client,
		QueueConfig:      queue,
		BackOff:          configretry.NewDefaultBackOffConfig(),
		Sourcetype:       mapping.DefaultSourcetype,
		MaxContentLength: 2 << 20,
		MaxEventSize:     1 << 20,
		Oversize:         OversizeDeadLetter,
		HealthCheck:      HealthCheckConfig{Enabled: true},
		Ack: AckConfig{
			PollInterval: 2 * time.Second,
			Timeout:      2 * time.Minute,
		},
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newHECExporter(c, set)
	if err != nil {
		return nil, err
	}
	logs, err := exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// The HTTP client's timeout bounds each request; a push can
		// legitimately take longer while it waits for acknowledgements.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(e.retry),
		exporterhelper.WithQueue(c.QueueConfig),
	)
	if err != nil {
		return nil, err
	}
	// Stop waiting for acknowledgements before the queue is drained, so
	// Shutdown is not held up by ack.timeout; the unacknowledged requests
	// stay in a persistent queue for the next start.
	return delivery.WrapLogs(logs, e.stop), nil
}
