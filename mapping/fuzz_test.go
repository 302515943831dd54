package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func FuzzFlattenJSONObject(f *testing.F) {
	for _, s := range []string{
		`{"Metric":{"Dimensions":{"DiagnosticCode":"0x00000400","DiagnosticText":"CA \"down\"\n"},"Name":"PkcsCertIssue_Failure","Value":0}}`,
		`{"metric":{"dimensions":{"a":{"b":["x",{"y":1}]},"n":null,"t":true},"name":"\u00e9\ud83d\ude00","value":-1.5e3}}`,
		`{}`, `{"a":`, `{"a":"b"`, `[1]`, `{"a":tru}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := flattenJSONObject(s)
		t0 := strings.TrimSpace(s)
		if !ok && json.Valid([]byte(s)) && strings.HasPrefix(t0, "{") && strings.Count(s, "{")+strings.Count(s, "[") < maxMetricDepth {
			t.Fatalf("valid JSON object rejected: %q", s)
		}
		if ok {
			for _, kv := range out {
				if kv.Name == "" && !strings.Contains(s, `""`) {
					t.Fatalf("empty key from %q", s)
				}
			}
		}
		// The whole extraction path must never panic on any data text.
		ev := wineventlog.Event{EventID: 20102, Channel: "Microsoft Intune Connector", EventData: []wineventlog.Data{{Value: s}}}
		_ = ExtractDetails(&ev, nil)
	})
}

func TestParseMetric(t *testing.T) {
	m := parseMetric(`{"METRIC":{"Dimensions":{"Z":"1","Nested":{"Key":"v"},"A":"x"},"Name":"N","Value":7}}`)
	if m == nil || m.Name != "N" || m.Value != "7" {
		t.Fatalf("metric = %+v", m)
	}
	want := []wineventlog.Data{{Name: "A", Value: "x"}, {Name: "Nested.Key", Value: "v"}, {Name: "Z", Value: "1"}}
	if len(m.Dimensions) != len(want) {
		t.Fatalf("dimensions = %v", m.Dimensions)
	}
	for i := range want {
		if m.Dimensions[i] != want[i] {
			t.Errorf("dimension %d = %v, want %v", i, m.Dimensions[i], want[i])
		}
	}
	for _, bad := range []string{`{"Metric":`, `not json metric`, `{"Other":1}`, `{"Metric":{"Name":"x"}} trailing`} {
		if m := parseMetric(bad); m != nil {
			t.Errorf("parseMetric(%q) = %+v, want nil", bad, m)
		}
	}
	if c := codeInText("boom DIAGNOSTICEXCEPTION=0x402 and more"); c != "0x402" {
		t.Errorf("codeInText = %q", c)
	}
	if c := codeInText("DiagnosticException: none here"); c != "" {
		t.Errorf("codeInText = %q", c)
	}
}

// FuzzAppendJSONString checks the word-at-a-time escaper against
// encoding/json's reading of what it wrote.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text longer than eight", "q\"uote\\back\x01\x1f", "caf\xc3\xa9 \xff\xfe bad", "\u2028\u2029", strings.Repeat("a", 17) + "\"" + strings.Repeat("b", 9)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", out, s, err)
		}
		// Each byte of an invalid sequence becomes one U+FFFD.
		var want strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r)
			i += n
		}
		if got != want.String() {
			t.Fatalf("round trip of %q gave %q, want %q", s, got, want.String())
		}
	})
}

// FuzzLayeredCatalog: any file a user writes is either refused with
// problems that name the file, or gives a catalog that passes the checks
// of the embedded one; it never changes the embedded catalog.
func FuzzLayeredCatalog(f *testing.F) {
	for _, s := range []string{
		"version: 1\nevents:\n  - {id: 1001, remediation: x, runbook_url: \"https://e.example/r\", labels: {team: pki}}\n",
		"version: 1\nevents:\n  - {id: 1999, name: N, generation: current, channel: Microsoft-Intune-CertificateConnectors/Operational, outcome: failure, severity: error, description: d, remediation: r}\n",
		"version: 1\ncodes:\n  - {code: 0x00000412, name: N, message: m}\n  - {code: \"0x400\", aliases: [x]}\n",
		"version: 1\ncategories:\n  - {slug: s, title: S, generation: legacy}\nevents:\n  - {id: 20900, name: L, generation: legacy, channel: Microsoft Intune Connector, category: s, outcome: success, severity: information, description: d}\n",
		"version: 1\nevents: [{name: PkcsRequestFailure, name_aliases: [a, b], id_aliases: [7]}]\n",
		"version: 1\nevents:\n  - &a {id: 1001}\n  - *a\n", "", "{", "version: [1]", "- x", "version: 1\nevents: {}\n",
	} {
		f.Add(s)
	}
	base := MustDefault()
	before := len(base.Events)
	f.Fuzz(func(t *testing.T, s string) {
		cat, err := base.Layered(CatalogLayer{Name: "f.yaml", Data: []byte(s)})
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml") {
					t.Fatalf("problem without the file name: %q", line)
				}
			}
		} else if err := cat.clone().index(); err != nil {
			t.Fatalf("accepted a catalog that does not pass the checks: %v", err)
		}
		if len(base.Events) != before || base.Event(1001).RunbookURL != "" || len(base.Event(1001).Labels) != 0 {
			t.Fatal("layering changed the embedded catalog")
		}
	})
}
