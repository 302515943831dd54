//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildDir  string // temporary; removed by TestMain
	buildOnce sync.Once
	builtErr  error
	bins      struct{ collector, esbulk string }
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// inCI is true where a missing prerequisite that the tests make themselves
// is a failure rather than a reason to skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// moduleRoot is the directory of the repository's go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

// binaries returns the collector and bulk test server binaries, building
// those not given by OTELCOL_BIN / ESBULKSERVER_BIN once per test run.
func binaries(t *testing.T) (collector, esbulk string) {
	t.Helper()
	root := moduleRoot(t)
	buildOnce.Do(func() { builtErr = build(root) })
	if builtErr != nil {
		if inCI() {
			t.Fatalf("cannot build the binaries under test: %v", builtErr)
		}
		t.Skipf("cannot build the binaries under test (set OTELCOL_BIN and ESBULKSERVER_BIN to use built ones): %v", builtErr)
	}
	return bins.collector, bins.esbulk
}

func build(root string) error {
	var pkgs []string
	bins.collector = os.Getenv("OTELCOL_BIN")
	bins.esbulk = os.Getenv("ESBULKSERVER_BIN")
	for _, b := range []struct {
		path *string
		env  string
		pkg  string
		name string
	}{
		{&bins.collector, "OTELCOL_BIN", "./cmd/otelcol-intune", "otelcol-intune"},
		{&bins.esbulk, "ESBULKSERVER_BIN", "./internal/tools/esbulkserver", "esbulkserver"},
	} {
		if *b.path != "" {
			abs, err := filepath.Abs(*b.path)
			if err != nil {
				return err
			}
			if st, err := os.Stat(abs); err != nil || st.IsDir() {
				return fmt.Errorf("%s=%s is not a file", b.env, *b.path)
			}
			*b.path = abs
			continue
		}
		if buildDir == "" {
			d, err := os.MkdirTemp("", "otelcol-intune-e2e-")
			if err != nil {
				return err
			}
			buildDir = d
		}
		*b.path = filepath.Join(buildDir, b.name)
		pkgs = append(pkgs, b.pkg)
	}
	if len(pkgs) == 0 {
		return nil
	}
	goBin := "go"
	if gr := os.Getenv("GOROOT"); gr != "" {
		if p := filepath.Join(gr, "bin", "go"); fileExists(p) {
			goBin = p
		}
	}
	// -trimpath and no cgo as in the Makefile and the packages, so a
	// `make build` earlier in the job leaves a warm cache.
	args := append([]string{"build", "-trimpath", "-o", buildDir + string(filepath.Separator)}, pkgs...)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", strings.Join(pkgs, " "), time.Since(start).Round(time.Second))
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// hecPeerBin returns the HEC peer binary, or "" and why it cannot be
// used: tests then skip their Splunk half with that message.
func hecPeerBin(t *testing.T) (bin, skip string) {
	t.Helper()
	p := os.Getenv("HECPEER_BIN")
	if p == "" {
		p = filepath.Join(moduleRoot(t), "test", "hecpeer", "build", "hecpeer")
	}
	if !fileExists(p) {
		return "", fmt.Sprintf("HEC peer not built (%s): run `make hecpeer` to build the contrib splunk_hec receiver peer, or set HECPEER_BIN; the Splunk half of this test is skipped", p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs, ""
}

// slow skips a test that takes a minute or more under -short.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow end-to-end test; run without -short")
	}
}
