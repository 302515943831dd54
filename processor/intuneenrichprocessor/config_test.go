package intuneenrichprocessor

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/processor/intuneenrichprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		want    *Config
		wantErr string
		more    []string
	}{
		{name: "", want: &Config{NonConnector: NonConnectorPass}},
		{name: "drop", want: &Config{NonConnector: NonConnectorDrop}},
		{name: "overrides", want: &Config{NonConnector: NonConnectorPass, Enrichment: mapping.Config{
			IncludeOriginal: true,
			SeverityOverrides: []mapping.SeverityOverride{
				{Event: "PkcsCertIssue_Failure", Severity: mapping.SeverityCritical},
				{Code: "0x00000411", Severity: mapping.SeverityInformation},
			},
		}}},
		{name: "bad_action", wantErr: `non_connector: "discard" is not valid, use pass or drop`},
		{name: "bad_override", wantErr: `enrichment: severity_overrides[0]: event "NoSuchEvent" is neither an event ID nor a catalog event name`},
		{name: "unquoted_override", want: &Config{NonConnector: NonConnectorPass, Enrichment: mapping.Config{
			SeverityOverrides: []mapping.SeverityOverride{{Event: "20102", Code: "0x00000400", Severity: mapping.SeverityCritical}},
		}}},
		{name: "mistakes", wantErr: "non_conector: unknown setting; did you mean non_connector?", more: []string{
			"enrichment::include_orginal: unknown setting; did you mean enrichment::include_original?",
			`enrichment::severity_overrides[0]::severity: unknown severity "2": severity takes a name`,
		}},
		{name: "catalog", want: &Config{NonConnector: NonConnectorPass, Enrichment: mapping.Config{
			CatalogFiles:      []string{"../../config/catalog/example.yaml"},
			SeverityOverrides: []mapping.SeverityOverride{{Event: "ExampleSitePkcsEvent", Severity: mapping.SeverityError}},
		}}},
		{name: "bad_catalog", wantErr: `enrichment::catalog_files: testdata/bad_catalog.yaml:4: event 1001: unknown key "runbok_url" (did you mean "runbook_url"?)`, more: []string{
			"enrichment::catalog_files[1]: testdata/missing.yaml: no such file",
		}},
		{name: "shapes", wantErr: "enrichment: is a block of settings (key: value lines under it), not a list; it takes catalog_files, include_original or severity_overrides"},
	}
	for _, tc := range tests {
		t.Run("intune_enrich/"+tc.name, func(t *testing.T) {
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
				for _, w := range append([]string{tc.wantErr}, tc.more...) {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Fatalf("error %v, want it to contain %q", err, w)
					}
				}
				if n := strings.Count(err.Error(), "NoSuchEvent"); n > 1 {
					t.Errorf("the same problem is reported %d times: %v", n, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := *cfg, *tc.want; !equalConfig(got, want) {
				t.Errorf("config %+v, want %+v", got, want)
			}
		})
	}
}

func equalConfig(a, b Config) bool {
	if a.NonConnector != b.NonConnector || a.Enrichment.IncludeOriginal != b.Enrichment.IncludeOriginal ||
		len(a.Enrichment.SeverityOverrides) != len(b.Enrichment.SeverityOverrides) ||
		!slices.Equal(a.Enrichment.CatalogFiles, b.Enrichment.CatalogFiles) {
		return false
	}
	for i := range a.Enrichment.SeverityOverrides {
		if a.Enrichment.SeverityOverrides[i] != b.Enrichment.SeverityOverrides[i] {
			return false
		}
	}
	return true
}
