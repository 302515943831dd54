//go:build linux

package e2e

import (
	"path/filepath"
	"testing"
	"time"
)

const crashEvents = 100_000

// TestKillDuringIngest kills the collector with SIGKILL while it is
// sending 100,000 events, with the receiver's checkpoints and both
// exporters' persistent queues in one file_storage, and starts it again
// with the same config: every event is stored exactly once by the bulk
// test server (one document per _id; repeats are answered 409), at least
// once by the HEC peer, and none is missing.
func TestKillDuringIngest(t *testing.T) {
	slow(t)
	collector, esbulk := binaries(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	mkdir(t, in)
	input := filepath.Join(in, "events.xml")
	generate(t, input, crashEvents)
	want := expectIDs(t, input)
	if len(want) != crashEvents {
		t.Fatalf("the generated input has %d distinct event ids, want %d", len(want), crashEvents)
	}

	es := startES(t, esbulk, dir, freeAddr(t), "-api-key", esAPIKey, "-discard-sources")
	peerBin, peerSkip := hecPeerBin(t)
	var peer *hecPeerProc
	if peerBin != "" {
		peer = startHECPeer(t, peerBin, dir)
	}
	p := pipeline{
		include:          filepath.Join(in, "*"),
		stateDir:         filepath.Join(dir, "state"),
		persistentQueues: true,
		esURL:            es.url,
		deadLetterDir:    dir,
	}
	if peer != nil {
		p.hecURL = peer.url
	}
	conf := filepath.Join(dir, "collector.yaml")
	writeFile(t, conf, p.yaml())

	start := time.Now()
	c := startProc(t, "collector", dir, dir, nil, collector, "--config", conf)
	// Kill it once a tenth has been stored, while the rest is in the
	// file, the receiver, the queues or on the wire.
	waitFor(t, 2*time.Minute, "the first documents to be stored", func() bool {
		c.alive()
		return es.stats(t).Created >= crashEvents/10
	})
	c.kill()
	atKill := es.stats(t)
	var hecAtKill int
	var hec idCounter
	if peer != nil {
		hec.peer = peer
		hecAtKill = hec.update(t)
	}
	t.Logf("SIGKILL after %s: %d documents stored, %d events at the HEC peer", time.Since(start).Round(time.Millisecond), atKill.Created, hecAtKill)
	if atKill.Created >= crashEvents {
		t.Fatalf("every document was stored before the kill; the test proves nothing")
	}

	restart := time.Now()
	c = startProc(t, "collector", dir, dir, nil, collector, "--config", conf)
	waitSettled(t, 3*time.Minute, 3*time.Second, "documents stored after the restart", crashEvents, func() int {
		c.alive()
		return int(es.stats(t).Created)
	})
	if peer != nil {
		waitSettledEvery(t, 3*time.Minute, 4*time.Second, time.Second, "events at the HEC peer", crashEvents, func() int {
			c.alive()
			return hec.update(t)
		})
	}
	c.stop(30 * time.Second)
	t.Logf("after the restart, all delivered in %s", time.Since(restart).Round(time.Millisecond))

	t.Run("elasticsearch_exactly_once", func(t *testing.T) {
		st := es.stats(t)
		docs := es.docs(t, dataStream)
		missing := len(want)
		for _, d := range docs {
			if want[d.ID] {
				missing--
			} else {
				t.Errorf("document %s is not one of the input events", d.ID)
			}
		}
		t.Logf("bulk test server: %d created, %d answered 409 (sent again after the kill), %d other item errors",
			st.Created, st.Conflicts, st.ItemErrors-st.Conflicts)
		if st.Created != crashEvents || len(docs) != crashEvents || missing != 0 {
			t.Errorf("%d created, %d stored, %d input events missing; want %d created and stored, none missing",
				st.Created, len(docs), missing, crashEvents)
		}
		if other := st.ItemErrors - st.Conflicts; other != 0 {
			t.Errorf("%d bulk items failed with errors other than 409", other)
		}
	})

	t.Run("splunk_hec_at_least_once", func(t *testing.T) {
		if peer == nil {
			t.Skip(peerSkip)
		}
		hec.update(t)
		missing, dups := 0, 0
		for id := range want {
			switch n := hec.ids[id]; {
			case n == 0:
				missing++
			case n > 1:
				dups += n - 1
			}
		}
		for id := range hec.ids {
			if !want[id] {
				t.Errorf("the peer stored event %q, which is not in the input", id)
			}
		}
		t.Logf("HEC peer: %d events stored, %d of them repeats (sent again after the kill)", hec.total, dups)
		if missing != 0 {
			t.Errorf("%d of %d events never reached the HEC peer", missing, crashEvents)
		}
	})
}
