package schemacheck

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

const goodDoc = `{"@timestamp":"2026-03-02T09:15:00.1234567Z","message":"m","ecs":{"version":"8.17.0"},
"data_stream":{"type":"logs","dataset":"intune_connector.events","namespace":"default"},
"error":{"code":"0x00000400","message":"x","stack_trace":"a\n at b","type":"T"},
"event":{"kind":"event","outcome":"failure","severity":4,"code":"20102"},
"host":{"name":"h"},"log":{"level":"error"},"intune":{"anything":{"goes":1}},
"winlog":{"level":"error","keywords":["Classic","0x1"],"version":2,"process":{"pid":1,"thread":{"id":2}},
"event_data":{"A":"1","Params.State":"on"},"user_data":{"R":{"A":"x"}}}}`

func TestCheckDocument(t *testing.T) {
	f := MustLoad()
	if p := f.CheckDocument(decode(t, goodDoc)); len(p) != 0 {
		t.Fatalf("a conforming document has problems: %v", p)
	}
	tests := []struct{ name, doc, want string }{
		{"stack trace as an object", `{"error":{"stack_trace":{"frames":["a"]}}}`, "error.stack_trace: a wildcard value must be a string"},
		{"numeric Windows level", `{"winlog":{"level":4}}`, "winlog.level: a keyword value must be a string"},
		{"level in capitals", `{"winlog":{"level":"Error"}}`, `value "Error" is not lower case`},
		{"outcome outside ECS's values", `{"event":{"outcome":"ok"}}`, `value "ok" is not one of the allowed values`},
		{"severity as text", `{"event":{"severity":"4"}}`, "event.severity: a long value must be a whole number"},
		{"fractional version", `{"winlog":{"version":1.5}}`, "a long value must be a whole number"},
		{"bad date", `{"@timestamp":"yesterday"}`, "@timestamp: a date must be an RFC 3339 string"},
		{"a field ECS does not define", `{"host":{"os":{"name":"Windows"}}}`, "host.os.name: ECS 8.17 does not define this field"},
		{"a field Winlogbeat does not define", `{"winlog":{"severity":"x"}}`, "winlog.severity: Winlogbeat 8.17 does not define"},
		{"a number below event_data", `{"winlog":{"event_data":{"Count":3}}}`, "winlog.event_data.Count: a keyword value must be a string"},
		{"event_data as text", `{"winlog":{"event_data":"A=1"}}`, "winlog.event_data: a string, not an object"},
		{"a list of numbers as keywords", `{"winlog":{"keywords":[1]}}`, "winlog.keywords: a keyword value must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.CheckDocument(decode(t, tt.doc))
			if !strings.Contains(strings.Join(p, "\n"), tt.want) {
				t.Errorf("problems %q, want one containing %q", p, tt.want)
			}
		})
	}
}

const goodTemplate = `{"dynamic_templates":[
 {"winlog_event_data_keywords":{"path_match":"winlog.event_data.*","mapping":{"type":"keyword"}}},
 {"winlog_user_data_keywords":{"path_match":"winlog.user_data.*","mapping":{"type":"keyword"}}},
 {"strings_as_keyword":{"match_mapping_type":"string","mapping":{"type":"keyword"}}}],
"properties":{
 "@timestamp":{"type":"date","ignore_malformed":false},
 "message":{"type":"match_only_text"},
 "error":{"properties":{"stack_trace":{"type":"wildcard","fields":{"text":{"type":"match_only_text"}}},"message":{"type":"match_only_text"}}},
 "event":{"properties":{"original":{"type":"keyword","index":false,"doc_values":false},"severity":{"type":"long"}}},
 "winlog":{"properties":{"level":{"type":"keyword"},"event_data":{"type":"object","subobjects":false},"user_data":{"type":"object","subobjects":false}}},
 "intune":{"properties":{"details":{"type":"flattened"}}}}}`

func TestCheckTemplate(t *testing.T) {
	f := MustLoad()
	if p := f.CheckTemplate(decode(t, goodTemplate)); len(p) != 0 {
		t.Fatalf("a conforming template has problems: %v", p)
	}
	tests := []struct{ name, edit, want string }{
		{"stack trace as text with a keyword", `"stack_trace":{"type":"text","fields":{"keyword":{"type":"keyword"}}}`,
			"error.stack_trace: mapped as text"},
		{"stack trace without its text multi-field", `"stack_trace":{"type":"wildcard"}`,
			`multi-field text is "", want "match_only_text"`},
		{"message with an extra keyword", `"message":{"type":"match_only_text","fields":{"keyword":{"type":"keyword"}}}`,
			"message: has a multi-field keyword"},
		{"original indexed", `"original":{"type":"keyword"}`, "event.original: index is true, want false"},
		{"level as a number", `"level":{"type":"long"}`, "winlog.level: mapped as long"},
		{"event data flattened", `"event_data":{"type":"flattened"}`, "winlog.event_data: mapped as flattened"},
		{"an undefined ECS field", `"severity":{"type":"long"},"risk":{"type":"keyword"}`, "event.risk: mapped in ECS 8.17's namespace"},
		{"no template for the keys", `{"winlog_event_data_keywords":{"path_match":"winlog.event_data.*","mapping":{"type":"keyword"}}},`,
			"winlog.event_data: dynamic template strings_as_keyword matches the keys before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := editTemplate(t, tt.edit)
			p := f.CheckTemplate(decode(t, doc))
			if !strings.Contains(strings.Join(p, "\n"), tt.want) {
				t.Errorf("problems %q, want one containing %q", p, tt.want)
			}
		})
	}
}

// editTemplate replaces the definition of the field the edit names (or
// removes the dynamic template it quotes) in goodTemplate.
func editTemplate(t *testing.T, edit string) string {
	t.Helper()
	if strings.HasPrefix(edit, "{") {
		if !strings.Contains(goodTemplate, edit) {
			t.Fatalf("%s is not in the template", edit)
		}
		return strings.Replace(goodTemplate, edit, "", 1)
	}
	key := edit[:strings.Index(edit, ":")]
	start := strings.Index(goodTemplate, key+":")
	if start < 0 {
		t.Fatalf("%s is not in the template", key)
	}
	depth, end := 0, start+len(key)+1
	for i := end; i < len(goodTemplate); i++ {
		switch goodTemplate[i] {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth == 0 {
			end = i + 1
			break
		}
	}
	return goodTemplate[:start] + edit + goodTemplate[end:]
}

func TestLoadRefusesUnknownTypes(t *testing.T) {
	f := MustLoad()
	for _, s := range f.Schemas {
		if len(s.Fields) == 0 || len(s.Namespaces) == 0 || s.Source == "" {
			t.Errorf("%q: empty definitions", s.Source)
		}
		for path := range s.Fields {
			if f.owner(path) != s {
				t.Errorf("%s: %s is outside the namespaces its source owns", s.Source, path)
			}
		}
	}
}
