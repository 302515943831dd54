package contentgen

import (
	"slices"
	"strings"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func TestQueryFields(t *testing.T) {
	tests := []struct {
		name, lang, q string
		want          []string
	}{
		{"kql or list", "kuery", `event.action: ("A" or "B") or intune.diagnostic.code: "0x00000405"`, []string{"event.action", "intune.diagnostic.code"}},
		{"kql range and not", "kuery", `not host.name: x and event.severity >= 4`, []string{"host.name", "event.severity"}},
		{"esql defined names", "esql", "FROM logs-x.* | WHERE event.code IN (\"1\") | EVAL s = CASE(event.code == \"1\", @timestamp, null) | STATS last = MAX(s), n = COUNT(*) BY host.name | WHERE last <= NOW() - 15 minutes", []string{"event.code", "event.code", "@timestamp", "host.name"}},
		{"esql backquoted", "esql", "FROM x | KEEP `my-field`", []string{"my-field"}},
		{"spl search values are not fields", "spl", `search sourcetype="a:b" action=failure signature IN ("x", "y") earliest=-15m | stats count BY dest | where count >= 10`, []string{"sourcetype", "action", "signature", "dest"}},
		{"spl eval and functions", "spl", `search x=1 | eval a=if(signature_id="2", _time, null()), b='log.level' | stats max(a) AS m count(eval(action="failure")) AS f BY dest | sort - m | table m f dest error.message`, []string{"x", "signature_id", "_time", "log.level", "action", "dest", "dest", "error.message"}},
		{"spl top options", "spl", `search action=failure | top limit=10 device.id | head 5`, []string{"action", "device.id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := QueryFields(tc.lang, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
	if _, err := QueryFields("sql", "x"); err == nil {
		t.Error("an unknown language was accepted")
	}
	if _, err := QueryFields("kuery", `a: "open`); err == nil || !strings.Contains(err.Error(), "unterminated") {
		t.Errorf("unterminated quote: %v", err)
	}
}

func TestEvaluators(t *testing.T) {
	doc := Doc{"event.action": {"RevokeFailure"}, "intune.matched": {"true"}, "dest": {"NDES01"}, "sourcetype": {"intune:connector:event"}}
	tests := []struct {
		name, lang, q string
		want          bool
	}{
		{"kql list hit", "kuery", `event.action: ("X" or "RevokeFailure")`, true},
		{"kql miss", "kuery", `event.action: "X"`, false},
		{"kql not", "kuery", `not event.action: "X" and intune.matched: true`, true},
		{"kql missing field", "kuery", `host.name: *`, false},
		{"kql exists", "kuery", `dest: *`, true},
		{"spl implicit and", "spl", `search sourcetype="intune:connector:event" dest=ndes01 earliest=-1h | stats count`, true},
		{"spl or", "spl", `search sourcetype="intune:connector:event" (event.action IN ("a", "b") OR dest="NDES01")`, true},
		{"spl not equal", "spl", `search dest!=NDES01`, false},
		{"spl in miss", "spl", `search event.action IN ("a", "b")`, false},
		{"esql where", "esql", "FROM x | WHERE event.action IN (\"RevokeFailure\") | STATS c = COUNT(*) BY dest | WHERE c > 1", true},
		{"esql only post-stats where", "esql", "FROM x | STATS c = COUNT(*) BY dest | WHERE c > 100", true},
		{"esql equal miss", "esql", "FROM x | WHERE event.action == \"X\"", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Cond
			var err error
			switch tc.lang {
			case "kuery":
				c, err = ParseKQL(tc.q)
			case "spl":
				c, err = ParseSPLSearch(tc.q)
			default:
				c, err = ParseESQLWhere(tc.q)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Match(doc); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{`event.action: (`, `(event.action: "a"`, `event.action`, `: x`} {
		if _, err := ParseKQL(bad); err == nil {
			t.Errorf("ParseKQL(%q) accepted", bad)
		}
	}
}

func TestParseConf(t *testing.T) {
	tests := []struct {
		name, in string
		stanzas  int
		errPart  string
	}{
		{"default stanza and continuation", "a = 1\n[s]\n# c\nk = v \\\n  more\n\n[t]\nx=\n", 3, ""},
		{"crlf", "[s]\r\nk = v\r\n", 1, ""},
		{"unclosed header", "[s\nk=v\n", 0, "closing ]"},
		{"garbage", "[s]\njust words\n", 0, "neither"},
		{"duplicate key", "[s]\nk=1\nk=2\n", 0, "set twice"},
		{"duplicate stanza", "[s]\n[s]\n", 0, "already started"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := ParseConf([]byte(tc.in))
			if tc.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errPart) {
					t.Fatalf("err %v, want %q", err, tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(st) != tc.stanzas {
				t.Fatalf("%d stanzas: %+v", len(st), st)
			}
		})
	}
	st, _ := ParseConf([]byte("[s]\nk = v \\\n  more\n"))
	if st[0].Values["k"] != "v \n  more" {
		t.Errorf("continued value %q", st[0].Values["k"])
	}
}

func FuzzQueryParsers(f *testing.F) {
	alerts, err := Alerts(mapping.MustDefault())
	if err != nil {
		f.Fatal(err)
	}
	for _, a := range alerts {
		f.Add(a.KQL)
		f.Add(a.ESQL)
		f.Add(a.SPL)
	}
	for _, p := range Panels() {
		f.Add(p.SPL)
	}
	f.Add("a: (\"x\" or")
	f.Add("`unterminated")
	f.Fuzz(func(t *testing.T, q string) {
		for _, lang := range []string{"kuery", "esql", "spl"} {
			fields, err := QueryFields(lang, q)
			if err != nil {
				continue
			}
			for _, fl := range fields {
				if fl == "" && !strings.Contains(q, `''`) && !strings.Contains(q, "``") && !strings.Contains(q, `""`) {
					t.Fatalf("%s: empty field name from %q", lang, q)
				}
			}
		}
		d := Doc{"a": {"x"}}
		if c, err := ParseKQL(q); err == nil {
			c.Match(d)
		}
		if c, err := ParseSPLSearch(q); err == nil {
			c.Match(d)
		}
		if c, err := ParseESQLWhere(q); err == nil {
			c.Match(d)
		}
	})
}

func FuzzParseConf(f *testing.F) {
	files, err := Files(mapping.MustDefault())
	if err != nil {
		f.Fatal(err)
	}
	for p, b := range files {
		if strings.HasSuffix(p, ".conf") || strings.HasSuffix(p, ".meta") {
			f.Add(b)
		}
	}
	f.Add([]byte("[a\n"))
	f.Add([]byte("k = v\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseConf(b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range st {
			if seen[s.Name] {
				t.Fatalf("stanza %q returned twice", s.Name)
			}
			seen[s.Name] = true
			if len(s.Keys) != len(s.Values) {
				t.Fatalf("stanza %q: %d keys, %d values", s.Name, len(s.Keys), len(s.Values))
			}
		}
	})
}
