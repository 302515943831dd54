//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// esAPIKey is the key the bulk test server demands (-api-key) and the
// exporter sends, so the tests also cover authentication.
const esAPIKey = "ZTJlOnNlY3JldC1rZXk="

// pipeline describes a collector config: the intune_connector receiver on
// files feeding the intune_elasticsearch and/or intune_splunk_hec
// exporters.
type pipeline struct {
	include      string // glob
	pollInterval string
	// stateDir, when set, is a file_storage directory holding the
	// receiver's checkpoints and, with persistentQueues, both exporters'
	// sending queues.
	stateDir         string
	persistentQueues bool
	esURL            string
	esExtra          string // more YAML under the exporter, indented 4
	hecURL           string
	hecExtra         string
	deadLetterDir    string
	// metricsAddr, when set, serves the collector's own metrics for
	// Prometheus there.
	metricsAddr string
}

func (p pipeline) yaml() string {
	var b strings.Builder
	var exts, exporters []string
	if p.stateDir != "" {
		fmt.Fprintf(&b, "extensions:\n  file_storage:\n    directory: %s\n    create_directory: true\n", p.stateDir)
		exts = append(exts, "file_storage")
	}
	poll := p.pollInterval
	if poll == "" {
		poll = "500ms"
	}
	fmt.Fprintf(&b, "receivers:\n  intune_connector:\n    include: [%q]\n    start_at: beginning\n    poll_interval: %s\n", p.include, poll)
	if p.stateDir != "" {
		b.WriteString("    storage: file_storage\n")
	}
	b.WriteString("exporters:\n")
	queue := func() {
		b.WriteString("    sending_queue:\n      enabled: true\n")
		if p.persistentQueues {
			b.WriteString("      storage: file_storage\n")
		}
		// Short backoff, so a test does not wait half a minute for the
		// next attempt once a backend is back; never give up.
		b.WriteString("    retry_on_failure:\n      enabled: true\n      initial_interval: 500ms\n      max_interval: 2s\n      max_elapsed_time: 0\n")
	}
	if p.esURL != "" {
		fmt.Fprintf(&b, "  intune_elasticsearch:\n    endpoints: [%q]\n    api_key: %s\n", p.esURL, esAPIKey)
		queue()
		if p.deadLetterDir != "" {
			fmt.Fprintf(&b, "    dead_letter:\n      path: %s/es-dead-letter.jsonl\n", p.deadLetterDir)
		}
		b.WriteString(p.esExtra)
		exporters = append(exporters, "intune_elasticsearch")
	}
	if p.hecURL != "" {
		fmt.Fprintf(&b, "  intune_splunk_hec:\n    endpoint: %q\n    token: e2e-token\n    index: intune\n    ack:\n      enabled: true\n      poll_interval: 200ms\n", p.hecURL)
		queue()
		if p.deadLetterDir != "" {
			fmt.Fprintf(&b, "    dead_letter:\n      path: %s/hec-dead-letter.jsonl\n", p.deadLetterDir)
		}
		b.WriteString(p.hecExtra)
		exporters = append(exporters, "intune_splunk_hec")
	}
	b.WriteString("service:\n")
	if len(exts) > 0 {
		fmt.Fprintf(&b, "  extensions: [%s]\n", strings.Join(exts, ", "))
	}
	fmt.Fprintf(&b, "  pipelines:\n    logs:\n      receivers: [intune_connector]\n      exporters: [%s]\n", strings.Join(exporters, ", "))
	b.WriteString("  telemetry:\n    metrics:\n")
	if p.metricsAddr == "" {
		b.WriteString("      level: none\n")
	} else {
		host, port, _ := strings.Cut(p.metricsAddr, ":")
		fmt.Fprintf(&b, "      level: detailed\n      readers:\n        - pull:\n            exporter:\n              prometheus:\n                host: %s\n                port: %s\n", host, port)
	}
	return b.String()
}

// The mistakes users make in a config, as the built collector reports them
// at `validate` and at start: the component's key path, what is wrong and
// what to write. Each case failed (exit 0, or a message that did not say
// what to write) before the strict config checks.
func TestConfigMistakes(t *testing.T) {
	collector, _ := binaries(t)
	receiver := "receivers:\n  intune_connector:\n    include: [/nonexistent/*.evtx]\n"
	es := "  intune_elasticsearch:\n    endpoints: [http://localhost:9200]\n"
	hec := "  intune_splunk_hec:\n    endpoint: https://splunk.example:8088\n"
	config := func(receivers, exporters string, names ...string) string {
		return receivers + "exporters:\n" + exporters +
			"service:\n  telemetry: {metrics: {level: none}}\n  pipelines:\n    logs:\n      receivers: [intune_connector]\n      exporters: [" + strings.Join(names, ", ") + "]\n"
	}
	tests := []struct {
		name   string
		config string // YAML, or @path of a shipped config
		env    map[string]string
		unset  []string
		start  bool // run the collector instead of validate
		// want is what the output must hold; none means the config is valid.
		want []string
	}{
		{
			name:   "misspelt keys name the key meant",
			config: config(receiver, es+"    apikey: x\n    bootstrap: {enable: false}\n"+hec+"    hec_token: x\n", "intune_elasticsearch", "intune_splunk_hec"),
			want: []string{
				"exporters::intune_elasticsearch: apikey: unknown setting; did you mean api_key?",
				"bootstrap::enable: unknown setting; did you mean bootstrap::enabled?",
				"exporters::intune_splunk_hec: hec_token: unknown setting; did you mean token?",
			},
		},
		{
			name:   "durations without a unit",
			config: config(receiver, es+"    timeout: 30\n"+hec+"    token: t\n    ack: {enabled: true, poll_interval: 2}\n", "intune_elasticsearch", "intune_splunk_hec"),
			want: []string{
				"exporters::intune_elasticsearch: timeout: 30 has no unit, so it would mean 30 nanoseconds; write the unit, e.g. 30s",
				"exporters::intune_splunk_hec: ack::poll_interval: 2 has no unit",
			},
		},
		{
			name:   "blocks written as one value",
			config: config(receiver, es+"    bootstrap: false\n"+hec+"    token: t\n    ack: true\n    dead_letter: /var/tmp/dlq.jsonl\n", "intune_elasticsearch", "intune_splunk_hec"),
			want: []string{
				"bootstrap: is a block of settings, not false; write bootstrap: {enabled: false}",
				"ack: is a block of settings, not true; write ack: {enabled: true}",
				"dead_letter: is a block of settings, not a single value; write dead_letter: {path: /var/tmp/dlq.jsonl}",
			},
		},
		{
			name:   "severity numbers are refused",
			config: config(receiver+"    enrichment:\n      severity_overrides:\n        - {event: 20102, severity: 2}\n", es, "intune_elasticsearch"),
			want:   []string{`receivers::intune_connector: enrichment::severity_overrides[0]::severity: unknown severity "2"`, "Windows level 2 is error"},
		},
		{
			name:   "unquoted event IDs and codes are accepted",
			config: config(receiver+"    enrichment:\n      severity_overrides:\n        - {event: 20102, code: 0x00000400, severity: critical}\n", es+"    bootstrap: {delete_after: 90d, rollover_max_age: 30d}\n", "intune_elasticsearch"),
		},
		{
			name:   "the shipped Elasticsearch config with ES_API_KEY unset",
			config: "@config/elasticsearch.yaml",
			env:    map[string]string{"ES_ENDPOINT": "https://es.example:9200"},
			unset:  []string{"ES_API_KEY"},
			want:   []string{"exporters::intune_elasticsearch: api_key: the value is empty; if it comes from an environment variable (${env:NAME}), that variable is unset or empty"},
		},
		{
			name:   "the shipped Elasticsearch config with ES_ENDPOINT unset",
			config: "@config/elasticsearch.yaml",
			env:    map[string]string{"ES_API_KEY": "placeholder"},
			unset:  []string{"ES_ENDPOINT"},
			want:   []string{"exporters::intune_elasticsearch: endpoints[0]: the value is empty; if it comes from an environment variable (${env:ES_ENDPOINT}), that variable is unset"},
		},
		{
			name:   "at start, too",
			config: config(receiver, es+"    bootstrap: {enable: false}\n", "intune_elasticsearch"),
			start:  true,
			want:   []string{"invalid configuration: exporters::intune_elasticsearch: bootstrap::enable: unknown setting; did you mean bootstrap::enabled?"},
		},
	}
	root := moduleRoot(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(root, strings.TrimPrefix(tt.config, "@"))
			if !strings.HasPrefix(tt.config, "@") {
				file = filepath.Join(t.TempDir(), "config.yaml")
				writeFile(t, file, tt.config)
			}
			args := []string{"validate", "--config", file}
			if tt.start {
				args = args[1:]
			}
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, collector, args...)
			cmd.Dir = t.TempDir()
			cmd.Env = []string{"INTUNE_STATE_DIR=" + t.TempDir()}
			for _, kv := range os.Environ() {
				name, _, _ := strings.Cut(kv, "=")
				if !strings.HasPrefix(name, "ES_") && !strings.HasPrefix(name, "SPLUNK_") && name != "INTUNE_STATE_DIR" {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			for k, v := range tt.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("the collector did not exit within a minute:\n%s", out)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused a valid config: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("exit 0; want a refusal:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
