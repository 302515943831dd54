package intuneenrichprocessor

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-intune/otelcol-intune/internal/catalogfile"
	"github.com/otelcol-intune/otelcol-intune/internal/configcheck"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// NonConnectorAction says what happens to records that are not Intune
// connector events.
type NonConnectorAction string

const (
	// NonConnectorPass forwards them untouched (the default): the processor
	// can sit in a pipeline that carries every Windows event.
	NonConnectorPass NonConnectorAction = "pass"
	// NonConnectorDrop removes them, for pipelines meant only for the
	// connector's events.
	NonConnectorDrop NonConnectorAction = "drop"
)

// UnmarshalText rejects unknown values when the config is loaded.
func (a *NonConnectorAction) UnmarshalText(b []byte) error {
	switch v := NonConnectorAction(b); v {
	case NonConnectorPass, NonConnectorDrop:
		*a = v
		return nil
	}
	return fmt.Errorf("%q is not valid, use pass or drop", string(b))
}

// Config of the intune_enrich processor.
type Config struct {
	// Enrichment is the same block the intune_connector receiver takes:
	// severity overrides and original-text capture.
	Enrichment mapping.Config `mapstructure:"enrichment"`
	// NonConnector decides what happens to records that are not connector
	// events: pass (default) or drop.
	NonConnector NonConnectorAction `mapstructure:"non_connector"`

	// problems are the settings Unmarshal refused; Validate reports them.
	problems *configcheck.Problems
}

// Unmarshal refuses unknown keys (naming the one meant) and values of the
// wrong kind, before decoding the rest.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	p, err := configcheck.Unmarshal(conf, c)
	c.problems = p
	return err
}

// Validate checks the config without changing it. The collector validates
// enrichment on its own (mapping.Config has Validate) and names the key.
func (c *Config) Validate() error {
	errs := []error{c.problems.Err()}
	// The catalog files are read here, so that validate reports a bad one.
	errs = append(errs, catalogfile.Check("enrichment", c.Enrichment))
	switch c.NonConnector {
	case NonConnectorPass, NonConnectorDrop:
	default:
		errs = append(errs, fmt.Errorf("non_connector: %q is not valid, use pass or drop", c.NonConnector))
	}
	return errors.Join(errs...)
}
