package intuneelasticsearchexporter

import (
	"strings"
	"testing"
	"unicode/utf8"
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
			if len(tt.got) > maxReason+3 {
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
