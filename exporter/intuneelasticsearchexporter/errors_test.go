package intuneelasticsearchexporter

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
)

// Server texts reach logs, errors and dead-letter entries, so their length
// is bounded whatever the peer sends.
func TestErrorTextsAreBounded(t *testing.T) {
	long := strings.Repeat("é", 4000)
	tests := []struct {
		name string
		got  string
		want string // prefix
	}{
		{"reason_object", errorReason([]byte(`{"error":{"type":"x","reason":"` + long + `"}}`)), "x: é"},
		{"reason_string", errorReason([]byte(`{"error":"` + long + `"}`)), "éé"},
		{"reason_html", errorReason([]byte("<html>" + long + "</html>")), "<html>é"},
		{"reason_empty", errorReason(nil), "no details"},
		{"item", itemError{Type: "mapper_parsing_exception", Reason: long, CausedBy: struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}{"illegal_argument_exception", long}}.String(), "mapper_parsing_exception: é"},
		{"item_short", itemError{Type: "t", Reason: "r"}.String(), "t: r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.got) > delivery.MaxText+3 {
				t.Errorf("%d bytes", len(tt.got))
			}
			if !utf8.ValidString(tt.got) {
				t.Errorf("invalid UTF-8: %q", tt.got[len(tt.got)-8:])
			}
			if !strings.HasPrefix(tt.got, tt.want) {
				t.Errorf("got %.40q, want prefix %q", tt.got, tt.want)
			}
		})
	}
}

func TestClassifyBulk(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		n       int
		wantErr bool
		want    []delivery.Kind // nil: every document went in
	}{
		{"no errors", `{"errors":false,"items":[{"create":{"status":201}}]}`, 1, false, nil},
		{"mixed", `{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},{"create":{"status":400,"error":{"type":"document_parsing_exception","reason":"bad"}}},{"create":{"status":503,"error":{"type":"unavailable_shards_exception","reason":"x"}}},{"create":{"status":403,"error":{"type":"security_exception","reason":"unauthorized"}}},{"create":{"status":400,"error":{"type":"x","reason":"y","caused_by":{"type":"es_rejected_execution_exception","reason":"z"}}}}]}`, 7, false,
			[]delivery.Kind{delivery.Delivered, delivery.Duplicate, delivery.Retry, delivery.DeadLetter, delivery.Retry, delivery.Auth, delivery.Retry}},
		{"count mismatch", `{"errors":true,"items":[{"create":{"status":201}}]}`, 2, true, nil},
		{"not json", `<html>`, 1, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, err := classifyBulk([]byte(tt.body), tt.n)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if len(outs) != len(tt.want) {
				t.Fatalf("%d outcomes, want %d", len(outs), len(tt.want))
			}
			for i, o := range outs {
				if o.Kind != tt.want[i] {
					t.Errorf("item %d: %v, want %v", i, o.Kind, tt.want[i])
				}
				if o.Kind != delivery.Delivered && o.reason == "" {
					t.Errorf("item %d: no reason", i)
				}
			}
		})
	}
}

// FuzzClassifyBulk: whatever the server answers, the exporter either
// resends the whole request (an error) or has exactly one outcome per
// document, with a bounded, readable reason for each refusal.
func FuzzClassifyBulk(f *testing.F) {
	f.Add([]byte(`{"errors":false,"items":[{"create":{"status":201}}]}`), 1)
	f.Add([]byte(`{"errors":true,"items":[{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"r"}}},{"index":{"status":201}}]}`), 2)
	f.Add([]byte(`{"errors":true,"items":[{"create":{"status":400,"error":{"type":"t","reason":"`+strings.Repeat("\xff", 3000)+`"}}}]}`), 1)
	f.Add([]byte(`{"errors":true,"items":[{}]}`), 1)
	f.Add([]byte(`{"errors":true,"items":null}`), 0)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		if n < 0 || n > 1<<12 {
			return
		}
		outs, err := classifyBulk(body, n)
		if err != nil {
			if outs != nil {
				t.Fatal("outcomes with an error")
			}
			return
		}
		if outs != nil && len(outs) != n {
			t.Fatalf("%d outcomes for %d documents", len(outs), n)
		}
		for _, o := range outs {
			if o.Kind > delivery.DeadLetter || o.Kind == delivery.Throttle || o.Kind == delivery.TooLarge || o.Kind == delivery.Permanent {
				t.Fatalf("item outcome %v", o.Kind)
			}
			if len(o.reason) > delivery.MaxText+3 || !utf8.ValidString(o.reason) {
				t.Fatalf("reason of %d bytes, valid %v", len(o.reason), utf8.ValidString(o.reason))
			}
		}
	})
}
