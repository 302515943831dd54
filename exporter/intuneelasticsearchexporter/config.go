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
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-intune/otelcol-intune/internal/configcheck"
	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
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

	// problems are the settings Unmarshal refused; Validate reports them.
	problems *configcheck.Problems
}

// Unmarshal refuses unknown keys (naming the one meant), durations without
// a unit and blocks written as one value, before decoding the rest.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	p, err := configcheck.Unmarshal(conf, cfg)
	cfg.problems = p
	return err
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
	RolloverMaxAge              Age    `mapstructure:"rollover_max_age"`
	RolloverMaxPrimaryShardSize string `mapstructure:"rollover_max_primary_shard_size"`
	DeleteAfter                 Age    `mapstructure:"delete_after"`
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
	return fmt.Errorf("%q is not one of ilm, data_stream_lifecycle, none", b)
}

// Age is how old an index may grow (rollover_max_age) or be kept
// (delete_after): a Go duration (36h, 90m) or whole days (90d, 1d12h), the
// same syntax for both. Elasticsearch is sent it in its own time units.
type Age time.Duration

// UnmarshalText reads an age; empty or 0 means none.
func (a *Age) UnmarshalText(b []byte) error {
	if strings.TrimSpace(string(b)) == "" {
		*a = 0
		return nil
	}
	d, err := configcheck.ParseDuration(string(b), true)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("%q is negative", b)
	}
	*a = Age(d)
	return nil
}

// MarshalText writes the age as Elasticsearch does, so printed configs read
// back the same.
func (a Age) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// String is the age in the largest Elasticsearch time unit that is exact.
func (a Age) String() string { return esDuration(time.Duration(a)) }

// Ages shorter than this are refused: rolling over more often floods the
// cluster with indices and shards, and deleting sooner throws away what was
// just written (90m is 90 minutes, not months).
const minAge = time.Hour

var (
	// Elasticsearch index names: lower case, none of \/*?"<>| space , #,
	// not starting with - _ +.
	indexNameRE = regexp.MustCompile(`^[a-z0-9][^A-Z\\/*?"<>| ,#:]*$`)
	// Data stream name parts: no hyphen in either (it separates them).
	dataStreamPartRE = regexp.MustCompile(`^[a-z0-9_.]+$`)
	templateNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	sizeRE           = regexp.MustCompile(`^[0-9]+(b|kb|mb|gb|tb|pb)$`)
)

// Validate checks the settings without touching the network or files.
func (cfg *Config) Validate() error {
	errs := []error{cfg.problems.Err()}
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	cfg.validateConnection(add)
	if err := delivery.CheckCompression(cfg.ClientConfig.Compression, cfg.ClientConfig.CompressionParams.Level); err != nil {
		add("%w", err)
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

	if cfg.Bootstrap.Enabled {
		cfg.validateBootstrap(add)
	}
	if err := cfg.DeadLetter.File.Validate(); err != nil {
		add("%w", err)
	}
	if cfg.DeadLetter.Index != "" && !indexNameRE.MatchString(cfg.DeadLetter.Index) {
		add("dead_letter::index %q is not a valid index name", cfg.DeadLetter.Index)
	}
	return errors.Join(errs...)
}

// An empty endpoint, API key or password most often comes from a
// ${env:...} that is not set where the collector runs.
const unsetEnvHint = "if it comes from an environment variable (${env:ES_ENDPOINT}), that variable is unset or empty where the collector runs"

func (cfg *Config) validateConnection(add func(string, ...any)) {
	endpoints := cfg.endpoints()
	switch {
	case len(endpoints) == 0 && cfg.CloudID == "" && !cfg.problems.Has("cloud_id"):
		add("endpoints: the value is empty (no endpoint, endpoints or cloud_id is set): set endpoints to the Elasticsearch node URLs, e.g. [https://es01.example.com:9200], or endpoint to one, or cloud_id; %s", unsetEnvHint)
	case len(endpoints) > 0 && cfg.CloudID != "":
		add("set endpoints (or endpoint) or cloud_id, not both")
	}
	if cfg.ClientConfig.Endpoint != "" && len(cfg.Endpoints) > 0 {
		add("set endpoint or endpoints, not both")
	}
	for i, e := range cfg.Endpoints {
		if strings.TrimSpace(e) == "" {
			add("endpoints[%d]: the value is empty; %s", i, unsetEnvHint)
			continue
		}
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("endpoints[%d]: %q is not an http:// or https:// URL", i, e)
		}
	}
	if e := cfg.ClientConfig.Endpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("endpoint: %q is not an http:// or https:// URL", e)
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
	if (cfg.User == "") != (cfg.Password == "") && !cfg.problems.Has("user") && !cfg.problems.Has("password") {
		add("user and password go together")
	}
	// The header's scheme word pasted with the credential would be sent
	// twice (Authorization: ApiKey ApiKey ...) and refused with a 401.
	if k := strings.ToLower(strings.TrimSpace(string(cfg.APIKey))); strings.HasPrefix(k, "apikey ") {
		add(`api_key: give the key alone, without "ApiKey "; the exporter writes the Authorization header itself`)
	}
	if k := strings.ToLower(strings.TrimSpace(string(cfg.BearerToken))); strings.HasPrefix(k, "bearer ") {
		add(`bearer_token: give the token alone, without "Bearer "; the exporter writes the Authorization header itself`)
	}
	if err := configcheck.AtLeast("timeout", cfg.ClientConfig.Timeout, time.Second,
		"a bulk request needs longer; every request would time out and be retried forever (the default is 90s)"); err != nil {
		add("%w", err)
	}
}

func (cfg *Config) validateBootstrap(add func(string, ...any)) {
	b := cfg.Bootstrap
	if !templateNameRE.MatchString(b.Name) {
		add("bootstrap::name %q must be lower case letters, digits, _, . and -", b.Name)
	}
	if b.Priority <= 0 {
		add("bootstrap::priority must be positive")
	}
	if b.Priority == 100 && cfg.Index == "" {
		add("bootstrap::priority 100 is that of Elasticsearch's logs-*-* template, which Elasticsearch refuses to share; use another")
	}
	switch b.Lifecycle {
	case LifecycleILM, LifecycleDataStream, LifecycleNone:
	default:
		add("bootstrap::lifecycle: %q is not one of ilm, data_stream_lifecycle, none", b.Lifecycle)
	}
	if b.RolloverMaxAge > 0 && time.Duration(b.RolloverMaxAge) < minAge {
		add("bootstrap::rollover_max_age: %s is below the minimum of 1h: rolling over that often floods the cluster with indices (the default is 30d)", b.RolloverMaxAge)
	}
	if b.RolloverMaxAge < 0 {
		add("bootstrap::rollover_max_age must not be negative")
	}
	if b.RolloverMaxPrimaryShardSize != "" && !sizeRE.MatchString(b.RolloverMaxPrimaryShardSize) {
		add("bootstrap::rollover_max_primary_shard_size %q is not an Elasticsearch byte size like 50gb", b.RolloverMaxPrimaryShardSize)
	}
	// An ILM rollover without a condition is refused by Elasticsearch at
	// start ("at least one max_* rollover condition must be set").
	if b.Lifecycle == LifecycleILM && cfg.Index == "" && b.RolloverMaxAge == 0 && b.RolloverMaxPrimaryShardSize == "" &&
		!cfg.problems.Has("bootstrap::rollover_max_age") && !cfg.problems.Has("bootstrap::rollover_max_primary_shard_size") {
		add("bootstrap::rollover_max_age and bootstrap::rollover_max_primary_shard_size are both empty: an ILM rollover needs at least one; set rollover_max_age (e.g. 30d) or rollover_max_primary_shard_size (e.g. 50gb), or choose another bootstrap::lifecycle")
	}
	if b.DeleteAfter < 0 {
		add("bootstrap::delete_after must not be negative")
	} else if b.DeleteAfter > 0 && time.Duration(b.DeleteAfter) < minAge {
		add("bootstrap::delete_after: %s is below the minimum of 1h: indices would be deleted almost as soon as they are written (write days as 90d)", b.DeleteAfter)
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
