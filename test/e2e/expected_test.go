//go:build linux

package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// expected is what one event should look like at the backends, computed
// in this process from the same file with the library the collector is
// built from: the record through the shared enrichment and the two
// projections, exactly what `intunectl convert --to ecs|hec` prints.
type expected struct {
	file string
	ecs  map[string]any
	hec  map[string]any
}

// recordKey names one event read from one file. The same event exported
// in two formats has the same event.id (the fingerprint does not depend on
// the format), so the sample set repeats ids across files.
type recordKey struct{ file, id string }

// expectRecords reads every event of the files and returns the expected
// shapes by file base name and event.id. A file with damaged events fails
// the test: the callers pass intact files.
func expectRecords(t *testing.T, hec mapping.HECOptions, ecs mapping.ECSOptions, files ...string) map[recordKey]expected {
	t.Helper()
	en, err := mapping.NewEnricher(mapping.MustDefault(), mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[recordKey]expected{}
	for _, path := range files {
		eachEvent(t, path, func(ev *wineventlog.Event) {
			ld := plog.NewLogs()
			rl := ld.ResourceLogs().AppendEmpty()
			lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			en.Enrich(ev, lr)
			k := recordKey{filepath.Base(path), mapping.Fingerprint(ev)}
			if _, dup := out[k]; dup {
				t.Fatalf("%s: event.id %s twice in the file", path, k.id)
			}
			out[k] = expected{
				file: filepath.Base(path),
				ecs:  jsonObject(t, mapping.AppendECS(nil, rl.Resource(), lr, ecs)),
				hec:  jsonObject(t, mapping.AppendHEC(nil, rl.Resource(), lr, hec)),
			}
		})
	}
	return out
}

// expectIDs returns the event.id of every event in the files.
func expectIDs(t *testing.T, files ...string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, path := range files {
		eachEvent(t, path, func(ev *wineventlog.Event) { ids[mapping.Fingerprint(ev)] = true })
	}
	return ids
}

func eachEvent(t *testing.T, path string, fn func(*wineventlog.Event)) {
	t.Helper()
	f, err := eventfile.Open(path, eventfile.Options{NoOriginal: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fn(&rec.Event)
	}
}

func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, b)
	}
	return m
}

// generate writes n generated connector events as a wevtutil export (one
// <Event> per line, as `gensamples -n N -export wevtutil` does); every event
// has its own record ID, so every event.id is distinct.
func generate(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.WriteFile(path, exportEvents(t, "wevtutil", 0, n), 0o600); err != nil {
		t.Fatal(err)
	}
}

// exportEvents returns generated events first..first+n-1 in the named
// eventgen export shape (wevtutil or compress: one event per line).
func exportEvents(t *testing.T, export string, first, n int) []byte {
	t.Helper()
	ex, err := eventgen.ExportByName(export)
	if err != nil {
		t.Fatal(err)
	}
	cat := mapping.MustDefault()
	cases := eventgen.CatalogCases(cat)
	var out []byte
	batch := make([]wineventlog.Event, 0, 1000)
	for i := first; i < first+n; i++ {
		ev := eventgen.EventAt(cat, cases, i)
		if ex.Rendered {
			ev = eventgen.Rendered(cat, ev)
		}
		batch = append(batch, ev)
		if len(batch) == cap(batch) || i == first+n-1 {
			out = append(out, ex.Write(batch)...)
			batch = batch[:0]
		}
	}
	return out
}

// withoutCollectorContext removes from a document (ECS) or HEC event
// object what depends on the collector that read the event rather than on
// the event: the resource's os.* and service.* attributes and the
// receiver's log.file.* fields.
func withoutCollectorContext(m map[string]any) map[string]any {
	delete(m, "os")
	delete(m, "service")
	if l, ok := m["log"].(map[string]any); ok {
		delete(l, "file")
	}
	return m
}

func eachEventID(t *testing.T, path string, fn func(id string)) {
	t.Helper()
	eachEvent(t, path, func(ev *wineventlog.Event) { fn(mapping.Fingerprint(ev)) })
}
