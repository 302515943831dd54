package intunemetricsconnector

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-intune/otelcol-intune/connector/intunemetricsconnector/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		want    *Config
		wantErr []string
	}{
		{name: "", want: &Config{Interval: 15 * time.Second, MaxSeries: 10_000}},
		{name: "custom", want: &Config{Interval: time.Minute, MaxSeries: 500, ExpireAfter: 168 * time.Hour}},
		{name: "bad_interval", wantErr: []string{"interval: 15ms is too short; use 1s or more"}},
		{name: "bad_max_series", wantErr: []string{"max_series: 0 must be a positive number"}},
		{name: "negative_expiry", wantErr: []string{`expire_after: "-1h" is negative; write a positive number with a unit`}},
		{name: "expiry_before_interval", wantErr: []string{"expire_after: 30s is shorter than interval (1m0s)"}},
		{name: "several", wantErr: []string{"interval: 0s is too short", "max_series: -3 must be"}},
		{name: "unknown_key", wantErr: []string{"max_serie", "max_series"}},
		{name: "no_unit", wantErr: []string{"interval: 30 has no unit", "30s"}},
		{name: "list_for_number", wantErr: []string{"max_series"}},
	}
	for _, tc := range tests {
		t.Run("intune_metrics/"+tc.name, func(t *testing.T) {
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
				err = confmap.Validate(cfg)
			}
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want one containing %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg.problems = nil
			if *cfg != *tc.want {
				t.Errorf("config %+v, want %+v", *cfg, *tc.want)
			}
		})
	}
}

// Validate must not change what it checks.
func TestValidateDoesNotMutate(t *testing.T) {
	cfg := &Config{Interval: time.Millisecond, MaxSeries: -1, ExpireAfter: -time.Second}
	before := *cfg
	if err := cfg.Validate(); err == nil {
		t.Fatal("want an error")
	}
	if *cfg != before {
		t.Errorf("Validate changed the config: %+v, was %+v", *cfg, before)
	}
}
