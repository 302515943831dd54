package intuneelasticsearchexporter

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
)

// Config is the intune_elasticsearch exporter's configuration.
type Config struct {
	// ClientConfig holds the HTTP settings: endpoint (one node; or use
	// endpoints), tls, timeout (per HTTP request), headers, compression,
	// proxy_url, auth (an authenticator extension) and connection limits.
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`

	QueueBatchConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	BackOffConfig    configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// Endpoints are the node URLs requests are spread over.
	Endpoints []string `mapstructure:"endpoints"`
	// CloudID is an Elastic Cloud deployment's Cloud ID, instead of
	// endpoints.
	CloudID string `mapstructure:"cloud_id"`

	// APIKey is an Elasticsearch API key: the encoded form Kibana shows,
	// or "id:api_key", which the exporter encodes.
	APIKey configopaque.String `mapstructure:"api_key"`
	// User and Password are for basic authentication.
	User     string              `mapstructure:"user"`
	Password configopaque.String `mapstructure:"password"`
	// BearerToken is sent as "Authorization: Bearer", e.g. a service
	// account token.
	BearerToken configopaque.String `mapstructure:"bearer_token"`

	// DataStream names the data stream logs-<dataset>-<namespace>; records
	// may override either part with data_stream.dataset /
	// data_stream.namespace attributes. Ignored when Index is set.
	DataStream DataStreamConfig `mapstructure:"data_stream"`
	// Index, when set, is the fixed index or alias every document goes to
	// instead of a data stream.
	Index string `mapstructure:"index"`
	// Pipeline is an ingest pipeline to run on every document.
	Pipeline string `mapstructure:"pipeline"`

	Bootstrap  BootstrapConfig  `mapstructure:"bootstrap"`
	DeadLetter DeadLetterConfig `mapstructure:"dead_letter"`
}

// DataStreamConfig is the default dataset and namespace.
type DataStreamConfig struct {
	Dataset   string `mapstructure:"dataset"`
	Namespace string `mapstructure:"namespace"`
}

// BootstrapConfig controls what the exporter installs at start.
type BootstrapConfig struct {
	// Enabled installs the component templates, the index template, the
	// lifecycle and the pipeline (when PipelineFile is set). Turn it off
	// when the credentials may only write documents and an administrator
	// installs the templates.
	Enabled bool `mapstructure:"enabled"`
	// Name prefixes the templates and names the ILM policy.
	Name string `mapstructure:"name"`
	// IndexPatterns the index template applies to; by default every
	// data stream of the intune_connector datasets, or Index.
	IndexPatterns []string `mapstructure:"index_patterns"`
	// Priority of the index template; it must differ from that of any
	// other template whose patterns overlap (Elasticsearch's logs
	// template, logs-*-*, has 100).
	Priority int `mapstructure:"priority"`
	// Lifecycle is ilm, data_stream_lifecycle or none.
	Lifecycle LifecycleMode `mapstructure:"lifecycle"`
	// Rollover and retention: an ILM hot phase rolls over at
	// RolloverMaxAge or RolloverMaxPrimaryShardSize; DeleteAfter (0: keep)
	// deletes indices that old (ILM) or sets the data stream retention.
	RolloverMaxAge              string        `mapstructure:"rollover_max_age"`
	RolloverMaxPrimaryShardSize string        `mapstructure:"rollover_max_primary_shard_size"`
	DeleteAfter                 time.Duration `mapstructure:"delete_after"`
	// PipelineFile is a JSON pipeline definition installed as Pipeline.
	PipelineFile string `mapstructure:"pipeline_file"`
}

// DeadLetterConfig is where documents Elasticsearch refuses for good go: a
// JSON-lines file (path, max_size_mib), an index, or both.
type DeadLetterConfig struct {
	File deadletter.Config `mapstructure:",squash"`
	// Index receives each refused document as a string, with the reason,
	// so the document's own fields cannot be refused again.
	Index string `mapstructure:"index"`
}

// LifecycleMode selects how indices age.
type LifecycleMode string

// Lifecycle modes.
const (
	LifecycleILM        LifecycleMode = "ilm"
	LifecycleDataStream LifecycleMode = "data_stream_lifecycle"
	LifecycleNone       LifecycleMode = "none"
)

// UnmarshalText rejects unknown modes when the configuration is read.
func (m *LifecycleMode) UnmarshalText(b []byte) error {
	switch v := LifecycleMode(strings.ToLower(string(b))); v {
	case LifecycleILM, LifecycleDataStream, LifecycleNone:
		*m = v
		return nil
	}
	return fmt.Errorf("bootstrap::lifecycle %q is not one of ilm, data_stream_lifecycle, none", b)
}

var (
	// Elasticsearch index names: lower case, none of \/*?"<>| space , #,
	// not starting with - _ +.
	indexNameRE = regexp.MustCompile(`^[a-z0-9][^A-Z\\/*?"<>| ,#:]*$`)
	// Data stream name parts: no hyphen in either (it separates them).
	dataStreamPartRE = regexp.MustCompile(`^[a-z0-9_.]+$`)
	templateNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	sizeRE           = regexp.MustCompile(`^[0-9]+(b|kb|mb|gb|tb|pb)$`)
	ageRE            = regexp.MustCompile(`^[0-9]+(d|h|m|s|ms|micros|nanos)$`)
)

// Validate checks the settings without touching the network or files.
func (cfg *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	endpoints := cfg.endpoints()
	switch {
	case len(endpoints) == 0 && cfg.CloudID == "":
		add("set endpoints (or endpoint) to the Elasticsearch node URLs, or cloud_id")
	case len(endpoints) > 0 && cfg.CloudID != "":
		add("set endpoints (or endpoint) or cloud_id, not both")
	}
	if cfg.ClientConfig.Endpoint != "" && len(cfg.Endpoints) > 0 {
		add("set endpoint or endpoints, not both")
	}
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("endpoints: %q is not an http:// or https:// URL", e)
		}
	}
	if cfg.CloudID != "" {
		if _, err := decodeCloudID(cfg.CloudID); err != nil {
			add("cloud_id: %w", err)
		}
	}

	methods := 0
	for _, set := range []bool{cfg.APIKey != "", cfg.User != "" || cfg.Password != "", cfg.BearerToken != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		add("set one of api_key, user/password and bearer_token")
	}
	if (cfg.User == "") != (cfg.Password == "") {
		add("user and password go together")
	}

	if cfg.Index != "" {
		if !indexNameRE.MatchString(cfg.Index) {
			add("index %q is not a valid index name (lower case; none of \\ / * ? \" < > | , # : or spaces; not starting with -, _ or +)", cfg.Index)
		}
	} else {
		if !dataStreamPartRE.MatchString(cfg.DataStream.Dataset) {
			add("data_stream::dataset %q must be lower case letters, digits, _ and . (no hyphen)", cfg.DataStream.Dataset)
		}
		if !dataStreamPartRE.MatchString(cfg.DataStream.Namespace) {
			add("data_stream::namespace %q must be lower case letters, digits, _ and . (no hyphen)", cfg.DataStream.Namespace)
		}
	}
	if cfg.Pipeline != "" && strings.ContainsAny(cfg.Pipeline, "/?#& ") {
		add("pipeline %q is not a valid pipeline name", cfg.Pipeline)
	}

	b := cfg.Bootstrap
	if b.Enabled {
		if !templateNameRE.MatchString(b.Name) {
			add("bootstrap::name %q must be lower case letters, digits, _, . and -", b.Name)
		}
		if b.Priority <= 0 {
			add("bootstrap::priority must be positive")
		}
		if b.Priority == 100 && cfg.Index == "" {
			add("bootstrap::priority 100 is that of Elasticsearch's logs-*-* template, which Elasticsearch refuses to share; use another")
		}
		if b.RolloverMaxAge != "" && !ageRE.MatchString(b.RolloverMaxAge) {
			add("bootstrap::rollover_max_age %q is not an Elasticsearch time unit like 30d or 12h", b.RolloverMaxAge)
		}
		if b.RolloverMaxPrimaryShardSize != "" && !sizeRE.MatchString(b.RolloverMaxPrimaryShardSize) {
			add("bootstrap::rollover_max_primary_shard_size %q is not an Elasticsearch byte size like 50gb", b.RolloverMaxPrimaryShardSize)
		}
		if b.DeleteAfter < 0 {
			add("bootstrap::delete_after must not be negative")
		}
		if b.PipelineFile != "" && cfg.Pipeline == "" {
			add("bootstrap::pipeline_file needs pipeline, the name to install it as")
		}
		for _, p := range b.IndexPatterns {
			if p == "" || strings.ContainsAny(p, " ,") {
				add("bootstrap::index_patterns: %q is not an index pattern", p)
			}
		}
	}
	if err := cfg.DeadLetter.File.Validate(); err != nil {
		add("%w", err)
	}
	if cfg.DeadLetter.Index != "" && !indexNameRE.MatchString(cfg.DeadLetter.Index) {
		add("dead_letter::index %q is not a valid index name", cfg.DeadLetter.Index)
	}
	return errors.Join(errs...)
}

func (cfg *Config) endpoints() []string {
	if cfg.ClientConfig.Endpoint != "" {
		return append([]string{cfg.ClientConfig.Endpoint}, cfg.Endpoints...)
	}
	return cfg.Endpoints
}

// encodedAPIKey returns the key in the encoded form Elasticsearch expects.
func (cfg *Config) encodedAPIKey() string {
	k := string(cfg.APIKey)
	if strings.Contains(k, ":") {
		return base64.StdEncoding.EncodeToString([]byte(k))
	}
	return k
}

// decodeCloudID returns the Elasticsearch URL of a Cloud ID
// ("name:base64(host$es_uuid$kibana_uuid)").
func decodeCloudID(id string) (string, error) {
	_, enc, ok := strings.Cut(id, ":")
	if !ok {
		return "", errors.New("expected deployment-name:base64-data, as the Elastic Cloud console shows it")
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", errors.New("the part after the colon is not base64; copy the Cloud ID again from the Elastic Cloud console")
	}
	parts := strings.Split(string(raw), "$")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", errors.New("the decoded Cloud ID has no host$elasticsearch-id; copy it again from the Elastic Cloud console")
	}
	host := parts[0]
	if h, port, ok := strings.Cut(host, ":"); ok && port != "" {
		return "https://" + parts[1] + "." + h + ":" + port, nil
	}
	return "https://" + parts[1] + "." + host, nil
}
