package matcher

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestMatch(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.xml", "b.evtx", "c.json", "skip-d.xml", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(dir, n)
		}
		return out
	}
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
		wantFailed       int
	}{
		{name: "one glob", include: in("*.xml"), want: in("a.xml", "skip-d.xml")},
		{name: "overlapping globs give each path once, sorted", include: in("*.json", "*.xml", "a.*"), want: in("a.xml", "c.json", "skip-d.xml")},
		{name: "exclude matches the full path", include: in("*"), exclude: in("skip-*", "*.txt"), want: in("a.xml", "b.evtx", "c.json")},
		{name: "nothing matches", include: in("*.csv"), want: nil},
		{name: "a bad glob is reported, the others still match", include: append(in("*.evtx"), "["), want: in("b.evtx"), wantFailed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, failed := New(tt.include, tt.exclude).Match()
			if !slices.Equal(got, tt.want) {
				t.Errorf("paths %q, want %q", got, tt.want)
			}
			if len(failed) != tt.wantFailed {
				t.Errorf("failed globs %v, want %d", failed, tt.wantFailed)
			}
		})
	}
}
