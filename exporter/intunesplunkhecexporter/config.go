package intunesplunkhecexporter

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-intune/otelcol-intune/internal/configcheck"
	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
)

// HEC paths below the base URL.
const (
	pathEvent  = "/services/collector/event"
	pathAck    = "/services/collector/ack"
	pathHealth = "/services/collector/health"
)

// Config is the intune_splunk_hec exporter's configuration.
type Config struct {
	// ClientConfig holds endpoint, tls, timeout (per HTTP request),
	// headers, compression (gzip or none) and the other HTTP client settings.
	ClientConfig confighttp.ClientConfig                                  `mapstructure:",squash"`
	QueueConfig  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	BackOff      configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// Token is the HEC token, sent as "Authorization: Splunk <token>".
	Token configopaque.String `mapstructure:"token"`
	// Index, Source and Sourcetype fill the event envelope unless a record
	// carries com.splunk.index / com.splunk.source / com.splunk.sourcetype.
	// An empty index leaves the choice to the token's default index; an
	// empty source means the record's channel.
	Index      string `mapstructure:"index"`
	Source     string `mapstructure:"source"`
	Sourcetype string `mapstructure:"sourcetype"`

	// MaxContentLength caps the uncompressed size of one POST body; a batch
	// is split into as many requests as it takes.
	MaxContentLength int `mapstructure:"max_content_length"`
	// MaxEventSize caps one encoded event; larger events are handled as
	// Oversize says.
	MaxEventSize int            `mapstructure:"max_event_size"`
	Oversize     OversizeAction `mapstructure:"oversize"`

	HealthCheck HealthCheckConfig `mapstructure:"health_check"`
	Ack         AckConfig         `mapstructure:"ack"`
	DeadLetter  deadletter.Config `mapstructure:"dead_letter"`

	// problems are the settings Unmarshal refused; Validate reports them.
	problems *configcheck.Problems
}

// Unmarshal refuses unknown keys (naming the one meant), durations without
// a unit and blocks written as one value, before decoding the rest.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	p, err := configcheck.Unmarshal(conf, c)
	c.problems = p
	return err
}

// HealthCheckConfig controls the GET /services/collector/health at start.
type HealthCheckConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// AckConfig controls indexer acknowledgement (Splunk Enterprise).
type AckConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// PollInterval is the pause between two POSTs to /services/collector/ack.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Timeout is how long a request may stay unacknowledged before its
	// events are sent again.
	Timeout time.Duration `mapstructure:"timeout"`
}

// OversizeAction says what happens to an event larger than max_event_size.
type OversizeAction string

const (
	// OversizeDeadLetter writes the whole event to the dead-letter file.
	OversizeDeadLetter OversizeAction = "dead_letter"
	// OversizeTruncate sends a cut-down event with a marker.
	OversizeTruncate OversizeAction = "truncate"
)

// UnmarshalText rejects values other than dead_letter and truncate.
func (a *OversizeAction) UnmarshalText(b []byte) error {
	switch v := OversizeAction(b); v {
	case OversizeDeadLetter, OversizeTruncate:
		*a = v
		return nil
	}
	return fmt.Errorf("%q is not one of dead_letter, truncate", string(b))
}

// Validate checks the configuration without side effects, naming the YAML
// keys a user has to change.
func (c *Config) Validate() error {
	errs := []error{c.problems.Err()}
	if !c.problems.Has("endpoint") {
		if _, err := parseEndpoint(c.ClientConfig.Endpoint); err != nil {
			errs = append(errs, err)
		}
	}
	tok := strings.TrimSpace(string(c.Token))
	switch {
	case c.problems.Has("token"):
	case tok == "":
		errs = append(errs, errors.New("token: required: the HEC token from Splunk (Settings > Data inputs > HTTP Event Collector); "+unsetEnvHint))
	case strings.HasPrefix(strings.ToLower(tok), "splunk "):
		errs = append(errs, errors.New(`token: give the token alone; the exporter adds the "Splunk " prefix itself`))
	}
	if err := configcheck.AtLeast("timeout", c.ClientConfig.Timeout, time.Second,
		"a POST of a full batch needs longer; every request would time out and be sent again (the default is 30s)"); err != nil {
		errs = append(errs, err)
	}
	if err := delivery.CheckCompression(c.ClientConfig.Compression, c.ClientConfig.CompressionParams.Level); err != nil {
		errs = append(errs, err)
	}
	if c.MaxContentLength < 1024 {
		errs = append(errs, fmt.Errorf("max_content_length: %d is below 1024 bytes", c.MaxContentLength))
	}
	if c.MaxEventSize < 256 {
		errs = append(errs, fmt.Errorf("max_event_size: %d is below 256 bytes", c.MaxEventSize))
	} else if c.MaxContentLength > 0 && c.MaxEventSize > c.MaxContentLength {
		errs = append(errs, fmt.Errorf("max_event_size (%d) must not exceed max_content_length (%d): an event that fits no request could never be sent", c.MaxEventSize, c.MaxContentLength))
	}
	switch c.Oversize {
	case OversizeDeadLetter, OversizeTruncate:
	default:
		errs = append(errs, fmt.Errorf("oversize: %q is not one of dead_letter, truncate", c.Oversize))
	}
	if c.Ack.Enabled {
		if err := configcheck.AtLeast("ack::poll_interval", c.Ack.PollInterval, time.Millisecond,
			"below it the exporter polls Splunk without pausing (the default is 2s)"); err != nil {
			errs = append(errs, err)
		}
		if c.Ack.Timeout <= 0 {
			errs = append(errs, errors.New("ack::timeout: must be positive"))
		} else if c.Ack.Timeout < c.Ack.PollInterval {
			errs = append(errs, fmt.Errorf("ack::timeout (%s) must be at least ack::poll_interval (%s)", c.Ack.Timeout, c.Ack.PollInterval))
		}
	}
	if err := c.DeadLetter.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// An empty endpoint or token most often comes from a ${env:...} that is not
// set where the collector runs.
const unsetEnvHint = "if it comes from an environment variable (${env:SPLUNK_HEC_TOKEN}), that variable is unset or empty where the collector runs"

// endpoints are the three HEC URLs derived from the configured endpoint.
type endpoints struct {
	event, ack, health string
}

// parseEndpoint accepts a base URL (https://splunk:8088, optionally with a
// proxy path prefix), .../services/collector or the full
// .../services/collector/event[/1.0] path.
func parseEndpoint(s string) (endpoints, error) {
	if strings.TrimSpace(s) == "" {
		return endpoints{}, errors.New("endpoint: required, e.g. https://splunk.example.com:8088; if it comes from an environment variable (${env:SPLUNK_HEC_ENDPOINT}), that variable is unset or empty where the collector runs")
	}
	u, err := url.Parse(s)
	if err != nil {
		return endpoints{}, fmt.Errorf("endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoints{}, fmt.Errorf("endpoint: %q must start with https:// (or http://)", s)
	}
	if u.Host == "" {
		return endpoints{}, fmt.Errorf("endpoint: %q has no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return endpoints{}, fmt.Errorf("endpoint: %q must not carry a query or fragment; the token goes in the token setting", s)
	}
	p := strings.TrimRight(u.Path, "/")
	event := ""
	switch {
	case strings.HasSuffix(p, pathEvent+"/1.0"):
		event = p
		p = strings.TrimSuffix(p, pathEvent+"/1.0")
	case strings.HasSuffix(p, pathEvent):
		event = p
		p = strings.TrimSuffix(p, pathEvent)
	case strings.HasSuffix(p, "/services/collector/raw"), strings.HasSuffix(p, "/services/collector/raw/1.0"):
		return endpoints{}, fmt.Errorf("endpoint: %q is the raw endpoint; this exporter sends structured events to /services/collector/event", s)
	case strings.HasSuffix(p, "/services/collector"):
		p = strings.TrimSuffix(p, "/services/collector")
	}
	if event == "" {
		event = p + pathEvent
	}
	base := *u
	at := func(path string) string {
		v := base
		v.Path = path
		return v.String()
	}
	return endpoints{event: at(event), ack: at(p + pathAck), health: at(p + pathHealth)}, nil
}
