package contentgen

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

const contentDir = "../../content"

func generated(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := Files(mapping.MustDefault())
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestContentIsCurrent fails when the committed content differs from what
// the catalog generates. Fix with: go run ./internal/tools/contentgen
func TestContentIsCurrent(t *testing.T) {
	diff, err := Diff(contentDir, generated(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Fatalf("content/ is out of date with the catalog; run `go run ./internal/tools/contentgen` and commit the result:\n%s", diff)
	}
}

func TestDiffSeesDrift(t *testing.T) {
	dir := t.TempDir()
	files := generated(t)
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	if d, err := Diff(dir, files); err != nil || d != "" {
		t.Fatalf("fresh write differs: %q %v", d, err)
	}
	p := filepath.Join(dir, "splunk", SplunkApp, "lookups", "intune_connector_events.csv")
	if err := os.WriteFile(p, []byte("id,name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "kibana", "old.ndjson")
	if err := os.WriteFile(extra, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Diff(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"intune_connector_events.csv: differs", "kibana/old.ndjson: not produced"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(extra); !os.IsNotExist(err) {
		t.Errorf("Write left the stale file: %v", err)
	}
}

func readNDJSON(t *testing.T, name string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(contentDir, "kibana", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s line %d: %v", name, i+1, err)
		}
		out = append(out, m)
	}
	return out
}

// esField checks one field a Kibana object uses against the index template.
func esField(t *testing.T, where, field string, aggregated bool) {
	t.Helper()
	typ, ok := mapping.ESFieldType(field)
	if !ok {
		t.Errorf("%s uses %s, which the index template does not map", where, field)
		return
	}
	if aggregated && !mapping.ESAggregatable(typ) {
		t.Errorf("%s aggregates on %s, a text field", where, field)
	}
}

func kqlFieldsOK(t *testing.T, where, q string) {
	t.Helper()
	fields, err := QueryFields("kuery", q)
	if err != nil {
		t.Errorf("%s: query %q: %v", where, q, err)
		return
	}
	if _, err := ParseKQL(q); err != nil {
		t.Errorf("%s: query %q does not parse: %v", where, q, err)
	}
	for _, f := range fields {
		esField(t, where, f, false)
	}
}

func TestKibanaSavedObjects(t *testing.T) {
	objs := readNDJSON(t, "intune_connector.ndjson")
	byKey := map[string]map[string]any{}
	for _, o := range objs {
		for _, k := range []string{"id", "type", "attributes", "references", "coreMigrationVersion", "typeMigrationVersion"} {
			if _, ok := o[k]; !ok {
				t.Fatalf("saved object %v lacks %s", o["id"], k)
			}
		}
		if !slices.Contains([]string{"index-pattern", "lens", "search", "dashboard"}, o["type"].(string)) {
			t.Errorf("unexpected type %v", o["type"])
		}
		key := o["type"].(string) + "/" + o["id"].(string)
		if byKey[key] != nil {
			t.Errorf("%s is listed twice", key)
		}
		byKey[key] = o
	}
	types := map[string]int{}
	for key, o := range byKey {
		types[o["type"].(string)]++
		attrs := o["attributes"].(map[string]any)
		if attrs["title"] == nil || attrs["title"] == "" {
			t.Errorf("%s has no title", key)
		}
		refs := map[string]map[string]any{}
		for _, r := range o["references"].([]any) {
			r := r.(map[string]any)
			refs[r["name"].(string)] = r
			if byKey[r["type"].(string)+"/"+r["id"].(string)] == nil {
				t.Errorf("%s references %s/%s, which the file does not hold", key, r["type"], r["id"])
			}
		}
		switch o["type"] {
		case "index-pattern":
			if attrs["title"] != Index || attrs["timeFieldName"] != "@timestamp" {
				t.Errorf("data view: title %v time field %v", attrs["title"], attrs["timeFieldName"])
			}
		case "lens":
			checkLens(t, key, attrs, refs)
		case "search":
			var ss map[string]any
			meta := attrs["kibanaSavedObjectMeta"].(map[string]any)
			if err := json.Unmarshal([]byte(meta["searchSourceJSON"].(string)), &ss); err != nil {
				t.Fatalf("%s: searchSourceJSON: %v", key, err)
			}
			if refs[ss["indexRefName"].(string)] == nil {
				t.Errorf("%s: indexRefName %v has no reference", key, ss["indexRefName"])
			}
			kqlFieldsOK(t, key, ss["query"].(map[string]any)["query"].(string))
			for _, c := range attrs["columns"].([]any) {
				esField(t, key+" column", c.(string), false)
			}
			for _, s := range attrs["sort"].([]any) {
				esField(t, key+" sort", s.([]any)[0].(string), true)
			}
		case "dashboard":
			var panels []map[string]any
			if err := json.Unmarshal([]byte(attrs["panelsJSON"].(string)), &panels); err != nil {
				t.Fatalf("%s: panelsJSON: %v", key, err)
			}
			// The overview has every panel; the device journey its chart
			// and its search.
			want := map[string]int{dashboardID: len(Panels()), deviceDashboardID: 2}[o["id"].(string)]
			if len(panels) != want {
				t.Errorf("dashboard %v has %d panels, want %d", o["id"], len(panels), want)
			}
			for _, p := range panels {
				name := p["panelIndex"].(string) + ":" + p["panelRefName"].(string)
				r := refs[name]
				if r == nil {
					t.Errorf("panel %v: no reference named %s", p["panelIndex"], name)
					continue
				}
				if r["type"] != p["type"] {
					t.Errorf("panel %v is a %v but references a %v", p["panelIndex"], p["type"], r["type"])
				}
				g := p["gridData"].(map[string]any)
				if g["x"].(float64)+g["w"].(float64) > 48 {
					t.Errorf("panel %v is wider than the grid", p["panelIndex"])
				}
			}
			if _, err := json.Marshal(attrs["optionsJSON"]); err != nil {
				t.Error(err)
			}
		}
	}
	if types["index-pattern"] != 1 || types["dashboard"] != 2 || types["search"] != 2 || types["lens"] < 6 {
		t.Errorf("object counts: %v", types)
	}
}

func checkLens(t *testing.T, key string, attrs map[string]any, refs map[string]map[string]any) {
	t.Helper()
	state := attrs["state"].(map[string]any)
	layers := state["datasourceStates"].(map[string]any)["formBased"].(map[string]any)["layers"].(map[string]any)
	ids := map[string]bool{}
	for layerID, l := range layers {
		if refs["indexpattern-datasource-layer-"+layerID] == nil {
			t.Errorf("%s: layer %s has no data view reference", key, layerID)
		}
		l := l.(map[string]any)
		cols := l["columns"].(map[string]any)
		for _, id := range l["columnOrder"].([]any) {
			if cols[id.(string)] == nil {
				t.Errorf("%s: columnOrder names missing column %v", key, id)
			}
		}
		for id, c := range cols {
			ids[id] = true
			c := c.(map[string]any)
			f := c["sourceField"].(string)
			if f != "___records___" {
				esField(t, key+" column "+id, f, c["isBucketed"] == true)
			}
			if ob, ok := c["params"].(map[string]any)["orderBy"].(map[string]any); ok && cols[ob["columnId"].(string)] == nil {
				t.Errorf("%s: column %s orders by missing column %v", key, id, ob["columnId"])
			}
			if flt, ok := c["filter"].(map[string]any); ok {
				kqlFieldsOK(t, key+" column "+id, flt["query"].(string))
			}
		}
	}
	kqlFieldsOK(t, key, state["query"].(map[string]any)["query"].(string))
	// Every accessor the visualisation names is a column.
	vis, _ := json.Marshal(state["visualization"])
	for _, m := range regexp.MustCompile(`"(?:xAccessor|splitAccessor|columnId|accessors)":(?:\["([^"]+)"\]|"([^"]+)")`).FindAllStringSubmatch(string(vis), -1) {
		id := m[1] + m[2]
		if !ids[id] {
			t.Errorf("%s: visualization names column %s, which no layer has", key, id)
		}
	}
}

func TestDetectionRules(t *testing.T) {
	alerts, err := Alerts(mapping.MustDefault())
	if err != nil {
		t.Fatal(err)
	}
	rules := readNDJSON(t, "detection_rules.ndjson")
	if len(rules) != len(alerts) {
		t.Fatalf("%d rules for %d alerts", len(rules), len(alerts))
	}
	byID := map[string]*Alert{}
	for _, a := range alerts {
		byID[a.RuleID()] = a
	}
	for _, r := range rules {
		name, _ := r["name"].(string)
		for _, k := range []string{"rule_id", "name", "description", "type", "language", "query", "severity", "risk_score", "note", "interval", "from", "enabled", "version", "tags", "threat"} {
			if _, ok := r[k]; !ok {
				t.Errorf("rule %q lacks %s", name, k)
			}
		}
		a := byID[r["rule_id"].(string)]
		if a == nil {
			t.Fatalf("rule %q has an unknown rule_id", name)
		}
		si := a.SeverityInfo()
		if r["severity"] != si.KibanaSeverity || int(r["risk_score"].(float64)) != si.KibanaRiskScore {
			t.Errorf("rule %q: severity %v risk %v, want %s %d from the severity table", name, r["severity"], r["risk_score"], si.KibanaSeverity, si.KibanaRiskScore)
		}
		note := r["note"].(string)
		for _, e := range a.Events {
			if e.Remediation != "" && !strings.Contains(note, e.Remediation) {
				t.Errorf("rule %q: note lacks the remediation of %s", name, e.Name)
			}
		}
		for _, c := range a.Codes {
			if !strings.Contains(note, c.Remediation) {
				t.Errorf("rule %q: note lacks the remediation of %s", name, c.Code)
			}
		}
		q := r["query"].(string)
		switch r["type"] {
		case "query", "threshold", "new_terms":
			if r["language"] != "kuery" || !slices.Contains(r["index"].([]any), any(Index)) {
				t.Errorf("rule %q: language %v index %v", name, r["language"], r["index"])
			}
			kqlFieldsOK(t, "rule "+name, q)
		case "esql":
			if r["language"] != "esql" || !strings.HasPrefix(q, "FROM "+Index) {
				t.Errorf("rule %q: an ES|QL rule must read FROM %s", name, Index)
			}
			fields, err := QueryFields("esql", q)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fields {
				esField(t, "rule "+name, f, true)
			}
			if _, err := ParseESQLWhere(q); err != nil {
				t.Errorf("rule %q: %v", name, err)
			}
		default:
			t.Errorf("rule %q: unexpected type %v", name, r["type"])
		}
		switch r["type"] {
		case "threshold":
			th := r["threshold"].(map[string]any)
			for _, f := range th["field"].([]any) {
				esField(t, "rule "+name+" threshold", f.(string), true)
			}
			if th["value"].(float64) < 1 {
				t.Errorf("rule %q: threshold %v", name, th["value"])
			}
		case "new_terms":
			for _, f := range r["new_terms_fields"].([]any) {
				esField(t, "rule "+name+" new terms", f.(string), true)
			}
			if !strings.HasPrefix(r["history_window_start"].(string), "now-") {
				t.Errorf("rule %q: history_window_start %v", name, r["history_window_start"])
			}
		}
	}
	// The list of detections.
	want := []string{"connector-certificate", "ca-unavailable", "revocation-failing", "scep-verify-burst", "service-stopped", "host-silent", "unknown-event"}
	var got []string
	for _, a := range alerts {
		got = append(got, a.Slug)
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
}

func readConf(t *testing.T, name string) []ConfStanza {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(contentDir, "splunk", SplunkApp, name))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseConf(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return st
}

// splunkFields are the fields a search may use: the HEC projection's
// index-time fields and event members, Splunk's own, and what props.conf
// defines at search time.
func splunkFields(t *testing.T) map[string]bool {
	t.Helper()
	ok := map[string]bool{"_time": true, "_raw": true, "host": true, "source": true, "sourcetype": true, "index": true, "eventtype": true, "tag": true, "message": true}
	for _, f := range mapping.CIMFields {
		ok[f.Name] = true
	}
	for _, f := range mapping.Fields {
		ok[f.Name] = true
	}
	for _, s := range readConf(t, "default/props.conf") {
		for _, k := range s.Keys {
			v := s.Values[k]
			switch {
			case strings.HasPrefix(k, "EVAL-"):
				ok[strings.TrimPrefix(k, "EVAL-")] = true
			case strings.HasPrefix(k, "FIELDALIAS-"), strings.HasPrefix(k, "LOOKUP-"):
				w := strings.Fields(v)
				for i := 1; i < len(w); i++ {
					if w[i-1] == "AS" || w[i-1] == "ASNEW" {
						ok[w[i]] = true
					}
				}
			}
		}
	}
	return ok
}

func splFieldsOK(t *testing.T, known map[string]bool, where, q string) {
	t.Helper()
	fields, err := QueryFields("spl", q)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if len(fields) == 0 {
		t.Errorf("%s: found no fields in %q", where, q)
	}
	for _, f := range fields {
		if !known[f] {
			t.Errorf("%s uses %s, which neither the HEC projection nor props.conf provides", where, f)
		}
	}
	if _, err := ParseSPLSearch(q); err != nil {
		t.Errorf("%s: base search does not parse: %v", where, err)
	}
}

func TestSplunkApp(t *testing.T) {
	known := splunkFields(t)
	cat := mapping.MustDefault()
	alerts, err := Alerts(cat)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(contentDir, "splunk", SplunkApp)
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".conf") || strings.HasSuffix(p, ".meta")) {
			rel, _ := filepath.Rel(dir, p)
			readConf(t, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	props := readConf(t, "default/props.conf")
	if len(props) != 1 || props[0].Name != Sourcetype || props[0].Values["KV_MODE"] != "json" {
		t.Errorf("props.conf: %+v", props)
	}
	app := readConf(t, "default/app.conf")
	if app[1].Name != "package" || app[1].Values["id"] != SplunkApp {
		t.Errorf("app.conf package id: %+v", app)
	}
	// Lookup definitions name existing files.
	for _, s := range readConf(t, "default/transforms.conf") {
		if _, err := os.Stat(filepath.Join(dir, "lookups", s.Values["filename"])); err != nil {
			t.Errorf("transform %s: %v", s.Name, err)
		}
	}

	saved := readConf(t, "default/savedsearches.conf")
	if len(saved) != len(alerts) {
		t.Fatalf("%d saved searches for %d alerts", len(saved), len(alerts))
	}
	for i, s := range saved {
		a := alerts[i]
		if s.Name != a.Name {
			t.Errorf("saved search %q, want %q", s.Name, a.Name)
		}
		for _, k := range []string{"search", "cron_schedule", "dispatch.earliest_time", "alert.severity", "enableSched"} {
			if s.Values[k] == "" {
				t.Errorf("saved search %q lacks %s", s.Name, k)
			}
		}
		if !strings.Contains(s.Values["description"], oneLine(a.PlainNote())) {
			t.Errorf("saved search %q: description lacks the remediation", s.Name)
		}
		splFieldsOK(t, known, "saved search "+s.Name, s.Values["search"])
	}
	for _, s := range readConf(t, "default/eventtypes.conf") {
		splFieldsOK(t, known, "eventtype "+s.Name, s.Values["search"])
	}
	tagged := map[string]bool{}
	for _, s := range readConf(t, "default/tags.conf") {
		for _, k := range s.Keys {
			tagged[k] = s.Values[k] == "enabled"
		}
	}
	if !tagged["alert"] || !tagged["certificate"] {
		t.Errorf("tags: %v", tagged)
	}

	// The dashboard is well-formed XML and its searches use known fields.
	view, err := os.ReadFile(filepath.Join(dir, "default/data/ui/views/intune_connector_overview.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var form struct {
		XMLName xml.Name
		Version string `xml:"version,attr"`
		Rows    []struct {
			Panels []struct {
				Title  string `xml:"title"`
				Charts []struct {
					Query string `xml:"search>query"`
				} `xml:"chart"`
				Tables []struct {
					Query string `xml:"search>query"`
				} `xml:"table"`
			} `xml:"panel"`
		} `xml:"row"`
	}
	if err := xml.Unmarshal(view, &form); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range form.Rows {
		for _, p := range r.Panels {
			n++
			var queries []string
			for _, c := range p.Charts {
				queries = append(queries, c.Query)
			}
			for _, c := range p.Tables {
				queries = append(queries, c.Query)
			}
			if len(queries) != 1 {
				t.Errorf("panel %q has %d searches", p.Title, len(queries))
			}
			for _, q := range queries {
				splFieldsOK(t, known, "dashboard panel "+p.Title, q)
			}
		}
	}
	if form.XMLName.Local != "form" || form.Version != "1.1" || n != len(Panels()) {
		t.Errorf("dashboard: <%s version=%q> with %d panels", form.XMLName.Local, form.Version, n)
	}
}

func TestLookupsCoverCatalog(t *testing.T) {
	cat := mapping.MustDefault()
	b, err := os.ReadFile(filepath.Join(contentDir, "splunk", SplunkApp, "lookups", "intune_connector_events.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cat.Events {
		if !strings.Contains(string(b), "\n"+itoa(e.ID)+","+e.Name+",") {
			t.Errorf("events lookup lacks %d %s", e.ID, e.Name)
		}
	}
	c, err := os.ReadFile(filepath.Join(contentDir, "splunk", SplunkApp, "lookups", "intune_connector_codes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ce := range cat.Codes {
		if !strings.Contains(string(c), "\n"+ce.Code+","+ce.Name+",") {
			t.Errorf("codes lookup lacks %s", ce.Code)
		}
	}
}

func itoa(n uint32) string {
	b, _ := json.Marshal(n)
	return string(b)
}
