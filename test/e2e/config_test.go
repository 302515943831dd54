//go:build linux

package e2e

import (
	"fmt"
	"strings"
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
