// Package intunesplunkhecexporter sends Intune connector records to a Splunk
// HTTP Event Collector as JSON events with a small set of CIM index-time
// fields, handling every HEC status code and, optionally, indexer
// acknowledgement.
package intunesplunkhecexporter

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter/internal/metadata"
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

	queue := exporterhelper.NewDefaultQueueConfig()
	// Counted in records, so memory has a bound whatever the size of the
	// requests upstream: the collector's default of 1,000 requests let a
	// Splunk outage hold up to a million records in memory. Outages are
	// what the persistent queue (storage) is for. At least twice the
	// receiver's max_batch_size, so a batch split across two exports never
	// waits for flush_timeout to make room.
	queue.Sizer = exporterhelper.RequestSizerTypeItems
	queue.QueueSize = 4_000
	// A few POSTs in flight cover the answer's latency (and the ack
	// polling's) without holding many batches in memory.
	queue.NumConsumers = 4
	// A full queue makes the sender wait instead of refusing, so a
	// receiver upstream keeps its checkpoint and no back-off pause.
	queue.BlockOnOverflow = true
	batch := exporterhelper.NewDefaultBatchConfig()
	batch.Sizer = exporterhelper.RequestSizerTypeItems
	batch.MinSize = 1_000
	batch.MaxSize = 2_000
	queue.Batch = configoptional.Some(batch)

	return &Config{
		ClientConfig:     client,
		QueueConfig:      configoptional.Some(queue),
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
		exporterhelper.WithRetry(c.BackOff),
		exporterhelper.WithQueue(c.QueueConfig),
	)
	if err != nil {
		return nil, err
	}
	return &stoppingLogs{Logs: logs, stop: e.stopWaiting}, nil
}

// stoppingLogs tells the exporter to stop waiting for acknowledgements
// before the queue is drained, so Shutdown is not held up by ack.timeout;
// the unacknowledged requests stay in a persistent queue for the next start.
// It also makes Shutdown idempotent, which exporterhelper's is not.
type stoppingLogs struct {
	exporter.Logs
	stop func()
	once sync.Once
	err  error
}

func (s *stoppingLogs) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		s.stop()
		s.err = s.Logs.Shutdown(ctx)
	})
	return s.err
}
