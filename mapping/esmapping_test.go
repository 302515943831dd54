package mapping

import (
	"bufio"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestESMappingsCoverContract(t *testing.T) {
	byPath := map[string]ESMapping{}
	for _, m := range ESMappings() {
		if _, dup := byPath[m.Path]; dup {
			t.Errorf("%s mapped twice", m.Path)
		}
		byPath[m.Path] = m
	}
	// The types each attribute type may be mapped as.
	allowed := map[FieldType][]string{
		TypeString:  {ESKeyword, ESText, ESMatchOnlyText, ESWildcard},
		TypeStrings: {ESKeyword},
		TypeInt:     {ESLong},
		TypeBool:    {ESBoolean},
		TypeMap:     {ESFlattened, ESObject},
	}
	for _, f := range Fields {
		m, ok := byPath[f.Name]
		if !ok {
			t.Errorf("contract field %s has no mapping", f.Name)
			continue
		}
		if !slices.Contains(allowed[f.Type], m.Type) {
			t.Errorf("%s (%s) mapped as %s", f.Name, f.Type, m.Type)
		}
		if m.Type == ESObject && !m.KeywordLeaves {
			t.Errorf("%s is an object with nothing to map its keys", f.Name)
		}
	}
	for _, list := range [][]string{esProse, esKeywordObjects, slices.Collect(maps.Keys(esECSText))} {
		for _, p := range list {
			if !isContractField(p) {
				t.Errorf("%s has a mapping rule but is not in the contract", p)
			}
		}
	}
}

func isContractField(name string) bool {
	for _, f := range Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func TestESFieldType(t *testing.T) {
	tests := []struct {
		name, path, typ string
		ok              bool
	}{
		{"timestamp", "@timestamp", ESDate, true},
		{"id is keyword", "event.id", ESKeyword, true},
		{"code is keyword", "event.code", ESKeyword, true},
		{"diagnostic code is keyword", "intune.diagnostic.code", ESKeyword, true},
		{"severity is long", "event.severity", ESLong, true},
		{"windows level is a keyword", "winlog.level", ESKeyword, true},
		{"matched is boolean", "intune.matched", ESBoolean, true},
		{"message as ECS maps it", "message", ESMatchOnlyText, true},
		{"no keyword below the message", "message.keyword", "", false},
		{"description is text", "intune.description", ESText, true},
		{"description keyword", "intune.description.keyword", ESKeyword, true},
		{"error message as ECS maps it", "error.message", ESMatchOnlyText, true},
		{"no keyword below the error message", "error.message.keyword", "", false},
		{"stack trace as ECS maps it", "error.stack_trace", ESWildcard, true},
		{"stack trace words", "error.stack_trace.text", ESMatchOnlyText, true},
		{"no keyword below a keyword", "event.code.keyword", "", false},
		{"event data is an object, not a field", "winlog.event_data", "", false},
		{"key below event data", "winlog.event_data.CertificateAuthority", ESKeyword, true},
		{"dotted key below user data", "winlog.user_data.Foo.Bar", ESKeyword, true},
		{"key below details", "intune.details.DiagnosticCode", ESFlattened, true},
		{"dataset is constant", "data_stream.dataset", ESConstantKeyword, true},
		{"an object is not a field", "winlog", "", false},
		{"unknown", "intune.nothing", "", false},
		{"prefix of a flattened name", "winlog.event_dataX", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, ok := ESFieldType(tt.path)
			if typ != tt.typ || ok != tt.ok {
				t.Errorf("ESFieldType(%q) = %q, %v; want %q, %v", tt.path, typ, ok, tt.typ, tt.ok)
			}
		})
	}
}

func TestESPropertiesShape(t *testing.T) {
	props := ESProperties()
	get := func(path string) map[string]any {
		t.Helper()
		cur := props
		parts := strings.Split(path, ".")
		for i, p := range parts {
			v, ok := cur[p].(map[string]any)
			if !ok {
				t.Fatalf("%s: no %s", path, p)
			}
			if i == len(parts)-1 {
				return v
			}
			cur, ok = v["properties"].(map[string]any)
			if !ok {
				t.Fatalf("%s: %s is not an object", path, p)
			}
		}
		return nil
	}
	tests := []struct {
		name, path, key string
		want            any
	}{
		{"severity", "event.severity", "type", ESLong},
		{"pid", "winlog.process.pid", "type", ESLong},
		{"thread below pid's parent", "winlog.process.thread.id", "type", ESLong},
		{"original kept not indexed", "event.original", "index", false},
		{"original without a length limit", "event.original", "ignore_above", nil},
		{"timestamp never ignored", "@timestamp", "ignore_malformed", false},
		{"keyword limit", "host.name", "ignore_above", esIgnoreAbove},
		{"event data is an object", "winlog.event_data", "type", ESObject},
		{"event data keys with dots stay leaves", "winlog.event_data", "subobjects", false},
		{"details stay flattened", "intune.details", "type", ESFlattened},
		{"stack trace", "error.stack_trace", "type", ESWildcard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.path)[tt.key]; got != tt.want {
				t.Errorf("%s.%s = %v, want %v", tt.path, tt.key, got, tt.want)
			}
		})
	}
	sub := get("intune.remediation")["fields"].(map[string]any)["keyword"].(map[string]any)
	if sub["type"] != ESKeyword {
		t.Errorf("remediation keyword sub-field: %v", sub)
	}
	text := get("error.stack_trace")["fields"].(map[string]any)["text"].(map[string]any)
	if len(text) != 1 || text["type"] != ESMatchOnlyText {
		t.Errorf("stack trace text sub-field: %v", text)
	}
	// Elasticsearch must be able to read it: plain JSON, no Go-only values.
	if _, err := json.Marshal(props); err != nil {
		t.Fatal(err)
	}
}

// No mapped path may be both a field and the parent of another field: that
// is a template Elasticsearch refuses.
func TestESMappingsNoLeafIsAParent(t *testing.T) {
	ms := ESMappings()
	for _, a := range ms {
		for _, b := range ms {
			if strings.HasPrefix(b.Path, a.Path+".") {
				t.Errorf("%s is mapped as %s and is also the parent of %s", a.Path, a.Type, b.Path)
			}
		}
	}
}

// Every field of every golden ECS document is mapped, so nothing the
// projection writes falls to dynamic mapping.
func TestESMappingsCoverGoldenDocuments(t *testing.T) {
	unmapped := map[string]bool{}
	docs := 0
	// layered.jsonl holds the documents of a site's catalog file (labels,
	// runbook link) beside their HEC events.
	for _, name := range []string{"testdata/golden/ecs.jsonl", "testdata/golden/layered.jsonl"} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Case string         `json:"case"`
				Doc  map[string]any `json:"doc"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(line.Case, " hec") {
				continue
			}
			docs++
			walkLeaves("", line.Doc, func(p string) {
				if _, ok := ESFieldType(p); !ok {
					unmapped[p] = true
				}
			})
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if docs == 0 {
		t.Fatal("no golden documents read")
	}
	if len(unmapped) > 0 {
		var list []string
		for p := range unmapped {
			list = append(list, p)
		}
		sort.Strings(list)
		t.Errorf("fields the golden documents use but nothing maps: %v", list)
	}
}

func walkLeaves(prefix string, v any, leaf func(string)) {
	obj, ok := v.(map[string]any)
	if !ok {
		leaf(prefix)
		return
	}
	for k, c := range obj {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		walkLeaves(p, c, leaf)
	}
}

func TestESAggregatable(t *testing.T) {
	for typ, want := range map[string]bool{
		ESKeyword: true, ESWildcard: true, ESLong: true, ESConstantKeyword: true, ESFlattened: true,
		ESText: false, ESMatchOnlyText: false,
	} {
		if got := ESAggregatable(typ); got != want {
			t.Errorf("ESAggregatable(%s) = %v, want %v", typ, got, want)
		}
	}
}
