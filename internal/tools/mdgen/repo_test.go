package mdgen

import (
	"path/filepath"
	"testing"
)

// root is the repository root, where go.mod is.
var root = filepath.Join("..", "..", "..")

func components(t *testing.T) []*Metadata {
	t.Helper()
	mds, err := Components(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(mds) < 5 {
		t.Fatalf("found %d components with a metadata.yaml, want at least 5", len(mds))
	}
	return mds
}

// TestGeneratedFilesAreCurrent fails when a component's generated files
// (internal/metadata, internal/metadatatest, generated_component_test.go,
// the README telemetry tables) differ from what its metadata.yaml gives.
// Fix with: make generate
func TestGeneratedFilesAreCurrent(t *testing.T) {
	for _, md := range components(t) {
		changes, err := Changes(md)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			p, _ := filepath.Rel(root, c.Path)
			if c.Content == nil {
				t.Errorf("%s is no longer generated from metadata.yaml: run `make generate` and commit the result", p)
				continue
			}
			t.Errorf("%s is out of date with metadata.yaml: run `make generate` and commit the result", p)
		}
	}
}

// Every metric a metadata.yaml declares is recorded by its component's
// code. (The other way round holds by construction: the code records
// through the generated instruments only.)
func TestEveryDeclaredMetricIsRecorded(t *testing.T) {
	for _, md := range components(t) {
		missing, err := Unrecorded(md)
		if err != nil {
			t.Fatal(err)
		}
		dir, _ := filepath.Rel(root, md.Dir)
		for _, m := range missing {
			t.Errorf("%s/metadata.yaml declares %s, but no code of the component records it: record it or remove it from metadata.yaml", dir, m)
		}
	}
}

// Components create instruments only through the generated
// TelemetryBuilder, so every metric they record is declared in
// metadata.yaml.
func TestNoHandMadeInstruments(t *testing.T) {
	for _, md := range components(t) {
		found, err := HandMadeInstruments(md)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			t.Errorf("%s: create instruments through metadata.NewTelemetryBuilder only: declare the metric in metadata.yaml and run `make generate`", f)
		}
	}
}
