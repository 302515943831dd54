package intuneencodingextension

import (
	"fmt"

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
	return fmt.Errorf("format: %q is not valid, use ecs or hec", string(b))
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
}

// Validate checks the config without changing it.
func (c *Config) Validate() error {
	switch c.Format {
	case FormatECS, FormatHEC:
	default:
		return fmt.Errorf("format: %q is not valid, use ecs or hec", c.Format)
	}
	if c.Format == FormatHEC && (c.Dataset != "" || c.Namespace != "") {
		return fmt.Errorf("dataset and namespace apply to format ecs only; for hec use index, source and sourcetype")
	}
	if c.Format == FormatECS && (c.Index != "" || c.Source != "" || c.Sourcetype != "") {
		return fmt.Errorf("index, source and sourcetype apply to format hec only; for ecs use dataset and namespace")
	}
	return nil
}

func (c *Config) ecsOptions() mapping.ECSOptions {
	return mapping.ECSOptions{DataStream: c.Dataset != "" || c.Namespace != "", Dataset: c.Dataset, Namespace: c.Namespace}
}

func (c *Config) hecOptions() mapping.HECOptions {
	return mapping.HECOptions{Index: c.Index, Source: c.Source, Sourcetype: c.Sourcetype}
}
