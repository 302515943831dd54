// Package intuneencodingextension is an encoding extension that writes log
// records as the JSON the project's exporters send: ECS documents or Splunk
// HEC events, one per line. With the contrib file exporter
// (`encoding: intune_encoding`) it keeps enriched records on disk exactly as
// Elasticsearch or Splunk would receive them, for a demo, an air-gapped
// site, or a forwarder that picks up files.
package intuneencodingextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/extension/intuneencodingextension/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// NewFactory returns the intune_encoding extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config { return &Config{Format: FormatECS} }

func createExtension(_ context.Context, _ extension.Settings, cfg component.Config) (extension.Extension, error) {
	return &encoding{cfg: cfg.(*Config)}, nil
}

type encoding struct {
	cfg *Config
}

var _ plog.Marshaler = (*encoding)(nil)

func (*encoding) Start(context.Context, component.Host) error { return nil }
func (*encoding) Shutdown(context.Context) error              { return nil }

// MarshalLogs writes one JSON document per record, separated by newlines,
// without a trailing one: the file exporter ends each batch with it.
func (e *encoding) MarshalLogs(ld plog.Logs) ([]byte, error) {
	var b []byte
	ecs, hec := e.cfg.ecsOptions(), e.cfg.hecOptions()
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				if len(b) > 0 {
					b = append(b, '\n')
				}
				if e.cfg.Format == FormatHEC {
					b = mapping.AppendHEC(b, rl.Resource(), lrs.At(k), hec)
				} else {
					b = mapping.AppendECS(b, rl.Resource(), lrs.At(k), ecs)
				}
			}
		}
	}
	return b, nil
}
