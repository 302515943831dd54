//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// TestSamplesToBackends sends the sample exports through the collector to
// the Elasticsearch bulk test server and the real HEC peer, and compares
// every event that arrived with what the mapping projections give for the
// same file (what `intunectl convert --to ecs|hec` prints).
func TestSamplesToBackends(t *testing.T) {
	collector, esbulk := binaries(t)
	root := moduleRoot(t)
	dir := t.TempDir()
	samples, err := filepath.Glob(filepath.Join(root, "testdata", "samples", "*"))
	if err != nil || len(samples) == 0 {
		t.Fatalf("no sample exports in testdata/samples: %v", err)
	}
	hecOpts := mapping.HECOptions{Index: "intune", Sourcetype: "intune:connector:event"}
	want := expectRecords(t, hecOpts, mapping.ECSOptions{DataStream: true}, samples...)
	if len(want) != sampleEvents {
		t.Fatalf("the samples hold %d events, want %d", len(want), sampleEvents)
	}
	distinct := map[string]bool{}
	for k := range want {
		distinct[k.id] = true
	}

	start := time.Now()
	es := startES(t, esbulk, dir, freeAddr(t), "-api-key", esAPIKey)
	peerBin, peerSkip := hecPeerBin(t)
	var peer *hecPeerProc
	if peerBin != "" {
		peer = startHECPeer(t, peerBin, dir)
	}
	p := pipeline{include: filepath.Join(root, "testdata", "samples", "*"), stateDir: filepath.Join(dir, "state"), esURL: es.url, deadLetterDir: dir}
	if peer != nil {
		p.hecURL = peer.url
	}
	conf := filepath.Join(dir, "collector.yaml")
	writeFile(t, conf, p.yaml())
	c := startProc(t, "collector", dir, dir, nil, collector, "--config", conf)

	// Every sample event is one bulk item: created, or 409 when the same
	// event came first from another export of it.
	waitSettled(t, 90*time.Second, 2*time.Second, "bulk items answered", sampleEvents, func() int {
		c.alive()
		st := es.stats(t)
		return int(st.Created + st.Conflicts)
	})
	if peer != nil {
		waitSettled(t, 60*time.Second, 2*time.Second, "events at the HEC peer", sampleEvents, func() int { return peer.receivedCount(t) })
	}
	c.stop(30 * time.Second)
	t.Logf("delivered in %s", time.Since(start).Round(time.Millisecond))

	t.Run("elasticsearch", func(t *testing.T) {
		st := es.stats(t)
		if st.Created != int64(len(distinct)) || st.Conflicts != int64(sampleEvents-len(distinct)) || st.ItemErrors != st.Conflicts {
			t.Errorf("bulk test server: %d created, %d conflicts, %d item errors; want %d created (one per distinct event.id) and %d conflicts (the same events from other exports), no other errors",
				st.Created, st.Conflicts, st.ItemErrors, len(distinct), sampleEvents-len(distinct))
		}
		docs := es.docs(t, dataStream)
		if len(docs) != len(distinct) {
			t.Fatalf("%d documents in %s, want %d", len(docs), dataStream, len(distinct))
		}
		bad := 0
		for _, d := range docs {
			var got map[string]any
			if err := json.Unmarshal(d.Source, &got); err != nil {
				t.Fatalf("document %s: %v", d.ID, err)
			}
			if id := str(got, "event", "id"); id != d.ID {
				t.Errorf("document _id %s has event.id %s", d.ID, id)
			}
			k := recordKey{str(got, "log", "file", "name"), d.ID}
			w, ok := want[k]
			if !ok {
				t.Errorf("document %s names file %q, which has no such event", d.ID, k.file)
				continue
			}
			if diff := compareJSON(withoutCollectorContext(got), withoutCollectorContext(clone(w.ecs))); diff != "" && bad < 5 {
				bad++
				t.Errorf("document %s from %s differs from the ECS projection: %s", d.ID, k.file, diff)
			}
			delete(distinct, d.ID)
		}
		if len(distinct) > 0 {
			t.Errorf("%d events never reached Elasticsearch", len(distinct))
		}
	})

	t.Run("splunk_hec", func(t *testing.T) {
		if peer == nil {
			t.Skip(peerSkip)
		}
		seen := map[recordKey]bool{}
		bad := 0
		peer.received(t, func(e hecEvent) {
			k := recordKey{str(e.event, "log", "file", "name"), e.id()}
			w, ok := want[k]
			switch {
			case !ok:
				t.Errorf("the peer stored event %q from %q, which is not in the samples", k.id, k.file)
				return
			case seen[k]:
				t.Errorf("the peer stored event %s from %s twice", k.id, k.file)
				return
			}
			seen[k] = true
			if diff := compareHEC(e, w.hec); diff != "" && bad < 5 {
				bad++
				t.Errorf("event %s from %s differs from the HEC projection: %s", k.id, k.file, diff)
			}
		})
		if len(seen) != sampleEvents {
			t.Errorf("the peer stored %d distinct events, want %d", len(seen), sampleEvents)
		}
	})
}

// compareHEC checks what the peer stored against the HEC event object: the
// structured event, the index-time fields, host/source/sourcetype/index and
// the time to the microsecond.
func compareHEC(got hecEvent, want map[string]any) string {
	wantEvent, _ := clone(want)["event"].(map[string]any)
	if diff := compareJSON(withoutCollectorContext(clone(got.event)), withoutCollectorContext(wantEvent)); diff != "" {
		return "event: " + diff
	}
	if diff := compareJSON(got.fields, want["fields"]); diff != "" {
		return "fields: " + diff
	}
	for k, attr := range map[string]string{"host": "host.name", "source": "com.splunk.source", "sourcetype": "com.splunk.sourcetype", "index": "com.splunk.index"} {
		if got.resource[attr] != want[k] {
			return fmt.Sprintf("%s stored as %v, sent %v", k, got.resource[attr], want[k])
		}
	}
	wt, _ := want["time"].(float64)
	if d := math.Abs(float64(got.time.UnixNano())/1e9 - wt); d > 2e-6 {
		return fmt.Sprintf("time stored %s, want %f", got.time, wt)
	}
	return ""
}

// compareJSON compares two decoded JSON values after a round trip through
// encoding/json, so that numbers compare as numbers whatever their Go type.
func compareJSON(got, want any) string {
	g, w := normalize(got), normalize(want)
	if reflect.DeepEqual(g, w) {
		return ""
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return fmt.Sprintf("\n got %s\nwant %s", gb, wb)
}

func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func clone(m map[string]any) map[string]any {
	var out map[string]any
	b, _ := json.Marshal(m)
	_ = json.Unmarshal(b, &out)
	return out
}
