package mdgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// componentGlobs are where components keep their metadata.yaml.
var componentGlobs = []string{"receiver/*/metadata.yaml", "processor/*/metadata.yaml", "connector/*/metadata.yaml", "exporter/*/metadata.yaml", "extension/*/metadata.yaml"}

// generatedDirs are the folders, relative to a component, whose
// generated_* files mdgen owns: one there that it no longer writes is
// stale and removed.
var generatedDirs = []string{".", "internal/metadata", "internal/metadatatest"}

// Components loads the metadata.yaml of the component folders dirs, or of
// every component when dirs is empty. root is the directory of go.mod.
func Components(root string, dirs ...string) ([]*Metadata, error) {
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	module := modulePath(gomod)
	if module == "" {
		return nil, fmt.Errorf("%s/go.mod names no module", root)
	}
	if len(dirs) == 0 {
		for _, g := range componentGlobs {
			paths, _ := filepath.Glob(filepath.Join(root, g))
			for _, p := range paths {
				dirs = append(dirs, filepath.Dir(p))
			}
		}
	}
	var mds []*Metadata
	var errs []error
	for _, d := range dirs {
		md, err := Load(root, module, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		mds = append(mds, md)
	}
	return mds, errors.Join(errs...)
}

// Change is one file that differs from what mdgen generates.
type Change struct {
	Path    string // absolute or relative to the working directory, as md.Dir
	Content []byte // nil: the file is stale and goes
}

// Changes lists what Apply would write or remove for md.
func Changes(md *Metadata) ([]Change, error) {
	files, err := Generate(md)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", md.Dir, err)
	}
	readmePath := filepath.Join(md.Dir, "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return nil, err
	}
	newReadme, err := Readme(md, readme)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", readmePath, err)
	}
	files = append(files, File{Path: "README.md", Content: newReadme})

	var changes []Change
	wanted := map[string]bool{}
	for _, f := range files {
		p := filepath.Join(md.Dir, f.Path)
		wanted[p] = true
		if old, err := os.ReadFile(p); err != nil || !bytes.Equal(old, f.Content) {
			changes = append(changes, Change{Path: p, Content: f.Content})
		}
	}
	for _, d := range generatedDirs {
		existing, _ := filepath.Glob(filepath.Join(md.Dir, d, "generated_*"))
		for _, p := range existing {
			if !wanted[p] {
				changes = append(changes, Change{Path: p})
			}
		}
	}
	slices.SortFunc(changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return changes, nil
}

// Apply writes the changes.
func Apply(changes []Change) error {
	for _, c := range changes {
		if c.Content == nil {
			if err := os.Remove(c.Path); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(c.Path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(c.Path, c.Content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// modulePath is the path on go.mod's module line.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
