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
