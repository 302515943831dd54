package docgen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// TestREADMEIsCurrent fails when README.md's generated tables differ from
// the catalog and the record contract. Fix with: make docs
func TestREADMEIsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "..", "README.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Apply(doc, Sections(mapping.MustDefault()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, want) {
		t.Fatal("README.md is out of date with the catalog or the record contract: run `make docs` and commit the result")
	}
}

func TestSectionsCoverEverything(t *testing.T) {
	cat := mapping.MustDefault()
	s := Sections(cat)
	for _, e := range cat.Events {
		if !strings.Contains(s["events"], "| "+e.Name) {
			t.Errorf("events table lacks %s", e.Name)
		}
	}
	for _, f := range mapping.Fields {
		if !strings.Contains(s["fields"], "`"+f.Name+"`") {
			t.Errorf("fields table lacks %s", f.Name)
		}
	}
	if _, err := Apply([]byte("no markers"), s); err == nil {
		t.Error("a README without markers was accepted")
	}
}
