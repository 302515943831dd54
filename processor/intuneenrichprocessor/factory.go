// Package intuneenrichprocessor adds the Intune connector catalog's meaning
// to Windows events that another receiver collected: the contrib
// windowseventlog receiver (structured or raw XML bodies) or filelog on
// exported XML and JSON lines.
package intuneenrichprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelcol-intune/otelcol-intune/internal/catalogfile"
	"github.com/otelcol-intune/otelcol-intune/processor/intuneenrichprocessor/internal/metadata"
)

// NewFactory returns the intune_enrich processor factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(metadata.Type, createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{NonConnector: NonConnectorPass}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	c := cfg.(*Config)
	en, err := catalogfile.Enricher("enrichment", c.Enrichment)
	if err != nil {
		return nil, err
	}
	p, err := newEnrichProcessor(set.TelemetrySettings, c, en)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}
