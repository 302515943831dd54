package mapping_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// TestGoldenProjections runs every catalog entry with each of its related
// codes through enrichment and every projection, and compares with the
// golden files in testdata/golden. Run with -update after an intended
// change and review the diff.
func TestGoldenProjections(t *testing.T) {
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := eventgen.CatalogCases(cat)
	outputs := map[string]*bytes.Buffer{"ecs": {}, "hec": {}, "otlp": {}}
	marshaler := &plog.JSONMarshaler{}
	for i, c := range cases {
		ev := eventgen.Event(cat, c, i)
		logs := plog.NewLogs()
		rl := logs.ResourceLogs().AppendEmpty()
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		res := en.Enrich(&ev, lr)
		if !res.Matched {
			t.Errorf("%s: catalog entry did not match itself", c.Name())
		}
		if c.Code != "" && !res.CodeMatched {
			t.Errorf("%s: related code %s did not match", c.Name(), c.Code)
		}
		writeCase(t, outputs["ecs"], c.Name(), mapping.AppendECS(nil, rl.Resource(), lr, mapping.ECSOptions{DataStream: true}))
		writeCase(t, outputs["hec"], c.Name(), mapping.AppendHEC(nil, rl.Resource(), lr, mapping.HECOptions{}))
		otlp, err := marshaler.MarshalLogs(logs)
		if err != nil {
			t.Fatal(err)
		}
		writeCase(t, outputs["otlp"], c.Name(), otlp)
	}
	for name, got := range outputs {
		path := filepath.Join("testdata", "golden", name+".jsonl")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./mapping -run TestGoldenProjections -update to create it)", err)
		}
		compareLines(t, name, want, got.Bytes())
	}
}

// TestGoldenLayeredCatalog is the golden test for a site's catalog file
// (config/catalog/example.yaml): every catalog case whose record the file
// changes, or which it adds, enriched with the layered catalog and
// projected to ECS and HEC.
func TestGoldenLayeredCatalog(t *testing.T) {
	data, err := os.ReadFile("../config/catalog/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := mapping.MustDefault()
	cat, err := base.Layered(mapping.CatalogLayer{Name: "example.yaml", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := mapping.NewEnricher(base, mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	changed := 0
	for i, c := range eventgen.CatalogCases(cat) {
		ev := eventgen.Event(cat, c, i)
		rl := plog.NewResourceLogs()
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		if res := en.Enrich(&ev, lr); !res.Matched {
			t.Errorf("%s: not matched by the layered catalog", c.Name())
		}
		ecs := mapping.AppendECS(nil, rl.Resource(), lr, mapping.ECSOptions{DataStream: true})
		before := plog.NewLogRecord()
		plain.Enrich(&ev, before)
		if bytes.Equal(ecs, mapping.AppendECS(nil, rl.Resource(), before, mapping.ECSOptions{DataStream: true})) {
			continue
		}
		changed++
		writeCase(t, &got, c.Name()+" ecs", ecs)
		writeCase(t, &got, c.Name()+" hec", mapping.AppendHEC(nil, rl.Resource(), lr, mapping.HECOptions{}))
	}
	if changed < 4 {
		t.Errorf("the example catalog file changes only %d records", changed)
	}
	path := filepath.Join("testdata", "golden", "layered.jsonl")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make golden to create it)", err)
	}
	compareLines(t, "layered", want, got.Bytes())
}

// writeCase writes one golden line: the case name and the projection, with
// the projection's JSON checked for validity on the way.
func writeCase(t *testing.T, buf *bytes.Buffer, name string, doc []byte) {
	t.Helper()
	if !json.Valid(doc) {
		t.Fatalf("%s: projection is not valid JSON: %s", name, doc)
	}
	buf.WriteString(`{"case":`)
	nb, _ := json.Marshal(name)
	buf.Write(nb)
	buf.WriteString(`,"doc":`)
	buf.Write(doc)
	buf.WriteString("}\n")
}

func compareLines(t *testing.T, name string, want, got []byte) {
	t.Helper()
	wl := bytes.Split(want, []byte("\n"))
	gl := bytes.Split(got, []byte("\n"))
	if len(wl) != len(gl) {
		t.Errorf("%s: %d golden lines, got %d (run with -update if the catalog changed on purpose)", name, len(wl), len(gl))
	}
	for i := 0; i < min(len(wl), len(gl)); i++ {
		if !bytes.Equal(wl[i], gl[i]) {
			t.Errorf("%s line %d differs:\nwant %s\n got %s", name, i+1, wl[i], gl[i])
			return
		}
	}
}
