// Package matcher turns the include and exclude globs into the list of
// files to read at one poll.
package matcher

import (
	"path/filepath"
	"sort"
)

// Matcher expands include globs (filepath.Match syntax) and drops the
// paths an exclude glob matches.
type Matcher struct {
	include, exclude []string
}

// New returns a Matcher; the globs were checked by the receiver's config.
func New(include, exclude []string) *Matcher {
	return &Matcher{include: include, exclude: exclude}
}

// GlobError names an include glob that could not be expanded.
type GlobError struct {
	Glob string
	Err  error
}

// Match returns the matching paths, sorted and each once. When failed is
// not empty the list may lack files that exist, so a file missing from it
// must not be taken for deleted.
func (m *Matcher) Match() (paths []string, failed []GlobError) {
	seen := map[string]bool{}
	for _, g := range m.include {
		found, err := filepath.Glob(g)
		if err != nil {
			failed = append(failed, GlobError{Glob: g, Err: err})
			continue
		}
		for _, p := range found {
			if !seen[p] && !m.excluded(p) {
				seen[p] = true
				paths = append(paths, p)
			}
		}
	}
	sort.Strings(paths)
	return paths, failed
}

func (m *Matcher) excluded(path string) bool {
	for _, ex := range m.exclude {
		if ok, _ := filepath.Match(ex, path); ok {
			return true
		}
	}
	return false
}
