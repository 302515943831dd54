// Package catalogfile reads the site catalog files given to the receiver,
// the processor (enrichment::catalog_files) and intunectl (--catalog), and
// layers them over the embedded catalog. The reading is here, once, so that
// mapping stays free of I/O and every component reports a bad file the same
// way: with the key, the file, the line and what to fix.
package catalogfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// Load reads the files in order and returns the embedded catalog with them
// layered over it; with no files, the embedded catalog itself.
func Load(paths []string) (*mapping.Catalog, error) {
	base, err := mapping.Default()
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return base, nil
	}
	var layers []mapping.CatalogLayer
	var errs []error
	for i, p := range paths {
		data, err := read(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
			continue
		}
		layers = append(layers, mapping.CatalogLayer{Name: p, Data: data})
	}
	cat, err := base.Layered(layers...)
	if len(errs) > 0 {
		// The files that could be read are still checked, so that one
		// run reports every problem.
		return nil, errors.Join(append(errs, err)...)
	}
	return cat, err
}

func read(p string) ([]byte, error) {
	if strings.TrimSpace(p) == "" {
		return nil, errors.New("the path is empty; name a catalog file or remove the entry")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, openProblem(p, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a folder; name the catalog file in it", p)
	}
	// One byte more than allowed, so that Layered can say the file is too
	// large without reading all of it.
	data, err := io.ReadAll(io.LimitReader(f, mapping.MaxLayerSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return data, nil
}

func openProblem(p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !filepath.IsAbs(p) {
			wd, _ := os.Getwd()
			return fmt.Errorf("%s: no such file (a relative path is read from the working directory, %s, which for a service is not the folder of its config: write an absolute path)", p, wd)
		}
		return fmt.Errorf("%s: no such file", p)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied; let the account the collector runs as read it", p)
	}
	return err
}

// Check is the catalog part of a component's Validate: it reads and layers
// cfg's catalog files and checks the event names of the severity overrides
// against the result (an override may name an event a file adds). Each
// problem is prefixed with the keys that lead to it, below the component:
// key is where the enrichment block sits ("enrichment").
func Check(key string, cfg mapping.Config) error {
	if len(cfg.CatalogFiles) == 0 {
		return nil
	}
	cat, err := Load(cfg.CatalogFiles)
	if err != nil {
		return prefixEach(key+"::catalog_files", err)
	}
	return prefixEach(key, cfg.CheckOverrideNames(cat))
}

// Enricher builds the enricher for cfg over the embedded catalog with cfg's
// catalog files layered over it. Components call it when they are created
// or started, so a file that went bad after validation still stops the
// collector; key is as for Check.
func Enricher(key string, cfg mapping.Config) (*mapping.Enricher, error) {
	cat, err := Load(cfg.CatalogFiles)
	if err != nil {
		return nil, prefixEach(key+"::catalog_files", err)
	}
	en, err := mapping.NewEnricher(cat, cfg)
	return en, prefixEach(key, err)
}

// prefixEach puts the key before every problem of a joined error, so that
// each line the collector prints says where it belongs.
func prefixEach(key string, err error) error {
	if err == nil {
		return nil
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		for _, line := range strings.Split(e.Error(), "\n") {
			sep := ": "
			if strings.HasPrefix(line, "[") {
				sep = ""
			}
			out = append(out, errors.New(key+sep+line))
		}
	}
	return errors.Join(out...)
}
