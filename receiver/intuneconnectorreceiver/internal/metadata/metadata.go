// Package metadata holds the component type and stability of the
// intune_connector receiver. It is kept by hand (mdatagen is not part of
// this module's toolchain); metadata.yaml in the parent directory says the
// same things and the tests check that they agree.
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the receiver's component type as written in collector configs.
	Type = component.MustNewType("intune_connector")
	// ScopeName is the instrumentation scope of the receiver's records and
	// of its self-telemetry.
	ScopeName = "github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver"
)

// LogsStability is the stability of the logs signal.
const LogsStability = component.StabilityLevelAlpha
