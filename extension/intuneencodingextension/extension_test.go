package intuneencodingextension

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/goleak"

	"github.com/otelcol-intune/otelcol-intune/extension/intuneencodingextension/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		want    Config
		wantErr string
	}{
		{name: "", want: Config{Format: FormatECS}},
		{name: "hec", want: Config{Format: FormatHEC, Index: "intune", Sourcetype: "intune:connector:event"}},
		{name: "ecs_stream", want: Config{Format: FormatECS, Dataset: "intune_connector.events", Namespace: "prod"}},
		{name: "bad_format", wantErr: `format: "csv" is not valid`},
		{name: "mixed", wantErr: "dataset and namespace apply to format ecs only"},
		{name: "misspelt", wantErr: "fromat: unknown setting; did you mean format?\nsource_type: unknown setting; did you mean sourcetype?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
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
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || *cfg != tc.want {
				t.Fatalf("config %+v, %v; want %+v", *cfg, err, tc.want)
			}
		})
	}
}

func TestMarshalLogsMatchesProjections(t *testing.T) {
	cat := mapping.MustDefault()
	en, _ := mapping.NewEnricher(cat, mapping.Config{})
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "otelcol-intune")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, ev := range eventgen.Stream(cat, 5) {
		en.Enrich(&ev, lrs.AppendEmpty())
	}
	for _, cfg := range []*Config{{Format: FormatECS, Dataset: "intune_connector.events"}, {Format: FormatHEC, Index: "intune"}} {
		f := NewFactory()
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			t.Fatal(err)
		}
		out, err := ext.(plog.Marshaler).MarshalLogs(ld)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(out, []byte("\n"))
		if len(lines) != 5 {
			t.Fatalf("%s: %d lines, want 5", cfg.Format, len(lines))
		}
		for k, line := range lines {
			var want []byte
			if cfg.Format == FormatHEC {
				want = mapping.AppendHEC(nil, rl.Resource(), lrs.At(k), cfg.hecOptions())
			} else {
				want = mapping.AppendECS(nil, rl.Resource(), lrs.At(k), cfg.ecsOptions())
			}
			if !bytes.Equal(line, want) || !json.Valid(line) {
				t.Fatalf("%s line %d is not the projection:\n%s\n%s", cfg.Format, k, line, want)
			}
		}
		if err := ext.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
