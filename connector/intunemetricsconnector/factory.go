// Package intunemetricsconnector turns Intune Certificate Connector records
// into metrics: a count of events by what happened and where, and the age
// of the latest event of each host and channel, so that SREs can alert on
// failure ratios and on silence.
package intunemetricsconnector

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/otelcol-intune/otelcol-intune/connector/intunemetricsconnector/internal/metadata"
)

// NewFactory returns the intune_metrics connector factory.
func NewFactory() connector.Factory {
	return connector.NewFactory(metadata.Type, createDefaultConfig,
		connector.WithLogsToMetrics(createLogsToMetrics, metadata.LogsToMetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Interval: 15 * time.Second,
		// A site has a handful of connector servers, each with a few dozen
		// event names, codes, CAs and templates in use: a few hundred series
		// each. Ten thousand leaves room for a large fleet and still stops
		// a producer that sends garbage from growing memory without end.
		MaxSeries: 10_000,
	}
}

func createLogsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	return newConnector(set.TelemetrySettings, set.BuildInfo.Version, cfg.(*Config), next)
}
