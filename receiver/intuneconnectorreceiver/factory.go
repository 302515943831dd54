// Package intuneconnectorreceiver implements the intune_connector receiver:
// it reads Microsoft Intune Certificate Connector events from Windows event
// log channels (on Windows) and from exported EVTX, XML and JSON files (on
// any OS), enriches them with the connector catalog and emits log records
// in the project's record contract.
package intuneconnectorreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// NewFactory returns the factory of the intune_connector receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

// connectorChannels are the channels both connector generations write to.
var connectorChannels = []string{
	"Microsoft Intune Connector",
	"Microsoft-Intune-CertificateConnectors/Admin",
	"Microsoft-Intune-CertificateConnectors/Operational",
}

func createDefaultConfig() component.Config {
	retry := configretry.NewDefaultBackOffConfig()
	// A receiver that gives up loses events for good, so by default it keeps
	// trying until the pipeline takes the batch or the collector stops.
	retry.InitialInterval = time.Second
	retry.MaxElapsedTime = 0
	var channels []string
	if channelsSupported {
		channels = append(channels, connectorChannels...)
	}
	return &Config{
		Format:               FormatAuto,
		StartAt:              StartAtBeginning,
		PollInterval:         time.Second,
		MaxEventSize:         wineventlog.DefaultMaxEventSize,
		IncludeFileName:      true,
		Channels:             channels,
		ChannelRetryInterval: 30 * time.Second,
		// 500: half the exporters' default queue (see their READMEs), and
		// the pipeline's memory is mostly the records in flight. The
		// connector writes tens of events a second at most; 500 still
		// carries a backlog at tens of thousands.
		MaxBatchSize:  500,
		MaxBatchDelay: 200 * time.Millisecond,
		Retry:         retry,
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next)
}
