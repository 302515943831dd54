package mapping

import (
	"strings"
	"testing"
)

func TestDefaultCatalogIsComplete(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatalf("embedded catalog: %v", err)
	}
	count := map[Generation]int{}
	for _, e := range cat.Events {
		count[e.Generation]++
	}
	if count[GenerationLegacy] != 19 || count[GenerationCurrent] != 61 {
		t.Errorf("events: %d legacy, %d current; want 19 and 61", count[GenerationLegacy], count[GenerationCurrent])
	}
	if len(cat.Codes) != 12 {
		t.Errorf("codes: %d, want 12", len(cat.Codes))
	}
	// The documented quirks resolve to the documented entries.
	for _, tc := range []struct {
		q    string
		want uint32
	}{
		{"ScrepRequestSuccess", 4000}, {"ScepRequestSuccess", 4000}, {"screprequestsuccess", 4000},
		{"2002", 2202}, {"2003", 2203}, {"2202", 2202}, {"3001", 3001}, {"PkcsCertIssue_Failure", 20102},
	} {
		e, _ := cat.Lookup(tc.q)
		if e == nil || e.ID != tc.want {
			t.Errorf("Lookup(%q) = %v, want event %d", tc.q, e, tc.want)
		}
	}
	for _, q := range []string{"0x0FFFFFFFF", "0x0FFFFFFF", "0x0fffffff", "Unknown_Error"} {
		if _, ce := cat.Lookup(q); ce == nil || ce.Code != "0x0FFFFFFF" {
			t.Errorf("Lookup(%q) = %v, want Unknown_Error", q, ce)
		}
	}
	if e, ce := cat.Lookup("nonsense"); e != nil || ce != nil {
		t.Errorf("Lookup(nonsense) found %v %v", e, ce)
	}
	for _, e := range cat.Events {
		if c := cat.CategoryOf(&e); c == nil {
			t.Errorf("event %d has no category", e.ID)
		}
	}
}

func TestCatalogValidation(t *testing.T) {
	base := `version: 1
sources:
  - {generation: legacy, channels: ["Legacy Log"]}
  - {generation: current, provider: P, provider_guid: "{BFD22B4F-4968-5F48-A37C-42AD34E3EEDB}", channels: ["P/Admin"]}
categories:
  - {slug: c, title: C, generation: current, id_from: 1000, id_to: 1999}
  - {slug: l, title: L, generation: legacy}
codes:
  - {code: "0x00000400", name: CA, message: m, remediation: r}
events:
`
	ok := `  - {id: 1000, name: A, generation: current, channel: P/Admin, outcome: success, severity: information, description: d}
`
	tests := []struct {
		name    string
		events  string
		wantErr string
	}{
		{"valid", ok, ""},
		{"duplicate id", ok + `  - {id: 1000, name: B, generation: current, channel: P/Admin, outcome: success, severity: information, description: d}
`, "event ID 1000 is used by both"},
		{"duplicate id through alias", ok + `  - {id: 1001, id_aliases: [1000], name: B, generation: current, channel: P/Admin, outcome: success, severity: information, description: d}
`, "event ID 1000 is used by both"},
		{"duplicate name through alias", ok + `  - {id: 1001, name: B, name_aliases: [a], generation: current, channel: P/Admin, outcome: success, severity: information, description: d}
`, `event name "a" is used by both`},
		{"dangling code", `  - {id: 20000, name: L1, generation: legacy, channel: Legacy Log, category: l, outcome: success, severity: information, codes: ["0x00000401"], description: d}
`, `related code "0x00000401" is not in the codes list`},
		{"failure without remediation", `  - {id: 1001, name: F, generation: current, channel: P/Admin, outcome: failure, severity: error, description: d}
`, "needs a remediation"},
		{"bad severity", `  - {id: 1001, name: F, generation: current, channel: P/Admin, outcome: success, severity: loud, description: d}
`, "unknown severity"},
		{"bad outcome", `  - {id: 1001, name: F, generation: current, channel: P/Admin, outcome: maybe, severity: error, description: d}
`, "outcome \"maybe\""},
		{"id outside ranges", `  - {id: 7000, name: F, generation: current, channel: P/Admin, outcome: success, severity: error, description: d}
`, "no category"},
		{"wrong channel", `  - {id: 1001, name: F, generation: current, channel: Legacy Log, outcome: success, severity: error, description: d}
`, "is not a current source channel"},
		{"unknown key", `  - {id: 1001, nam: F}
`, "field nam not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCatalog([]byte(base + tc.events))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
	if _, err := ParseCatalog([]byte(strings.Replace(base, `code: "0x00000400"`, `code: "0x400"`, 1) + ok)); err == nil ||
		!strings.Contains(err.Error(), "8 upper-case hex digits") {
		t.Errorf("short code in catalog: err = %v", err)
	}
}

func TestNormalizeCode(t *testing.T) {
	cat := MustDefault()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"0x00000400", "0x00000400", true},
		{"0x0FFFFFFFF", "0x0FFFFFFF", true}, // the documented nine-digit typo
		{"0x0fffffffF", "0x0FFFFFFF", true},
		{"0x0FFFFFFF", "0x0FFFFFFF", true},
		{"0x408", "0x00000408", true},
		{"0X408", "0x00000408", true},
		{"  0x0000040a ", "0x0000040A", true},
		{"00000411", "0x00000411", true},
		{"0x0", "0x00000000", true},
		{"0xFFFFFFFF", "0xFFFFFFFF", true},
		{"0x1FFFFFFFF", "0x1FFFFFFFF", false},
		{"0x", "0x", false},
		{"0xZZ", "0xZZ", false},
		{"1024", "1024", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := cat.NormalizeCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSeverityFromWindowsLevel(t *testing.T) {
	want := map[uint8]Severity{0: SeverityInformation, 1: SeverityCritical, 2: SeverityError, 3: SeverityWarning,
		4: SeverityInformation, 5: SeverityVerbose, 16: SeverityInformation}
	for level, s := range want {
		if got := SeverityFromWindowsLevel(level); got != s {
			t.Errorf("level %d: %v, want %v", level, got, s)
		}
		// The table documents the same fallback.
		if level <= 5 {
			found := false
			for _, lv := range s.Info().WindowsLevels {
				found = found || lv == level
			}
			if !found {
				t.Errorf("severity table row %s does not list Windows level %d", s, level)
			}
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{"warn": SeverityWarning, "Critical": SeverityCritical, "info": SeverityInformation} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSeverity("loud"); err == nil || !strings.Contains(err.Error(), "use one of") {
		t.Errorf("ParseSeverity(loud) err = %v", err)
	}
}
