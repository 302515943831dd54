package mapping_test

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/schemacheck"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// TestConformanceGoldenDocuments checks every document the golden tests
// produce (the ECS documents, and the structured record of each HEC event)
// against the ECS and Winlogbeat definitions in internal/testsupport/
// schemacheck: types, allowed values, and no field in their namespaces
// that they do not define.
func TestConformanceGoldenDocuments(t *testing.T) {
	facts := schemacheck.MustLoad()
	for _, tc := range []struct{ file, member string }{
		{"testdata/golden/ecs.jsonl", ""},
		{"testdata/golden/hec.jsonl", "event"},
		// A site catalog's labels and runbook link, ECS and HEC lines.
		{"testdata/golden/layered.jsonl", "by case"},
	} {
		f, err := os.Open(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		docs := 0
		for sc.Scan() {
			var line struct {
				Case string         `json:"case"`
				Doc  map[string]any `json:"doc"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			doc := line.Doc
			member := tc.member
			if member == "by case" {
				member = ""
				if strings.HasSuffix(line.Case, " hec") {
					member = "event"
				}
			}
			if member != "" {
				doc, _ = doc[member].(map[string]any)
			}
			docs++
			if p := facts.CheckDocument(doc); len(p) > 0 {
				t.Errorf("%s %s:\n  %s", tc.file, line.Case, strings.Join(p, "\n  "))
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if docs == 0 {
			t.Fatalf("%s: no documents read", tc.file)
		}
	}
}

// TestConformanceMappings checks the mappings every index template is built
// from against the same definitions.
func TestConformanceMappings(t *testing.T) {
	tpl := map[string]any{"properties": mapping.ESProperties(), "dynamic_templates": mapping.ESDynamicTemplates()}
	// As Elasticsearch reads it: JSON.
	raw, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if p := schemacheck.MustLoad().CheckTemplate(back); len(p) > 0 {
		t.Errorf("the mappings disagree with the ECS and Winlogbeat definitions:\n  %s", strings.Join(p, "\n  "))
	}
}
