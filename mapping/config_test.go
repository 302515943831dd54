package mapping

import (
	"strings"
	"testing"
)

// YAML reads an unquoted code as an integer; the override must still name
// the catalog's code, and hex digits written without 0x must not become
// another code silently.
func TestCodeRefTextForNumber(t *testing.T) {
	tests := []struct {
		name    string
		n       int64
		want    string
		wantErr string
	}{
		{name: "0x00000400 unquoted", n: 1024, want: "0x00000400"},
		{name: "0x00000411 unquoted", n: 0x411, want: "0x00000411"},
		{name: "zero", n: 0, want: "0x00000000"},
		{name: "a code the catalog does not know", n: 0x80070005, want: "0x80070005"},
		{name: "hex digits read as decimal", n: 400, wantErr: "YAML read the code as the number 400 (0x00000190), which is not in the catalog; for 0x00000400 write code: 0x00000400"},
		{name: "hex digits read as octal", n: 0o400, wantErr: "for 0x00000400 write code: 0x00000400"},
		{name: "negative", n: -1, wantErr: "-1 is not a diagnostic code"},
		{name: "too large", n: 1 << 33, wantErr: "is not a diagnostic code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CodeRef("").TextForNumber(tt.n)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// Severity takes names only: the number scales disagree (Windows level 2
// is error; ECS event.severity and Splunk severity_id 4 are error).
func TestParseSeverityRefusesNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2", `unknown severity "2": severity takes a name, one of verbose, information, warning, error or critical, not a number`},
		{"2", "Windows level 2 is error"},
		{"1", "Windows level 1 is critical"},
		{"5", "Windows level 5 is verbose"},
		{"9", `unknown severity "9"`},
		{"-1", "not a number"},
	}
	for _, tt := range tests {
		if _, err := ParseSeverity(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSeverity(%q): %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := ParseSeverity("9"); err != nil && strings.Contains(err.Error(), "Windows level") {
		t.Errorf("9 is no Windows level, yet: %v", err)
	}
}
