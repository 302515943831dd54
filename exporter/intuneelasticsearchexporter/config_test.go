package intuneelasticsearchexporter

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestLoadConfig(t *testing.T) {
	t.Setenv("ES_API_KEY", "ignored")
	tests := []struct {
		name    string
		check   func(t *testing.T, cfg *Config)
		wantErr []string
		// hide is text that must not reach the error: secrets.
		hide []string
	}{
		{
			name: "minimal",
			check: func(t *testing.T, cfg *Config) {
				if cfg.DataStream.Dataset != "intune_connector.events" || cfg.DataStream.Namespace != "default" {
					t.Errorf("data stream defaults: %+v", cfg.DataStream)
				}
				if !cfg.Bootstrap.Enabled || cfg.Bootstrap.Lifecycle != LifecycleILM || cfg.Bootstrap.Priority != 200 {
					t.Errorf("bootstrap defaults: %+v", cfg.Bootstrap)
				}
				if cfg.ClientConfig.Compression != configcompression.TypeGzip || cfg.ClientConfig.TLS.InsecureSkipVerify {
					t.Errorf("client defaults: compression %q, insecure %v", cfg.ClientConfig.Compression, cfg.ClientConfig.TLS.InsecureSkipVerify)
				}
				if !cfg.QueueBatchConfig.HasValue() || !cfg.QueueBatchConfig.Get().Batch.HasValue() {
					t.Error("queue and batching should be on by default")
				}
			},
		},
		{
			name: "full",
			check: func(t *testing.T, cfg *Config) {
				if len(cfg.Endpoints) != 2 || cfg.User != "intune_writer" || string(cfg.Password) != "s3cret" {
					t.Errorf("connection: %+v", cfg)
				}
				if cfg.ClientConfig.Timeout != 30*time.Second || cfg.ClientConfig.TLS.CAFile != "/etc/otelcol/elastic-ca.pem" {
					t.Errorf("client: %+v", cfg.ClientConfig)
				}
				if cfg.Bootstrap.Lifecycle != LifecycleDataStream || cfg.Bootstrap.DeleteAfter != Age(90*24*time.Hour) || cfg.Bootstrap.Name != "logs-intune" {
					t.Errorf("bootstrap: %+v", cfg.Bootstrap)
				}
				if cfg.DeadLetter.File.Path == "" || cfg.DeadLetter.File.MaxSizeMiB != 50 || cfg.DeadLetter.Index != "intune-dead-letter" {
					t.Errorf("dead letter: %+v", cfg.DeadLetter)
				}
				q := cfg.QueueBatchConfig.Get()
				if q.StorageID == nil || q.StorageID.String() != "file_storage" || q.QueueSize != 50000 {
					t.Errorf("queue: %+v", q)
				}
				if cfg.BackOffConfig.MaxElapsedTime != 10*time.Minute {
					t.Errorf("retry: %+v", cfg.BackOffConfig)
				}
			},
		},
		{
			name: "cloud",
			check: func(t *testing.T, cfg *Config) {
				u, err := decodeCloudID(cfg.CloudID)
				if err != nil || u != "https://abcdef.eu-west-1.aws.found.io:443" {
					t.Errorf("cloud id -> %q, %v", u, err)
				}
				if cfg.Index != "intune-events" || cfg.Bootstrap.Enabled {
					t.Errorf("%+v", cfg)
				}
			},
		},
		{
			name: "queue_flags",
			check: func(t *testing.T, cfg *Config) {
				q := cfg.QueueBatchConfig.Get()
				if !cfg.QueueBatchConfig.HasValue() || q.StorageID == nil || q.QueueSize != 1_000 || !q.BlockOnOverflow || !q.Batch.HasValue() {
					t.Errorf("queue: %+v", q)
				}
				if !cfg.BackOffConfig.Enabled || cfg.BackOffConfig.MaxElapsedTime != 0 {
					t.Errorf("retry: %+v", cfg.BackOffConfig)
				}
			},
		},
		{
			name: "queue_off",
			check: func(t *testing.T, cfg *Config) {
				if cfg.QueueBatchConfig.HasValue() {
					t.Error("sending_queue::enabled: false left the queue on")
				}
			},
		},
		{name: "bad_lifecycle", wantErr: []string{`bootstrap::lifecycle: "forever" is not one of ilm, data_stream_lifecycle, none`}},
		{name: "zstd", wantErr: []string{`compression: "zstd" is not supported: this exporter sends gzip or uncompressed bodies; use gzip or none`}},
		{name: "gzip_level", wantErr: []string{"compression_params::level: 11 is not a gzip level (1 fastest to 9 smallest)"}},
		{name: "no_destination", wantErr: []string{"endpoints: the value is empty (no endpoint, endpoints or cloud_id is set): set endpoints to the Elasticsearch node URLs"}},
		{name: "conflicts", wantErr: []string{
			"set endpoints (or endpoint) or cloud_id, not both",
			"set one of api_key, user/password and bearer_token",
			"user and password go together",
			`data_stream::dataset "intune-connector"`,
			"bootstrap::priority 100",
			`bootstrap::rollover_max_age: "a month" is not a duration; write a number with a unit, e.g. 30d`,
		}},
		{name: "misspelt", hide: []string{"s3cr3t"}, wantErr: []string{
			"apikey: unknown setting; did you mean api_key?",
			"bootstrap::enable: unknown setting; did you mean bootstrap::enabled?",
			"dead_letter::file: unknown setting; did you mean dead_letter::path?",
			"delete_after: unknown setting here; did you mean bootstrap::delete_after?",
		}},
		{name: "bare_durations", wantErr: []string{
			"timeout: 30 has no unit, so it would mean 30 nanoseconds; write the unit, e.g. 30s",
			"retry_on_failure::initial_interval: 5 has no unit",
			`bootstrap::delete_after: "90" has no unit, so it would mean nanoseconds; write the unit, e.g. 90d`,
		}},
		{name: "short_durations", wantErr: []string{
			"timeout: 100ms is below the minimum of 1s",
			"bootstrap::rollover_max_age: 5m is below the minimum of 1h",
			"bootstrap::delete_after: 30m is below the minimum of 1h",
		}},
		{name: "ages", check: func(t *testing.T, cfg *Config) {
			// One syntax for both; Elasticsearch gets its own units.
			if cfg.Bootstrap.RolloverMaxAge.String() != "90d" || cfg.Bootstrap.DeleteAfter != Age(90*24*time.Hour) {
				t.Errorf("rollover %s, delete after %s", cfg.Bootstrap.RolloverMaxAge, cfg.Bootstrap.DeleteAfter)
			}
		}},
		{name: "shapes", wantErr: []string{
			"bootstrap: is a block of settings, not false; write bootstrap: {enabled: false}",
			"dead_letter: is a block of settings, not a single value; write dead_letter: {path: /var/lib/otelcol/dlq.jsonl}",
			"sending_queue: is a block of settings, not false; write sending_queue: {enabled: false}",
		}},
		{name: "empty_values", wantErr: []string{
			"endpoints[0]: the value is empty; if it comes from an environment variable (${env:ES_ENDPOINT}), that variable is unset or empty",
			"api_key: the value is empty; if it comes from an environment variable",
		}},
		{name: "header_values", hide: []string{"VnVhQ2ZH"}, wantErr: []string{`api_key: give the key alone, without "ApiKey "`}},
		{name: "no_rollover", wantErr: []string{
			"bootstrap::rollover_max_age and bootstrap::rollover_max_primary_shard_size are both empty: an ILM rollover needs at least one",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tt.name)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\nlacks %q", err, w)
					}
				}
				for _, h := range tt.hide {
					if strings.Contains(err.Error(), h) {
						t.Errorf("error %q\nshows %q", err, h)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestValidateMore(t *testing.T) {
	base := func() *Config {
		c := createDefaultConfig().(*Config)
		c.Endpoints = []string{"http://localhost:9200"}
		return c
	}
	tests := []struct {
		name    string
		mutate  func(c *Config)
		wantErr string
	}{
		{"ok", func(*Config) {}, ""},
		{"endpoint and endpoints", func(c *Config) { c.ClientConfig.Endpoint = "http://a:9200" }, "set endpoint or endpoints, not both"},
		{"single endpoint", func(c *Config) { c.Endpoints = nil; c.ClientConfig.Endpoint = "http://a:9200" }, ""},
		{"not a url", func(c *Config) { c.Endpoints = []string{"es01:9200"} }, `endpoints[0]: "es01:9200" is not an http:// or https:// URL`},
		{"bad single endpoint", func(c *Config) { c.Endpoints = nil; c.ClientConfig.Endpoint = "es01" }, `endpoint: "es01" is not an http:// or https:// URL`},
		{"no timeout", func(c *Config) { c.ClientConfig.Timeout = 0 }, "timeout: 0s is below the minimum of 1s"},
		{"bearer header", func(c *Config) { c.BearerToken = "Bearer abc" }, `bearer_token: give the token alone, without "Bearer "`},
		{"bad lifecycle", func(c *Config) { c.Bootstrap.Lifecycle = "x" }, `bootstrap::lifecycle: "x" is not one of`},
		{"no rollover for a plain index is fine", func(c *Config) {
			c.Index = "intune"
			c.Bootstrap.RolloverMaxAge = 0
			c.Bootstrap.RolloverMaxPrimaryShardSize = ""
		}, ""},
		{"no rollover with data stream lifecycle is fine", func(c *Config) {
			c.Bootstrap.Lifecycle = LifecycleDataStream
			c.Bootstrap.RolloverMaxAge = 0
			c.Bootstrap.RolloverMaxPrimaryShardSize = ""
		}, ""},
		{"size alone is a rollover condition", func(c *Config) { c.Bootstrap.RolloverMaxAge = 0 }, ""},
		{"bad index", func(c *Config) { c.Index = "Intune" }, `index "Intune" is not a valid index name`},
		{"index skips data stream checks", func(c *Config) { c.Index = "intune"; c.DataStream.Dataset = "A-B" }, ""},
		{"bad namespace", func(c *Config) { c.DataStream.Namespace = "prod-1" }, `data_stream::namespace "prod-1"`},
		{"pipeline file without pipeline", func(c *Config) { c.Bootstrap.PipelineFile = "p.json" }, "bootstrap::pipeline_file needs pipeline"},
		{"bad size", func(c *Config) { c.Bootstrap.RolloverMaxPrimaryShardSize = "50 GB" }, "rollover_max_primary_shard_size"},
		{"bad dead-letter index", func(c *Config) { c.DeadLetter.Index = "_dlq" }, "dead_letter::index"},
		{"negative dead-letter size", func(c *Config) { c.DeadLetter.File.MaxSizeMiB = -1 }, "max_size_mib"},
		{"bad cloud id", func(c *Config) { c.Endpoints = nil; c.CloudID = "nocolon" }, "cloud_id: expected deployment-name:base64-data"},
		{"bootstrap off skips its checks", func(c *Config) { c.Bootstrap.Enabled = false; c.Bootstrap.Priority = 0 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.mutate(c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestEncodedAPIKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"encoded stays", "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==", "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="},
		{"id:key is encoded", "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw", base64.StdEncoding.EncodeToString([]byte("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{APIKey: "x"}
			c.APIKey = configopaque.String(tt.in)
			if got := c.encodedAPIKey(); got != tt.want {
				t.Errorf("got %q", got)
			}
		})
	}
}
