package intuneencodingextension

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-intune/otelcol-intune/internal/configcheck"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// Format names the projection written for each record.
type Format string

const (
	// FormatECS writes the Elasticsearch document the intune_elasticsearch
	// exporter indexes.
	FormatECS Format = "ecs"
	// FormatHEC writes the event the intune_splunk_hec exporter posts.
	FormatHEC Format = "hec"
)

// UnmarshalText rejects unknown formats when the config is loaded.
func (f *Format) UnmarshalText(b []byte) error {
	switch v := Format(b); v {
	case FormatECS, FormatHEC:
		*f = v
		return nil
	}
	return fmt.Errorf("%q is not valid, use ecs or hec", string(b))
}

// Config of the intune_encoding extension.
type Config struct {
	// Format is ecs (default) or hec.
	Format Format `mapstructure:"format"`
	// Dataset and Namespace fill data_stream.* in ECS documents, as the
	// Elasticsearch exporter would for a data stream; empty leaves the
	// data_stream fields out.
	Dataset   string `mapstructure:"dataset"`
	Namespace string `mapstructure:"namespace"`
	// Index, Source and Sourcetype fill the HEC envelope.
	Index      string `mapstructure:"index"`
	Source     string `mapstructure:"source"`
	Sourcetype string `mapstructure:"sourcetype"`

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

// Validate checks the config without changing it.
func (c *Config) Validate() error {
	errs := []error{c.problems.Err()}
	switch c.Format {
	case FormatECS, FormatHEC:
	default:
		errs = append(errs, fmt.Errorf("format: %q is not valid, use ecs or hec", c.Format))
	}
	if c.Format == FormatHEC && (c.Dataset != "" || c.Namespace != "") {
		errs = append(errs, errors.New("dataset and namespace apply to format ecs only; for hec use index, source and sourcetype"))
	}
	if c.Format == FormatECS && (c.Index != "" || c.Source != "" || c.Sourcetype != "") {
		errs = append(errs, errors.New("index, source and sourcetype apply to format hec only; for ecs use dataset and namespace"))
	}
	return errors.Join(errs...)
}

func (c *Config) ecsOptions() mapping.ECSOptions {
	return mapping.ECSOptions{DataStream: c.Dataset != "" || c.Namespace != "", Dataset: c.Dataset, Namespace: c.Namespace}
}

func (c *Config) hecOptions() mapping.HECOptions {
	return mapping.HECOptions{Index: c.Index, Source: c.Source, Sourcetype: c.Sourcetype}
}
