//go:build linux

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	outage         = 60 * time.Second
	outageEvents   = 100_000
	anonLimitBytes = 256 << 20
)

// TestBackendOutage runs the shipped config/elasticsearch.yaml while
// Elasticsearch is down for a minute, then brings it up: nothing is lost,
// and the collector's resident memory stays bounded while 100,000 events
// wait in the input file, the receiver and the persistent queue.
func TestBackendOutage(t *testing.T) {
	slow(t)
	t.Parallel()
	collector, esbulk := binaries(t)
	root := moduleRoot(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "exports")
	mkdir(t, in)
	input := filepath.Join(in, "events.xml")
	generate(t, input, outageEvents)
	want := expectIDs(t, input)

	esAddr := freeAddr(t)
	env := []string{
		"ES_ENDPOINT=http://" + esAddr,
		"ES_API_KEY=" + esAPIKey,
		"INTUNE_STATE_DIR=" + filepath.Join(dir, "state"),
		"INTUNE_EXPORTS=" + in,
	}
	c := startProc(t, "collector", dir, dir, env, collector,
		"--config", filepath.Join(root, "config", "elasticsearch.yaml"),
		// Free ports instead of the config's fixed ones, so that
		// parallel runs do not collide.
		"--set=extensions::health_check::endpoint="+freeAddr(t),
		"--set=service::telemetry::metrics::level=none")

	// The limit is on anonymous memory (heap, stacks): the file_storage
	// extension maps its database file, and the pages of that file it has
	// touched count in RSS as page cache that the kernel can drop, growing
	// with the backlog on disk rather than with what the collector holds.
	var peak, peakAnon int64
	sample := func() {
		c.alive()
		rss, anon, _, err := c.memory()
		if err != nil {
			t.Fatalf("reading the collector's memory: %v", err)
		}
		peak = max(peak, rss)
		peakAnon = max(peakAnon, anon)
	}
	started := time.Now()
	for time.Since(started) < outage {
		sample()
		time.Sleep(250 * time.Millisecond)
	}
	if !strings.Contains(c.log(), "not reachable") {
		t.Errorf("the collector did not log that Elasticsearch is not reachable")
	}
	// The kernel's high-water mark so far covers the whole outage, not
	// only the samples.
	_, _, hwmOutage, err := c.memory()
	if err != nil {
		t.Fatal(err)
	}
	peakOutage := max(peak, hwmOutage)
	anonOutage := peakAnon
	t.Logf("outage of %s over: peak RSS %.1f MiB, of it anonymous %.1f MiB", outage, float64(peakOutage)/1024, float64(anonOutage)/1024)

	up := time.Now()
	es := startES(t, esbulk, dir, esAddr, "-api-key", esAPIKey, "-discard-sources")
	deadline := time.Now().Add(3 * time.Minute)
	last, since := int64(-1), time.Now()
	for {
		sample()
		n := es.stats(t).Created
		if n != last {
			last, since = n, time.Now()
		} else if n >= outageEvents && time.Since(since) > 3*time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d documents stored 3 minutes after Elasticsearch came back", n, outageEvents)
		}
		time.Sleep(250 * time.Millisecond)
	}
	_, _, hwm, err := c.memory()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("all %d documents stored %s after Elasticsearch came up; peak RSS %.1f MiB during the outage, %.1f MiB over the whole run (sending the backlog)",
		outageEvents, time.Since(up).Round(time.Millisecond), float64(peakOutage)/1024, float64(max(peak, hwm))/1024)
	c.stop(30 * time.Second)

	st := es.stats(t)
	docs := es.docs(t, dataStream)
	missing := len(want)
	for _, d := range docs {
		if want[d.ID] {
			missing--
		}
	}
	if st.Created != outageEvents || len(docs) != outageEvents || missing != 0 {
		t.Errorf("%d created, %d stored, %d input events missing; want all %d exactly once", st.Created, len(docs), missing, outageEvents)
	}
	if st.ItemErrors != st.Conflicts {
		t.Errorf("%d bulk items failed with errors other than 409", st.ItemErrors-st.Conflicts)
	}
	if anonOutage*1024 > anonLimitBytes {
		t.Errorf("peak anonymous RSS %.1f MiB during the outage, want under %d MiB (records held by the exporter's in-flight batches and the receiver)",
			float64(anonOutage)/1024, anonLimitBytes>>20)
	}
}
