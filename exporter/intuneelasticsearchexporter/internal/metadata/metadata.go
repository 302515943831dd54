// Package metadata holds the component type and stability of the
// intune_elasticsearch exporter, kept by hand in the shape mdatagen writes.
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the component type in collector configurations.
	Type = component.MustNewType("intune_elasticsearch")
	// ScopeName is the instrumentation scope of the exporter's own metrics.
	ScopeName = "github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter"
)

// LogsStability is the stability of the logs exporter.
const LogsStability = component.StabilityLevelAlpha
