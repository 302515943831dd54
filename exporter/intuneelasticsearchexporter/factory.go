package intuneelasticsearchexporter

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

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/internal/configcheck"
	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
	"github.com/otelcol-intune/otelcol-intune/internal/sendqueue"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// NewFactory returns the factory of the intune_elasticsearch exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogsExporter, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = 90 * time.Second
	client.Compression = configcompression.TypeGzip
	// Level 1: most of gzip's saving on JSON at a fraction of its CPU.
	client.CompressionParams.Level = 1

	// A few batches in memory: enough to ride out a slow bulk answer.
	// Measured with bench/e2e (200,000 events): 1,000 records, with the
	// receiver's batches of 500, peak at 30 MiB of the collector's own
	// memory against 44-45 MiB with 2,000 records and batches of 1,000,
	// for about 7 % more CPU per event; 20,000 queued records took it past
	// 320 MiB. The queue stays at twice the receiver's batch (see README).
	queue := sendqueue.Config(sendqueue.Settings{
		QueueSize: 1_000, Consumers: 2, MinBatch: 500, MaxBatch: 1_000, FlushTimeout: time.Second,
	})

	return &Config{
		ClientConfig:     client,
		QueueBatchConfig: queue,
		BackOffConfig:    configretry.NewDefaultBackOffConfig(),
		DataStream: DataStreamConfig{
			Dataset:   mapping.DefaultDataStreamDataset,
			Namespace: mapping.DefaultDataStreamNamespace,
		},
		Bootstrap: BootstrapConfig{
			Enabled:                     true,
			Name:                        "logs-intune_connector",
			Priority:                    200,
			Lifecycle:                   LifecycleILM,
			RolloverMaxAge:              Age(30 * configcheck.Day),
			RolloverMaxPrimaryShardSize: "50gb",
		},
	}
}

func createLogsExporter(ctx context.Context, set exporter.Settings, c component.Config) (exporter.Logs, error) {
	cfg := c.(*Config)
	e, err := newExporter(cfg, set)
	if err != nil {
		return nil, err
	}
	logs, err := exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithQueue(cfg.QueueBatchConfig),
		exporterhelper.WithRetry(e.retry),
		// Each HTTP request has the timeout setting; a push may make
		// several (a 413 split, resends), so the push as a whole has none.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
	)
	if err != nil {
		return nil, err
	}
	return delivery.WrapLogs(logs, e.stop), nil
}
