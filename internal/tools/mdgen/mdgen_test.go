package mdgen

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const validYAML = `type: sample
status:
  class: exporter
  stability:
    alpha: [logs]
attributes:
  reason:
    description: Why.
    type: string
    enum: [a, b]
telemetry:
  metrics:
    sample_sent:
      enabled: true
      description: Things sent.
      unit: "{thing}"
      sum: {value_type: int, monotonic: true}
      attributes: [reason]
    sample_latency:
      enabled: true
      description: Time to send.
      unit: s
      histogram: {value_type: double, bucket_boundaries: [0.1, 1, 10]}
`

func TestParseValid(t *testing.T) {
	md, err := Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	v := newView(md)
	// In file order.
	if len(v.Metrics) != 2 || v.Metrics[0].Name != "otelcol_sample_sent" || v.Metrics[0].Field != "SampleSent" || v.Metrics[0].Instrument != "Int64Counter" {
		t.Errorf("metrics %+v", v.Metrics)
	}
	if h := v.Metrics[1]; h.Instrument != "Float64Histogram" || !slices.Equal(h.Bounds, []string{"0.1", "1", "10"}) {
		t.Errorf("histogram %+v", h)
	}
	if len(v.Signals) != 1 || v.Signals[0].Const != "LogsStability" || v.Signals[0].Level != "StabilityLevelAlpha" {
		t.Errorf("signals %+v", v.Signals)
	}
}

// A connector's stability is per pair of pipelines; its generated test
// consumes the first signal of the pair.
func TestParseConnector(t *testing.T) {
	md, err := Parse([]byte("type: sample\nstatus:\n  class: connector\n  stability:\n    alpha: [logs_to_metrics]\n"))
	if err != nil {
		t.Fatal(err)
	}
	md.Package = "sample"
	v := newView(md)
	want := signal{Name: "logs_to_metrics", In: "logs", Const: "LogsToMetricsStability", Level: "StabilityLevelAlpha", Title: "LogsToMetrics", Pdata: "plog"}
	if len(v.Signals) != 1 || v.Signals[0] != want {
		t.Errorf("signals %+v, want [%+v]", v.Signals, want)
	}
	if !v.Consumes() || !v.HasNext() || v.Settings != "connectortest" {
		t.Errorf("a connector consumes and has a next consumer, with connectortest settings: %v %v %q", v.Consumes(), v.HasNext(), v.Settings)
	}
	if _, err := Generate(md); err != nil {
		t.Error(err)
	}
}

// Every incomplete or inconsistent metadata.yaml is refused, with a message
// that names the field.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		edits     []string // pairs: replace the first of each in validYAML with the second
		wantError string
	}{
		{"misspelt key", []string{"description: Things sent.", "descripton: Things sent."}, "field descripton not found"},
		{"no description", []string{"description: Things sent.", ""}, "sample_sent: description is missing"},
		{"no unit", []string{`unit: "{thing}"`, ""}, "sample_sent: unit is missing"},
		{"not enabled", []string{"      enabled: true\n      description: Things sent.", "      description: Things sent."}, "sample_sent: enabled: true is required"},
		{"prefix written", []string{"sample_sent:", "otelcol_sample_sent:"}, `leave out the "otelcol_" prefix`},
		{"attribute not declared", []string{"attributes: [reason]", "attributes: [reason, cause]"}, `attribute "cause" is not declared`},
		{"attribute not used", []string{"attributes: [reason]", ""}, "attributes.reason: no metric lists it"},
		{"attribute without description", []string{"description: Why.", ""}, "attributes.reason: description is missing"},
		{"gauge", []string{"sum: {value_type: int, monotonic: true}", "gauge: {value_type: int}"}, "gauges are not supported"},
		{"up-down counter", []string{"monotonic: true", "monotonic: false"}, "only monotonic, synchronous sums"},
		{"two kinds", []string{"sum: {value_type: int, monotonic: true}", "sum: {value_type: int, monotonic: true}\n      histogram: {value_type: int, bucket_boundaries: [1]}"}, "exactly one of sum, gauge, histogram"},
		{"no buckets", []string{"bucket_boundaries: [0.1, 1, 10]", "bucket_boundaries: []"}, "bucket_boundaries is missing"},
		{"buckets out of order", []string{"[0.1, 1, 10]", "[0.1, 10, 1]"}, "strictly increasing"},
		{"bad value type", []string{"value_type: int", "value_type: long"}, `value_type "long" is not int or double`},
		{"table-breaking description", []string{"description: Time to send.", "description: Time | to send."}, "without |"},
		{"bad class", []string{"class: exporter", "class: connector2"}, `status.class: "connector2"`},
		{"bad signal", []string{"alpha: [logs]", "alpha: [logz]"}, `"logz" is not one of`},
		{"bad level", []string{"alpha: [logs]", "gamma: [logs]"}, `"gamma" is not one of`},
		{"bad type", []string{"type: sample", "type: 9sample"}, "is not a component type"},
		{"connector with one signal", []string{"class: exporter", "class: connector"}, `"logs" is not one of logs_to_logs`},
		{"pair on a processor", []string{"alpha: [logs]", "alpha: [logs_to_metrics]"}, `"logs_to_metrics" is not one of logs, metrics, traces`},
		{"extension consuming", []string{"class: exporter\n  stability:\n    alpha: [logs]", "class: extension\n  stability:\n    alpha: [extension]\ntests:\n  expect_consumer_error: true"}, "an extension consumes no data"},
		{"one key twice on a metric", []string{
			"    enum: [a, b]\n", "    enum: [a, b]\n  cause:\n    name_override: reason\n    description: Other.\n    type: string\n",
			"attributes: [reason]", "attributes: [reason, cause]",
		}, `two attributes share the key "reason"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validYAML
			for i := 0; i < len(tt.edits); i += 2 {
				if !strings.Contains(in, tt.edits[i]) {
					t.Fatalf("validYAML lacks %q", tt.edits[i])
				}
				in = strings.Replace(in, tt.edits[i], tt.edits[i+1], 1)
			}
			_, err := Parse([]byte(in))
			if err == nil || !strings.Contains(err.Error(), tt.wantError) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantError)
			}
		})
	}
}

// Unrecorded finds a declared metric nothing records, whether the code
// uses the generated field directly or through a short name.
func TestUnrecorded(t *testing.T) {
	tests := []struct {
		name string
		code string
		want []string
	}{
		{"direct and through a field", `package sample
type tel struct{ sent any }
func f(tb *B, t *tel) {
	t.sent = tb.SampleSent
	t.sent.Add(nil, 1)
	tb.SampleLatency.Record(nil, 1)
}`, nil},
		{"through a struct literal", `package sample
func f(tb *B) {
	t := tel{latency: tb.SampleLatency, sent: tb.SampleSent}
	t.latency.Record(nil, 1)
	t.sent.Add(nil, 1)
}`, nil},
		{"one never recorded", `package sample
func f(tb *B) { tb.SampleSent.Add(nil, 1) }`, []string{"otelcol_sample_latency"}},
		{"assigned but never recorded", `package sample
func f(tb *B, t *tel) {
	t.latency = tb.SampleLatency
	tb.SampleSent.Add(nil, 1)
}`, []string{"otelcol_sample_latency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			md, err := Parse([]byte(validYAML))
			if err != nil {
				t.Fatal(err)
			}
			md.Dir = dir
			write(t, filepath.Join(dir, "sample.go"), tt.code)
			// Tests and generated files do not count as recording.
			write(t, filepath.Join(dir, "sample_test.go"), "package sample\nfunc g(tb *B) { tb.SampleLatency.Record(nil, 1) }\n")
			write(t, filepath.Join(dir, "generated_x.go"), "package sample\nfunc h(tb *B) { tb.SampleLatency.Record(nil, 1) }\n")
			got, err := Unrecorded(md)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("unrecorded %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHandMadeInstruments(t *testing.T) {
	dir := t.TempDir()
	md := &Metadata{Dir: dir}
	write(t, filepath.Join(dir, "ok.go"), "package sample\nfunc f(tb *B) { tb.SampleSent.Add(nil, 1) }\n")
	write(t, filepath.Join(dir, "ok_test.go"), "package sample\nfunc g(m M) { m.Int64Counter(\"x\") }\n")
	if got, err := HandMadeInstruments(md); err != nil || len(got) != 0 {
		t.Fatalf("found %v, %v in code without hand-made instruments", got, err)
	}
	write(t, filepath.Join(dir, "bad.go"), "package sample\nfunc h(set S) { m := set.MeterProvider.Meter(\"s\"); m.Float64Histogram(\"y\") }\n")
	got, err := HandMadeInstruments(md)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.HasSuffix(got[0], ": Meter") || !strings.HasSuffix(got[1], ": Float64Histogram") {
		t.Errorf("found %v, want the Meter and Float64Histogram calls", got)
	}
}

func TestReadmeNeedsMarkers(t *testing.T) {
	md, err := Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Readme(md, []byte("# sample\n\n## Telemetry\n")); err == nil || !strings.Contains(err.Error(), "add the markers") {
		t.Fatalf("error %v", err)
	}
	out, err := Readme(md, []byte("<!-- BEGIN GENERATED: telemetry -->\nold\n<!-- END GENERATED: telemetry -->\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| `otelcol_sample_sent` | counter | `{thing}` | `reason` | Things sent. |", "| `reason` | `a`, `b` | Why. |"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("README lacks %q:\n%s", want, out)
		}
	}
}

func TestIdentifier(t *testing.T) {
	for in, want := range map[string]string{"intune_receiver_events_read": "IntuneReceiverEventsRead", "logs": "Logs", "a.b-c": "ABC"} {
		if got := identifier(in); got != want {
			t.Errorf("identifier(%q) = %q, want %q", in, got, want)
		}
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
