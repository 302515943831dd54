package contentgen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// Generated folders below content/: every file in them comes from Files,
// and a file there that Files does not produce is stale.
var GeneratedDirs = []string{"kibana", "splunk", "testdata/alerts"}

// Files returns every generated file by its path below content/.
func Files(cat *mapping.Catalog) (map[string][]byte, error) {
	alerts, err := Alerts(cat)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	objs, err := ndjson(KibanaObjects())
	if err != nil {
		return nil, err
	}
	files["kibana/intune_connector.ndjson"] = objs
	rules, err := DetectionRules(alerts)
	if err != nil {
		return nil, err
	}
	rl, err := ndjson(rules)
	if err != nil {
		return nil, err
	}
	files["kibana/detection_rules.ndjson"] = rl
	sp, err := SplunkFiles(cat, alerts)
	if err != nil {
		return nil, err
	}
	for p, b := range sp {
		files["splunk/"+SplunkApp+"/"+p] = b
	}
	samples, err := AlertSamples(cat, alerts)
	if err != nil {
		return nil, err
	}
	for slug, s := range samples {
		b, err := sampleXML(s)
		if err != nil {
			return nil, err
		}
		files["testdata/alerts/"+slug+".xml"] = b
	}
	return files, nil
}

// Write writes the files below dir and removes stale files from the
// generated folders.
func Write(dir string, files map[string][]byte) error {
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
	}
	stale, err := Stale(dir, files)
	if err != nil {
		return err
	}
	for _, p := range stale {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			return err
		}
	}
	return nil
}

// Stale lists files in the generated folders below dir that files does not
// contain.
func Stale(dir string, files map[string][]byte) ([]string, error) {
	var out []string
	for _, g := range GeneratedDirs {
		root := filepath.Join(dir, filepath.FromSlash(g))
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if _, ok := files[rel]; !ok {
				out = append(out, rel)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// Diff compares the files below dir with files and describes every
// difference, or returns "" when they agree.
func Diff(dir string, files map[string][]byte) (string, error) {
	var msgs []string
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			msgs = append(msgs, p+": missing")
		case err != nil:
			return "", err
		case !bytes.Equal(got, files[p]):
			msgs = append(msgs, fmt.Sprintf("%s: differs from the generator (first difference at line %d)", p, firstDiffLine(got, files[p])))
		}
	}
	stale, err := Stale(dir, files)
	if err != nil {
		return "", err
	}
	for _, p := range stale {
		msgs = append(msgs, p+": not produced by the generator")
	}
	return strings.Join(msgs, "\n"), nil
}

func firstDiffLine(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}
