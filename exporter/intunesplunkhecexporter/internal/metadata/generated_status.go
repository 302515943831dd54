// Package metadata holds the component's type and stability, kept by hand in
// the shape mdatagen would generate from ../../metadata.yaml.
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

var (
	Type      = component.MustNewType("intune_splunk_hec")
	ScopeName = "github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter"
)

const (
	LogsStability = component.StabilityLevelAlpha
)
