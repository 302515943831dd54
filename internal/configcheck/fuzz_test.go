package configcheck

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// FuzzUnmarshal feeds arbitrary YAML to the checks and the decoder behind
// them: nothing panics, and whatever the checks let through decodes, so a
// user never meets the decoder's own message instead of ours.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		"endpoint: https://es:9200\ntimeout: 30s\nbootstrap: {enabled: false}",
		"timeout: 30\nbootstrap: false\ndead_letter: /x\napikey: x",
		"overrides: [{event: 1, code: 1024, level: ilm}, {code: zz}]",
		"sending_queue: {enabled: true, batch: {flush_timeout: 1s}, sizer: items}",
		"headers: [{name: a, value: b}]\nlabels: {a: [b]}\ninclude: [1, [2]]",
		"size: 1e30\ncount: -0.5\nratio: true\ntoken: 7",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil || m == nil {
			return
		}
		cfg := defaultTestConfig()
		if err := confmap.NewFromStringMap(m).Unmarshal(cfg); err != nil {
			t.Fatalf("the checks let through what the decoder refused:\n%s\n%v", doc, err)
		}
	})
}

// FuzzParseDuration: Go's syntax means what Go says, days add whole days,
// and every refusal quotes the value.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "1h30m", "90d", "1d12h", "30", "", "0", "-5s", "1.5d", "9999999d"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, days bool) {
		got, err := ParseDuration(s, days)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote %q", err, s)
			}
			return
		}
		if !strings.Contains(s, "d") {
			if want, goErr := time.ParseDuration(strings.TrimSpace(s)); goErr != nil || got != want {
				t.Fatalf("%q: got %v, Go says %v, %v", s, got, want, goErr)
			}
		} else if !days || got < 0 {
			t.Fatalf("%q (days %v) gave %v", s, days, got)
		}
	})
}
