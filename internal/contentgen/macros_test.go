package contentgen

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// splunkSearches returns every search the committed Splunk app runs, by
// where it is: saved searches, event types and every query of every view.
func splunkSearches(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range readConf(t, "default/savedsearches.conf") {
		out["saved search "+s.Name] = s.Values["search"]
	}
	for _, s := range readConf(t, "default/eventtypes.conf") {
		out["eventtype "+s.Name] = s.Values["search"]
	}
	views, err := filepath.Glob(filepath.Join(contentDir, "splunk", SplunkApp, "default", "data", "ui", "views", "*.xml"))
	if err != nil || len(views) == 0 {
		t.Fatalf("no dashboard views: %v", err)
	}
	for _, v := range views {
		f, err := os.Open(v)
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(f)
		n := 0
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", v, err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "query" {
				var q string
				if err := dec.DecodeElement(&q, &se); err != nil {
					t.Fatal(err)
				}
				n++
				out[filepath.Base(v)+" query "+itoa(uint32(n))] = q
			}
		}
		f.Close()
	}
	return out
}

// TestSplunkSearchesUseIndexMacro: every search the app ships reads the
// index through the macro, so a new installation finds the events the
// collector writes to its own index, and a site with another index changes
// one definition.
func TestSplunkSearchesUseIndexMacro(t *testing.T) {
	searches := splunkSearches(t)
	if len(searches) < 20 {
		t.Fatalf("found only %d searches in the app", len(searches))
	}
	hardIndex := regexp.MustCompile(`(?i)(^|[\s(])index\s*=`)
	for where, q := range searches {
		if !UsesIndexMacro(q) {
			t.Errorf("%s does not start with `%s`: %s", where, SplunkIndexMacro, q)
		}
		if hardIndex.MatchString(q) {
			t.Errorf("%s names an index itself instead of through the macro: %s", where, q)
		}
		if _, err := ExpandSPLMacros(q); err != nil {
			t.Errorf("%s: %v", where, err)
		}
	}

	// macros.conf defines the macro with the index the ready config
	// writes to.
	macros := readConf(t, "default/macros.conf")
	var def string
	for _, s := range macros {
		if s.Name == SplunkIndexMacro {
			def = s.Values["definition"]
		}
	}
	if def != "index="+DefaultSplunkIndex {
		t.Errorf("macros.conf defines %s as %q, want index=%s", SplunkIndexMacro, def, DefaultSplunkIndex)
	}
	cfg, err := os.ReadFile("../../config/splunk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+index:\s*\$\{env:SPLUNK_INDEX:-([^}]+)\}`).FindSubmatch(cfg)
	if m == nil || string(m[1]) != DefaultSplunkIndex {
		t.Errorf("config/splunk.yaml's default index is %q, the app's macro searches %q", m, DefaultSplunkIndex)
	}
}

func TestExpandSPLMacros(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{name: "none", in: `search sourcetype="x" a=1`, want: `search sourcetype="x" a=1`},
		{name: "index macro", in: "search `intune_connector_index` a=1 | stats count", want: "search (index=intune) a=1 | stats count"},
		{name: "unknown", in: "search `other_index` a=1", err: "`other_index` is not defined"},
		{name: "unterminated", in: "search `intune_connector_index a=1", err: "unterminated macro"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandSPLMacros(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestIndexMacroFilters: the expanded macro takes part in the search, so
// events in another index do not match.
func TestIndexMacroFilters(t *testing.T) {
	c, err := ParseSPLSearch(search("action=failure"))
	if err != nil {
		t.Fatal(err)
	}
	doc := Doc{"sourcetype": {Sourcetype}, "action": {"failure"}, "index": {DefaultSplunkIndex}}
	if !c.Match(doc) {
		t.Errorf("an event in %s does not match %s", DefaultSplunkIndex, search("action=failure"))
	}
	doc["index"] = []string{"main"}
	if c.Match(doc) {
		t.Error("an event in main matches the app's search")
	}
}
