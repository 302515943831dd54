package intuneelasticsearchexporter

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/schemacheck"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func puts(srv *esbulktest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Method == "PUT" {
			out = append(out, r.Path)
		}
	}
	return out
}

func TestBootstrapInstallsOnceAndIsIdempotent(t *testing.T) {
	srv := startServer(t, esbulktest.Options{})
	srv.RecordRequests()
	startExporter(t, testConfig(srv))
	want := []string{
		"/_ilm/policy/logs-intune_connector",
		"/_component_template/logs-intune_connector@settings",
		"/_component_template/logs-intune_connector@mappings",
		"/_index_template/logs-intune_connector",
	}
	if got := puts(srv); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("installed %v, want %v", got, want)
	}

	var tpl struct {
		IndexPatterns []string       `json:"index_patterns"`
		Priority      int            `json:"priority"`
		DataStream    map[string]any `json:"data_stream"`
		ComposedOf    []string       `json:"composed_of"`
	}
	if err := json.Unmarshal(srv.IndexTemplate("logs-intune_connector"), &tpl); err != nil {
		t.Fatal(err)
	}
	if tpl.IndexPatterns[0] != "logs-intune_connector*-*" || tpl.Priority != 200 || tpl.DataStream == nil || len(tpl.ComposedOf) != 2 {
		t.Errorf("index template %+v", tpl)
	}
	var mappings struct {
		Template struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(srv.ComponentTemplate("logs-intune_connector@mappings"), &mappings); err != nil {
		t.Fatal(err)
	}
	// The mappings are mapping.ESProperties, field for field.
	wantProps, _ := json.Marshal(mapping.ESProperties())
	gotProps, _ := json.Marshal(mappings.Template.Mappings.Properties)
	if string(gotProps) != string(wantProps) {
		t.Errorf("mappings differ from mapping.ESProperties:\n got %s\nwant %s", gotProps, wantProps)
	}
	// And what was installed, dynamic templates included, agrees with
	// ECS and Winlogbeat.
	var installed struct {
		Template struct {
			Mappings map[string]any `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(srv.ComponentTemplate("logs-intune_connector@mappings"), &installed); err != nil {
		t.Fatal(err)
	}
	if p := schemacheck.MustLoad().CheckTemplate(installed.Template.Mappings); len(p) > 0 {
		t.Errorf("the installed mappings disagree with the ECS and Winlogbeat definitions:\n  %s", strings.Join(p, "\n  "))
	}
	if installed.Template.Mappings["date_detection"] != false {
		t.Errorf("date detection is on: a string that looks like a date would become a date field")
	}
	var settings struct {
		Template struct {
			Settings map[string]any `json:"settings"`
		} `json:"template"`
	}
	_ = json.Unmarshal(srv.ComponentTemplate("logs-intune_connector@settings"), &settings)
	if settings.Template.Settings["index.lifecycle.name"] != "logs-intune_connector" {
		t.Errorf("settings %v", settings.Template.Settings)
	}
	var policy struct {
		Policy struct {
			Phases map[string]struct {
				Actions map[string]map[string]any `json:"actions"`
			} `json:"phases"`
		} `json:"policy"`
	}
	_ = json.Unmarshal(srv.Policy("logs-intune_connector"), &policy)
	if r := policy.Policy.Phases["hot"].Actions["rollover"]; r["max_age"] != "30d" || r["max_primary_shard_size"] != "50gb" {
		t.Errorf("policy %s", srv.Policy("logs-intune_connector"))
	}
	if _, ok := policy.Policy.Phases["delete"]; ok {
		t.Error("a delete phase by default")
	}

	// A restart with the same settings installs nothing.
	n := len(puts(srv))
	startExporter(t, testConfig(srv))
	if got := puts(srv)[n:]; len(got) != 0 {
		t.Errorf("restart installed %v again", got)
	}
	// A changed setting replaces only what it changes.
	cfg := testConfig(srv)
	cfg.Bootstrap.Priority = 300
	startExporter(t, cfg)
	if got := puts(srv)[n:]; strings.Join(got, " ") != "/_index_template/logs-intune_connector" {
		t.Errorf("priority change installed %v", got)
	}
}

func TestBootstrapVariants(t *testing.T) {
	pipelineFile := filepath.Join(t.TempDir(), "pipeline.json")
	if err := os.WriteFile(pipelineFile, []byte(`{"description":"tag","processors":[{"set":{"field":"labels.site","value":"lab"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(c *Config)
		check  func(t *testing.T, srv *esbulktest.Server)
	}{
		{
			name:   "disabled installs nothing",
			mutate: func(c *Config) { c.Bootstrap.Enabled = false },
			check: func(t *testing.T, srv *esbulktest.Server) {
				if got := puts(srv); len(got) != 0 {
					t.Errorf("installed %v", got)
				}
			},
		},
		{
			name: "data stream lifecycle with retention",
			mutate: func(c *Config) {
				c.Bootstrap.Lifecycle = LifecycleDataStream
				c.Bootstrap.DeleteAfter = Age(90 * 24 * time.Hour)
			},
			check: func(t *testing.T, srv *esbulktest.Server) {
				var tpl struct {
					Template struct {
						Lifecycle map[string]any `json:"lifecycle"`
					} `json:"template"`
				}
				_ = json.Unmarshal(srv.IndexTemplate("logs-intune_connector"), &tpl)
				if tpl.Template.Lifecycle["data_retention"] != "90d" || srv.Policy("logs-intune_connector") != nil {
					t.Errorf("index template %s", srv.IndexTemplate("logs-intune_connector"))
				}
			},
		},
		{
			name:   "ilm with a delete phase",
			mutate: func(c *Config) { c.Bootstrap.DeleteAfter = Age(36 * time.Hour) },
			check: func(t *testing.T, srv *esbulktest.Server) {
				if p := string(srv.Policy("logs-intune_connector")); !strings.Contains(p, `"delete":{"actions":{"delete":{}},"min_age":"36h"}`) {
					t.Errorf("policy %s", p)
				}
			},
		},
		{
			name:   "pipeline from a file, used by bulk",
			mutate: func(c *Config) { c.Pipeline = "intune-site"; c.Bootstrap.PipelineFile = pipelineFile },
			check: func(t *testing.T, srv *esbulktest.Server) {
				if !strings.Contains(string(srv.Pipeline("intune-site")), `"labels.site"`) {
					t.Errorf("pipeline %s", srv.Pipeline("intune-site"))
				}
				if docs := srv.Docs(defaultStream); len(docs) != 3 || docs[0].Pipeline != "intune-site" {
					t.Errorf("documents %+v", docs)
				}
			},
		},
		{
			name: "own patterns and name",
			mutate: func(c *Config) {
				c.Bootstrap.Name = "intune"
				c.Bootstrap.IndexPatterns = []string{"logs-intune_connector.events-*"}
			},
			check: func(t *testing.T, srv *esbulktest.Server) {
				if !strings.Contains(string(srv.IndexTemplate("intune")), `"index_patterns":["logs-intune_connector.events-*"]`) || srv.ComponentTemplate("intune@mappings") == nil {
					t.Errorf("index template %s", srv.IndexTemplate("intune"))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, esbulktest.Options{})
			srv.RecordRequests()
			cfg := testConfig(srv)
			tt.mutate(cfg)
			h := startExporter(t, cfg)
			if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 3)); err != nil {
				t.Fatal(err)
			}
			tt.check(t, srv)
		})
	}
}

func TestBootstrapRefusals(t *testing.T) {
	tests := []struct {
		name    string
		fault   esbulktest.RequestFault
		mutate  func(c *Config)
		wantErr string
	}{
		{"403 says how to turn bootstrap off", esbulktest.RequestFault{Path: "/_index_template", Method: "PUT", Status: 403}, nil, "set bootstrap::enabled: false"},
		{"403 on reading says so too", esbulktest.RequestFault{Path: "/_ilm", Status: 403}, nil, "grant the cluster privileges manage_index_templates and manage_ilm"},
		{"401", esbulktest.RequestFault{Path: "/_component_template", Status: 401}, nil, "check api_key, user and password, or bearer_token"},
		{"400 names the resource", esbulktest.RequestFault{Path: "/_index_template", Method: "PUT", Status: 400, Type: "illegal_argument_exception"}, nil, "refused to install index template logs-intune_connector"},
		{"missing pipeline file", esbulktest.RequestFault{}, func(c *Config) { c.Pipeline = "p"; c.Bootstrap.PipelineFile = "/nonexistent/p.json" }, "bootstrap::pipeline_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, esbulktest.Options{})
			if tt.fault.Status != 0 {
				srv.FailRequests(tt.fault)
			}
			cfg := testConfig(srv)
			if tt.mutate != nil {
				tt.mutate(cfg)
			}
			_, err := tryStart(t, cfg, testHost{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("start error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// An unreachable cluster does not stop the collector; the bootstrap runs
// before the first bulk request.
func TestBootstrapDeferredWhenUnreachable(t *testing.T) {
	srv := startServer(t, esbulktest.Options{})
	srv.FailRequests(esbulktest.RequestFault{Drop: true, Times: 2})
	h := startExporter(t, testConfig(srv))
	if srv.IndexTemplate("logs-intune_connector") != nil {
		t.Fatal("bootstrap ran against a dropped connection")
	}
	if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 5)); err != nil {
		t.Fatal(err)
	}
	if srv.IndexTemplate("logs-intune_connector") == nil || srv.Count() != 5 {
		t.Fatalf("template %v, %d documents", srv.IndexTemplate("logs-intune_connector") != nil, srv.Count())
	}
}

// At push time a refused bootstrap fails the batch as permanent, with the
// same message.
// A bootstrap refused for its privileges while sending is the
// configuration: the records wait until it is fixed, and nothing fails.
func TestBootstrapRefusedAtPush(t *testing.T) {
	srv := startServer(t, esbulktest.Options{})
	srv.FailRequests(esbulktest.RequestFault{Drop: true, Times: 2})
	h := startExporter(t, testConfig(srv))
	srv.FailRequests(esbulktest.RequestFault{Path: "/_ilm", Status: 403, Times: 3})
	if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 5)); err != nil {
		t.Fatalf("error %v", err)
	}
	if got := h.counter(t, "documents_failed"); got != 0 || srv.Count() != 5 {
		t.Errorf("documents_failed %d, stored %d", got, srv.Count())
	}
	if srv.IndexTemplate("logs-intune_connector") == nil {
		t.Error("bootstrap did not run once allowed")
	}
}

func TestInstalledHash(t *testing.T) {
	tests := []struct {
		name, body string
		policy     bool
		want       int64
	}{
		{"index template", `{"index_templates":[{"name":"t","index_template":{"version":42}}]}`, false, 42},
		{"component template", `{"component_templates":[{"name":"c","component_template":{"version":7,"template":{}}}]}`, false, 7},
		{"no version", `{"component_templates":[{"name":"c","component_template":{"template":{}}}]}`, false, -1},
		{"policy", `{"p":{"version":3,"policy":{"_meta":{"config_hash":99},"phases":{}}}}`, true, 99},
		{"policy edited without meta", `{"p":{"version":3,"policy":{"phases":{}}}}`, true, -1},
		{"pipeline", `{"pl":{"version":5,"processors":[]}}`, false, 5},
		{"garbage", `<html>`, false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := installedHash([]byte(tt.body), tt.policy); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestESDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{90 * 24 * time.Hour, "90d"},
		{36 * time.Hour, "36h"},
		{90 * time.Minute, "90m"},
		{90 * time.Second, "90s"},
	}
	for _, tt := range tests {
		if got := esDuration(tt.d); got != tt.want {
			t.Errorf("esDuration(%v) = %s, want %s", tt.d, got, tt.want)
		}
	}
}

// Elasticsearch Serverless has no ILM: with the default lifecycle the
// exporter finds out from the root endpoint and gives the data streams
// data stream lifecycle instead, and says so.
func TestBootstrapServerless(t *testing.T) {
	tests := []struct {
		name          string
		mutate        func(c *Config)
		wantRetention string
		wantLog       bool
	}{
		{"default ILM becomes data stream lifecycle", func(*Config) {}, "", true},
		{"retention from delete_after", func(c *Config) { c.Bootstrap.DeleteAfter = Age(90 * 24 * time.Hour) }, "90d", true},
		{"data stream lifecycle asked for", func(c *Config) { c.Bootstrap.Lifecycle = LifecycleDataStream }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, esbulktest.Options{Serverless: true})
			srv.RecordRequests()
			cfg := testConfig(srv)
			tt.mutate(cfg)
			h, logs := startObserved(t, cfg)
			if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 3)); err != nil {
				t.Fatal(err)
			}
			if srv.Count() != 3 {
				t.Fatalf("%d documents stored, want 3", srv.Count())
			}
			want := []string{
				"/_component_template/logs-intune_connector@settings",
				"/_component_template/logs-intune_connector@mappings",
				"/_index_template/logs-intune_connector",
			}
			if got := puts(srv); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("installed %v, want %v", got, want)
			}
			var tpl struct {
				Template struct {
					Lifecycle map[string]any `json:"lifecycle"`
				} `json:"template"`
			}
			_ = json.Unmarshal(srv.IndexTemplate("logs-intune_connector"), &tpl)
			lc := tpl.Template.Lifecycle
			if lc["enabled"] != true || (tt.wantRetention != "" && lc["data_retention"] != tt.wantRetention) ||
				(tt.wantRetention == "" && lc["data_retention"] != nil) {
				t.Errorf("index template lifecycle %v, want enabled with retention %q", lc, tt.wantRetention)
			}
			if strings.Contains(string(srv.ComponentTemplate("logs-intune_connector@settings")), "lifecycle") {
				t.Errorf("settings name an ILM policy: %s", srv.ComponentTemplate("logs-intune_connector@settings"))
			}
			said := logs.FilterMessageSnippet("bootstrap::lifecycle: data_stream_lifecycle").Len() > 0
			if said != tt.wantLog {
				t.Errorf("logged the switch: %v, want %v", said, tt.wantLog)
			}

			// A restart on the same cluster installs nothing again.
			n := len(puts(srv))
			startExporter(t, cfg)
			if got := puts(srv)[n:]; len(got) != 0 {
				t.Errorf("restart installed %v again", got)
			}
		})
	}
}

// Credentials that may not read the root endpoint leave the flavor
// unknown; the ILM API's answer then says which setting to change.
func TestBootstrapServerlessUnrecognised(t *testing.T) {
	srv := startServer(t, esbulktest.Options{Serverless: true})
	srv.FailRequests(esbulktest.RequestFault{Path: "/", Method: "GET", Status: 403, Times: 2})
	_, err := tryStart(t, testConfig(srv), testHost{})
	if err == nil || !strings.Contains(err.Error(), "set bootstrap::lifecycle: data_stream_lifecycle") ||
		!strings.Contains(err.Error(), "410") {
		t.Fatalf("start error %v, want one naming bootstrap::lifecycle", err)
	}
}

// On a stateful cluster the default stays ILM after the root endpoint was
// read.
func TestBootstrapStatefulKeepsILM(t *testing.T) {
	srv := startServer(t, esbulktest.Options{})
	h, logs := startObserved(t, testConfig(srv))
	if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if srv.Policy("logs-intune_connector") == nil || logs.FilterMessageSnippet("Serverless").Len() != 0 {
		t.Errorf("policy %s; logs %v", srv.Policy("logs-intune_connector"), logs.All())
	}
}

// startObserved is startExporter with the exporter's log kept.
func startObserved(t *testing.T, cfg *Config) (*harness, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	tel := componenttest.NewTelemetry()
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := exp.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		_ = tel.Shutdown(context.Background())
	})
	if err := exp.Start(context.Background(), testHost{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	return &harness{exp: exp, tel: tel}, logs
}

// On Serverless there is no manage_ilm privilege to grant: a refusal
// names only what exists there.
func TestBootstrapServerlessForbidden(t *testing.T) {
	srv := startServer(t, esbulktest.Options{Serverless: true})
	srv.FailRequests(esbulktest.RequestFault{Path: "/_component_template", Method: "PUT", Status: 403})
	_, err := tryStart(t, testConfig(srv), testHost{})
	if err == nil || !strings.Contains(err.Error(), "manage_index_templates") || strings.Contains(err.Error(), "manage_ilm") {
		t.Fatalf("start error %v, want one naming manage_index_templates and not manage_ilm", err)
	}
}
