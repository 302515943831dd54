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

	t.Run("elasticsearch_exactly_once", func(t *testing.T) { assertStoredOnce(t, es, want) })
	t.Run("splunk_hec_at_least_once", func(t *testing.T) {
		if peer == nil {
			t.Skip(peerSkip)
		}
		assertAtLeastOnce(t, &hec, want)
	})
}
