//go:build linux

package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The sample exports hold 1,850 events, 1,632 of them the real
// RevokeRequestFailure events of real-ndes-admin.evtx.
const (
	sampleEvents = 1850
	realEvents   = 1632
	realFile     = "real-ndes-admin.evtx"
)

// TestDemo runs config/demo.yaml (what `make run` runs) on the sample
// exports: every event comes out once as an ECS document and once as a HEC
// event, and a second run with the same state folder adds nothing.
func TestDemo(t *testing.T) {
	collector, _ := binaries(t)
	root := moduleRoot(t)
	dir := t.TempDir()
	demoDir := filepath.Join(dir, "demo")
	env := []string{"DEMO_DIR=" + demoDir, "DEMO_INPUT=" + filepath.Join(root, "testdata", "samples")}
	ecsPath := filepath.Join(demoDir, "records.ecs.jsonl")
	hecPath := filepath.Join(demoDir, "records.hec.jsonl")
	config := filepath.Join(root, "config", "demo.yaml")

	start := time.Now()
	c := startProc(t, "collector", dir, root, env, collector, "--config", config)
	// The receiver polls every 2 s; the outputs are complete when they
	// hold every event and have not grown for two polls.
	waitSettled(t, 90*time.Second, 4*time.Second, "the ECS output", sampleEvents, func() int { c.alive(); return lines(ecsPath) })
	waitSettled(t, 30*time.Second, 2*time.Second, "the HEC output", sampleEvents, func() int { return lines(hecPath) })
	c.stop(20 * time.Second)
	t.Logf("first run: %s", time.Since(start).Round(time.Millisecond))

	ecs := readJSONLines(t, ecsPath)
	hec := readJSONLines(t, hecPath)
	if len(ecs) != sampleEvents || len(hec) != sampleEvents {
		t.Fatalf("got %d ECS and %d HEC lines, want %d each", len(ecs), len(hec), sampleEvents)
	}

	// The samples hold the same events in several formats, which share an
	// event.id; within one file each event is there once.
	ecsKeys := map[recordKey]bool{}
	real := 0
	for i, d := range ecs {
		id := str(d, "event", "id")
		for _, f := range [][]string{{"event", "id"}, {"event", "code"}, {"log", "level"}} {
			if str(d, f...) == "" {
				t.Errorf("ECS line %d (event.id %q): %v is missing or empty", i+1, id, f)
			}
		}
		if _, ok := get(d, "intune", "matched").(bool); !ok {
			t.Errorf("ECS line %d (event.id %q): intune.matched is missing or not a boolean", i+1, id)
		}
		k := recordKey{str(d, "log", "file", "name"), id}
		if ecsKeys[k] {
			t.Errorf("ECS line %d: event.id %s from %s twice", i+1, id, k.file)
		}
		ecsKeys[k] = true
		if k.file != realFile {
			continue
		}
		real++
		if code, action := str(d, "event", "code"), str(d, "event", "action"); code != "3001" || action != "RevokeRequestFailure" {
			t.Errorf("ECS line %d from %s: event %s %s, want 3001 RevokeRequestFailure", i+1, realFile, code, action)
		}
		// The six EventData fields of event 3001, in their contract names.
		for _, f := range [][]string{
			{"user", "id"}, {"device", "id"},
			{"intune", "certificate", "serial_number"}, {"intune", "certificate", "thumbprint"},
			{"intune", "certificate_authority"}, {"error", "message"},
		} {
			if str(d, f...) == "" {
				t.Errorf("ECS line %d from %s (event.id %s): %v is missing or empty", i+1, realFile, id, f)
			}
		}
	}
	if real != realEvents {
		t.Errorf("%d documents from %s, want %d", real, realFile, realEvents)
	}

	for i, h := range hec {
		ev, _ := h["event"].(map[string]any)
		id := str(ev, "event", "id")
		k := recordKey{str(ev, "log", "file", "name"), id}
		if !ecsKeys[k] {
			t.Errorf("HEC line %d: event.id %q from %q is not among the ECS documents (or twice)", i+1, id, k.file)
		}
		delete(ecsKeys, k)
		for _, f := range [][]string{{"event", "code"}, {"log", "level"}} {
			if str(ev, f...) == "" {
				t.Errorf("HEC line %d (event.id %q): event.%v is missing or empty", i+1, id, f)
			}
		}
		if _, ok := get(ev, "intune", "matched").(bool); !ok {
			t.Errorf("HEC line %d (event.id %q): intune.matched is missing or not a boolean", i+1, id)
		}
		if _, ok := h["time"].(float64); !ok {
			t.Errorf("HEC line %d (event.id %q): no numeric time", i+1, id)
		}
	}

	// The checkpoints are in DEMO_DIR/state: a second run reads nothing.
	// The first run's outputs are moved aside, so that whether the file
	// exporter appends or truncates, what the second run writes is what is
	// left in the files.
	for _, p := range []string{ecsPath, hecPath} {
		if err := os.Rename(p, p+".first"); err != nil {
			t.Fatal(err)
		}
	}
	start = time.Now()
	c = startProc(t, "collector", dir, root, env, collector, "--config", config)
	c.waitLog("Everything is ready", 30*time.Second)
	time.Sleep(3 * 2 * time.Second) // three polls
	c.alive()
	c.stop(20 * time.Second)
	if n, m := lines(ecsPath), lines(hecPath); n != 0 || m != 0 {
		t.Errorf("a restart with the same DEMO_DIR wrote %d ECS and %d HEC lines, want none (the checkpoints say everything was read)", n, m)
	}
	t.Logf("second run: %s", time.Since(start).Round(time.Millisecond))
}

func readJSONLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s line %d is not a JSON object: %v", filepath.Base(path), n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// get walks nested objects.
func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[p]
	}
	return v
}

func str(m map[string]any, path ...string) string {
	s, _ := get(m, path...).(string)
	return s
}
