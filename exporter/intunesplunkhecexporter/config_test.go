package intunesplunkhecexporter

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		check   func(t *testing.T, c *Config)
		wantErr string
		// more is text the error must hold too; hide what it must not.
		more, hide []string
	}{
		{name: "", check: func(t *testing.T, c *Config) {
			if c.Sourcetype != mapping.DefaultSourcetype || c.ClientConfig.Compression != configcompression.TypeGzip ||
				c.MaxContentLength != 2<<20 || c.MaxEventSize != 1<<20 || c.Oversize != OversizeDeadLetter ||
				!c.HealthCheck.Enabled || c.Ack.Enabled || !c.QueueConfig.HasValue() || !c.QueueConfig.Get().Batch.HasValue() {
				t.Errorf("defaults not applied: %+v", c)
			}
			// Counted in records, blocking when full (test/e2e checks it
			// holds two of the receiver's default batches).
			if q := c.QueueConfig.Get(); q.Sizer != exporterhelper.RequestSizerTypeItems || q.QueueSize != 1_000 || !q.BlockOnOverflow {
				t.Errorf("sending queue defaults: %+v", q)
			}
		}},
		{name: "full", check: func(t *testing.T, c *Config) {
			if c.Index != "intune" || c.Source != "ndes01" || c.ClientConfig.Compression != "none" ||
				c.ClientConfig.Timeout != 10*time.Second || c.ClientConfig.TLS.CAFile != "/etc/ssl/splunk-ca.pem" ||
				c.MaxContentLength != 1<<20 || c.MaxEventSize != 65536 || c.Oversize != OversizeTruncate ||
				c.HealthCheck.Enabled || !c.Ack.Enabled || c.Ack.PollInterval != time.Second || c.Ack.Timeout != 30*time.Second ||
				c.DeadLetter.MaxSizeMiB != 50 || c.QueueConfig.Get().StorageID == nil || c.BackOff.MaxElapsedTime != 0 {
				t.Errorf("settings not read: %+v", c)
			}
			if string(c.Token) != "00000000-0000-0000-0000-000000000000" {
				t.Errorf("token not read")
			}
		}},
		{name: "no_token", wantErr: "token: required"},
		{name: "token_with_prefix", wantErr: "token: give the token alone"},
		{name: "raw_endpoint", wantErr: "endpoint: \"https://splunk.example.com:8088/services/collector/raw\" is the raw endpoint"},
		{name: "bad_oversize", wantErr: `oversize: "drop" is not one of dead_letter, truncate`},
		{name: "event_larger_than_request", wantErr: "max_event_size (8192) must not exceed max_content_length (4096)"},
		{name: "bad_ack", wantErr: "ack::timeout (1s) must be at least ack::poll_interval (10s)"},
		{name: "zstd", wantErr: `compression: "zstd" is not supported`},
		{name: "misspelt", hide: []string{"00000000-0000"}, wantErr: "hec_token: unknown setting; did you mean token?", more: []string{
			"ack::enable: unknown setting; did you mean ack::enabled?",
			"token: required",
		}},
		{name: "shapes", wantErr: "ack: is a block of settings, not true; write ack: {enabled: true}", more: []string{
			"health_check: is a block of settings, not false; write health_check: {enabled: false}",
			"dead_letter: is a block of settings, not a single value; write dead_letter: {path: /var/lib/otelcol/hec-dlq.jsonl}",
		}},
		{name: "bare_durations", wantErr: "timeout: 30 has no unit, so it would mean 30 nanoseconds; write the unit, e.g. 30s", more: []string{
			"ack::poll_interval: 2 has no unit, so it would mean 2 nanoseconds; write the unit, e.g. 2s",
		}},
		{name: "short_durations", wantErr: "timeout: 10ms is below the minimum of 1s", more: []string{
			"ack::poll_interval: 2ns is below the minimum of 1ms",
		}},
		{name: "empty_token", wantErr: "token: the value is empty; if it comes from an environment variable (${env:NAME}), that variable is unset or empty"},
	}
	for _, tc := range tests {
		t.Run("intune_splunk_hec/"+tc.name, func(t *testing.T) {
			id := component.NewID(metadata.Type)
			if tc.name != "" {
				id = component.NewIDWithName(metadata.Type, tc.name)
			}
			sub, err := cm.Sub(id.String())
			if err != nil {
				t.Fatal(err)
			}
			cfg := createDefaultConfig().(*Config)
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = cfg.Validate()
			}
			if tc.wantErr != "" {
				for _, w := range append([]string{tc.wantErr}, tc.more...) {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Fatalf("error %v, want one containing %q", err, w)
					}
				}
				for _, h := range tc.hide {
					if strings.Contains(err.Error(), h) {
						t.Errorf("error %v shows %q", err, h)
					}
				}
				if tc.name == "empty_token" && strings.Contains(err.Error(), "token: required") {
					t.Errorf("the empty token is reported twice: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}

func TestValidateJoinsErrors(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.MaxContentLength = 10
	err := cfg.Validate()
	for _, want := range []string{"endpoint: required", "token: required", "max_content_length: 10"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		name, in           string
		event, ack, health string
		wantErr            string
	}{
		{name: "base", in: "https://s:8088", event: "https://s:8088/services/collector/event", ack: "https://s:8088/services/collector/ack", health: "https://s:8088/services/collector/health"},
		{name: "base_slash", in: "https://s:8088/", event: "https://s:8088/services/collector/event", ack: "https://s:8088/services/collector/ack", health: "https://s:8088/services/collector/health"},
		{name: "collector", in: "https://s:8088/services/collector", event: "https://s:8088/services/collector/event", ack: "https://s:8088/services/collector/ack", health: "https://s:8088/services/collector/health"},
		{name: "full", in: "http://s:8088/services/collector/event", event: "http://s:8088/services/collector/event", ack: "http://s:8088/services/collector/ack", health: "http://s:8088/services/collector/health"},
		{name: "versioned", in: "https://s/services/collector/event/1.0", event: "https://s/services/collector/event/1.0", ack: "https://s/services/collector/ack", health: "https://s/services/collector/health"},
		{name: "proxy_prefix", in: "https://gw/splunk", event: "https://gw/splunk/services/collector/event", ack: "https://gw/splunk/services/collector/ack", health: "https://gw/splunk/services/collector/health"},
		{name: "empty", in: "", wantErr: "endpoint: required"},
		{name: "scheme", in: "splunk:8088", wantErr: "must start with https://"},
		{name: "no_host", in: "https:///services/collector", wantErr: "has no host"},
		{name: "query", in: "https://s:8088/services/collector?token=x", wantErr: "must not carry a query"},
		{name: "raw", in: "https://s:8088/services/collector/raw", wantErr: "raw endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEndpoint(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.event != tt.event || got.ack != tt.ack || got.health != tt.health {
				t.Fatalf("got %+v", got)
			}
		})
	}
}
