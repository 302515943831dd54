package intuneconnectorreceiver

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/metadata"
)

func TestConfigStruct(t *testing.T) {
	if err := componenttest.CheckConfigStruct(createDefaultConfig()); err != nil {
		t.Fatal(err)
	}
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	storageID := component.MustNewIDWithName("file_storage", "intune")
	tests := []struct {
		name string
		// want checks the loaded config; nil when an error is expected.
		want func(t *testing.T, c *Config)
		// wantErr lists text the unmarshal or validation error must hold.
		wantErr []string
		// windowsOnly cases fail validation elsewhere, naming channels.
		windowsOnly bool
	}{
		{name: "files", want: func(t *testing.T, c *Config) {
			want := createDefaultConfig().(*Config)
			want.Include = []string{"/var/log/intune/*.xml", "/exports/*.evtx"}
			want.Exclude = []string{"/var/log/intune/*.tmp.xml"}
			want.StartAt = StartAtEnd
			want.PollInterval = 5 * time.Second
			want.MaxEventSize = 1 << 20
			want.IncludeFileName, want.IncludeFilePath = false, true
			want.MaxBatchSize, want.MaxBatchDelay = 500, time.Second
			want.Storage = &storageID
			want.Retry.InitialInterval, want.Retry.MaxInterval, want.Retry.MaxElapsedTime = 2*time.Second, time.Minute, 10*time.Minute
			want.Enrichment = mapping.Config{IncludeOriginal: true, SeverityOverrides: []mapping.SeverityOverride{
				{Event: "CertificateRenewal_Failure", Severity: mapping.SeverityCritical}}}
			if got, wantY := dump(t, c), dump(t, want); got != wantY {
				t.Errorf("got\n%s\nwant\n%s", got, wantY)
			}
		}},
		{name: "bad_start_at", wantErr: []string{"start_at", `"middle"`}},
		{name: "bad_format", wantErr: []string{"format", `"csv"`}},
		{name: "invalid", wantErr: []string{
			"include[0]: the glob is empty", "exclude[0]", "poll_interval", "max_batch_size", "max_batch_delay", "remote: username",
		}},
		{name: "bad_override", wantErr: []string{"enrichment", "NoSuchEvent"}},
		{name: "misspelt", wantErr: []string{
			"includes: unknown setting; did you mean include?",
			"poll_intervall: unknown setting; did you mean poll_interval?",
			"enrichment::severity_override: unknown setting; did you mean enrichment::severity_overrides?",
		}},
		{name: "bare_durations", wantErr: []string{
			"poll_interval: 5 has no unit, so it would mean 5 nanoseconds; write the unit, e.g. 5s",
			"max_batch_delay: 200 has no unit",
			"retry_on_failure::max_interval: 30 has no unit",
		}},
		{name: "short_durations", wantErr: []string{
			"poll_interval: 500ns is below the minimum of 1ms",
			"max_batch_delay: 0s is below the minimum of 1ms",
		}},
		{name: "shapes", wantErr: []string{
			"retry_on_failure: is a block of settings, not false; write retry_on_failure: {enabled: false}",
			"remote: is a block of settings, not a single value; write remote: {server: ndes01.contoso.example}",
			"enrichment: is a block of settings (key: value lines under it), not a single value; it takes catalog_files, include_original or severity_overrides",
		}},
		{name: "unquoted_override", want: func(t *testing.T, c *Config) {
			want := []mapping.SeverityOverride{
				{Event: "20102", Code: "0x00000400", Severity: mapping.SeverityCritical},
				{Code: "0x00000411", Severity: mapping.SeverityWarning},
			}
			if got := c.Enrichment.SeverityOverrides; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("overrides %+v, want %+v", got, want)
			}
		}},
		{name: "numeric_severity", wantErr: []string{
			`enrichment::severity_overrides[0]::severity: unknown severity "2": severity takes a name, one of verbose, information, warning, error or critical, not a number`,
			"Windows level 2 is error",
			`enrichment::severity_overrides[1]::severity: unknown severity "9"`,
			"enrichment::severity_overrides[2]::code: YAML read the code as the number 400 (0x00000190), which is not in the catalog; for 0x00000400 write code: 0x00000400",
		}},
		{name: "catalog", wantErr: []string{
			`enrichment: severity_overrides[1]: event "NoSuchSiteEvent" is neither an event ID nor a catalog event name`,
		}},
		{name: "bad_catalog", wantErr: []string{
			`enrichment::catalog_files: testdata/bad_catalog.yaml:4: event 1001: unknown key "runbok_url" (did you mean "runbook_url"?)`,
		}},
		{name: "remote", windowsOnly: true, want: func(t *testing.T, c *Config) {
			if c.Remote.Server != "ndes01.contoso.example" || c.Remote.Password != configopaque.String("s3cret") || c.StartAt != StartAtEnd {
				t.Errorf("remote: %+v", c.Remote)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			if err != nil {
				t.Fatal(err)
			}
			cfg := createDefaultConfig().(*Config)
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			wantErr := tt.wantErr
			if tt.windowsOnly && runtime.GOOS != "windows" {
				wantErr = []string{"channels: Windows event log channels can be read only"}
			}
			if len(wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want one mentioning %q", wantErr)
				}
				for _, w := range wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want(t, cfg)
		})
	}
}

// The password never shows when a config is printed or logged.
func TestPasswordIsOpaque(t *testing.T) {
	c := createDefaultConfig().(*Config)
	c.Remote.Password = "s3cret"
	if s := dump(t, c); strings.Contains(s, "s3cret") || !strings.Contains(s, "[REDACTED]") {
		t.Fatalf("password visible in %s", s)
	}
}

func TestDefaultConfig(t *testing.T) {
	c := createDefaultConfig().(*Config)
	err := confmap.Validate(c)
	if runtime.GOOS == "windows" {
		if err != nil || len(c.Channels) != 3 {
			t.Fatalf("default config on Windows: %v, channels %q", err, c.Channels)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "include") {
		t.Fatalf("default config off Windows must ask for include, got %v", err)
	}
	c.Include = []string{"/tmp/*.xml"}
	if err := confmap.Validate(c); err != nil {
		t.Fatalf("default config with include: %v", err)
	}
}

func dump(t *testing.T, c *Config) string {
	t.Helper()
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
