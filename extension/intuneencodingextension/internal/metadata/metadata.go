// Package metadata holds the component's type and stability, kept by hand
// in step with metadata.yaml.
package metadata

import "go.opentelemetry.io/collector/component"

var Type = component.MustNewType("intune_encoding")

const ExtensionStability = component.StabilityLevelAlpha
