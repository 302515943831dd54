//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDamagedAndUnreadableInput puts damaged and unreadable entries among
// good exports in the input folder: each is logged (and counted where the
// receiver has a counter for it), and every good event is delivered.
func TestDamagedAndUnreadableInput(t *testing.T) {
	slow(t)
	t.Parallel()
	collector, esbulk := binaries(t)
	root := moduleRoot(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	pristine := filepath.Join(dir, "pristine")
	mkdir(t, in)
	mkdir(t, pristine)
	want := map[string]bool{}
	add := func(ids []string) {
		for _, id := range ids {
			want[id] = true
		}
	}

	// Good exports, copied from the samples (distinct events).
	for _, name := range []string{"real-ndes-admin.evtx", "legacy.ps7.json", "current-operational.compress.jsonl"} {
		b, err := os.ReadFile(filepath.Join(root, "testdata", "samples", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(in, name), string(b))
		add(orderedIDs(t, filepath.Join(in, name)))
	}

	// Damaged files are made from generated events that occur nowhere
	// else, so each good event around the damage is checked by its id.
	// damage writes an export of n events with event k cut in half
	// (k == n-1: the file ends inside it).
	damage := func(name, export string, first, n, k int) {
		b := exportEvents(t, export, first, n)
		writeFile(t, filepath.Join(pristine, name), string(b))
		ids := orderedIDs(t, filepath.Join(pristine, name))
		starts := eventStarts(b, export)
		if len(ids) != n || len(starts) != n {
			t.Fatalf("%s: %d events generated, %d found, want %d", name, len(ids), len(starts), n)
		}
		end := len(b)
		if k+1 < n {
			end = starts[k+1]
		}
		out := append([]byte(nil), b[:starts[k]+(end-starts[k])/2]...)
		if k+1 < n {
			out = append(out, "\r\n"...)
			out = append(out, b[end:]...)
		}
		writeFile(t, filepath.Join(in, name), string(out))
		add(append(ids[:k:k], ids[k+1:]...))
	}
	damage("damaged-middle.xml", "wevtutil", 10_000, 200, 100)
	damage("truncated-tail.xml", "wevtutil", 20_000, 200, 199)
	damage("damaged-middle.jsonl", "compress", 30_000, 100, 50)

	// Binary junk: neither EVTX, XML nor JSON.
	junk := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	writeFile(t, filepath.Join(in, "junk.bin"), string(junk))
	// An empty file and a directory the glob matches: nothing to read,
	// nothing to report. A dangling symlink: reported once, as an entry
	// that cannot be opened.
	writeFile(t, filepath.Join(in, "empty.xml"), "")
	mkdir(t, filepath.Join(in, "subdir.xml"))
	symlink(t, filepath.Join(dir, "no-such-export.xml"), filepath.Join(in, "dangling.xml"))
	// Two symlinks pointing at each other cannot be opened, even by root.
	symlink(t, filepath.Join(in, "loop-b.xml"), filepath.Join(in, "loop-a.xml"))
	symlink(t, filepath.Join(in, "loop-a.xml"), filepath.Join(in, "loop-b.xml"))
	// A file without read permission: only unreadable when not root.
	unreadable := os.Geteuid() != 0
	if unreadable {
		writeFile(t, filepath.Join(in, "no-permission.xml"), string(exportEvents(t, "wevtutil", 40_000, 10)))
		if err := os.Chmod(filepath.Join(in, "no-permission.xml"), 0); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("running as root: chmod 000 does not stop root from reading, so the permission case is left out (the symlink loop stands in for an entry that cannot be opened)")
	}

	es := startES(t, esbulk, dir, freeAddr(t), "-api-key", esAPIKey, "-discard-sources")
	metricsAddr := freeAddr(t)
	p := pipeline{
		include:       filepath.Join(in, "*"),
		stateDir:      filepath.Join(dir, "state"),
		esURL:         es.url,
		deadLetterDir: dir,
		metricsAddr:   metricsAddr,
	}
	conf := filepath.Join(dir, "collector.yaml")
	writeFile(t, conf, p.yaml())
	start := time.Now()
	c := startProc(t, "collector", dir, dir, nil, collector, "--config", conf)
	waitSettled(t, 90*time.Second, 3*time.Second, "documents stored", len(want), func() int {
		c.alive()
		return int(es.stats(t).Created)
	})
	t.Logf("%d good events stored after %s", len(want), time.Since(start).Round(time.Millisecond))

	// A file that ends inside an event is reported once it has not grown
	// for 30 s: wait for the counters to show every damage.
	// unknown: the binary junk, and each entry that cannot be opened (the
	// two looping symlinks, the dangling one, and the file without
	// permission when not root), each counted once however many polls fail
	// on it.
	unknown := 4.0
	if unreadable {
		unknown++
	}
	wantErrs := map[string]float64{"xml": 2, "json": 1, "unknown": unknown}
	metricsURL := "http://" + metricsAddr + "/metrics"
	var m map[string]float64
	waitFor(t, 90*time.Second, "decode errors to be counted", func() bool {
		c.alive()
		m = metrics(t, metricsURL)
		for format, n := range wantErrs {
			if m[fmt.Sprintf(`otelcol_intune_receiver_decode_errors{format=%q}`, format)] < n {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // another poll or two: nothing more may come
	m = metrics(t, metricsURL)
	log := c.log()
	c.stop(30 * time.Second)
	t.Logf("all damage reported after %s", time.Since(start).Round(time.Millisecond))

	for format, n := range wantErrs {
		key := fmt.Sprintf(`otelcol_intune_receiver_decode_errors{format=%q}`, format)
		if m[key] != n {
			t.Errorf("%s = %v, want %v", key, m[key], n)
		}
	}
	if got := sum(m, "otelcol_intune_receiver_events_emitted"); got != float64(len(want)) {
		t.Errorf("otelcol_intune_receiver_events_emitted = %v, want %d", got, len(want))
	}

	checks := []struct {
		name, msg, file string
	}{
		{"damaged XML event", "damaged event passed over", "damaged-middle.xml"},
		{"damaged JSON event", "damaged event passed over", "damaged-middle.jsonl"},
		{"file ending inside an event", "file ends inside an event and has not grown", "truncated-tail.xml"},
		{"binary junk", "file is not an event export this receiver reads", "junk.bin"},
		{"symlink loop", "cannot open file", "loop-a.xml"},
		{"dangling symlink", "symbolic link to a file that does not exist", "dangling.xml"},
	}
	if unreadable {
		checks = append(checks, struct{ name, msg, file string }{"no read permission", "cannot open file", "no-permission.xml"})
	}
	for _, tt := range checks {
		if !logHas(log, tt.msg, tt.file) {
			t.Errorf("%s: no log line %q naming %s", tt.name, tt.msg, tt.file)
		}
	}

	st := es.stats(t)
	docs := es.docs(t, dataStream)
	missing := len(want)
	for _, d := range docs {
		if want[d.ID] {
			missing--
		} else {
			t.Errorf("stored document %s is not one of the good events", d.ID)
		}
	}
	if missing != 0 || st.Created != int64(len(want)) {
		t.Errorf("%d created, %d good events missing; want all %d", st.Created, missing, len(want))
	}
}

// TestFIFOInInputFolder puts a named pipe that nobody writes to among the
// exports: the receiver must pass over it, read the other files, and stop
// on SIGTERM.
func TestFIFOInInputFolder(t *testing.T) {
	t.Parallel()
	collector, esbulk := binaries(t)
	root := moduleRoot(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	mkdir(t, in)
	// Sorted before the good file, so a receiver stuck on it never gets
	// to the good one.
	if err := syscall.Mkfifo(filepath.Join(in, "a-pipe.xml"), 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(root, "testdata", "samples", "legacy.ps7.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(in, "b-legacy.ps7.json"), string(b))
	want := len(orderedIDs(t, filepath.Join(in, "b-legacy.ps7.json")))

	es := startES(t, esbulk, dir, freeAddr(t), "-api-key", esAPIKey, "-discard-sources")
	conf := filepath.Join(dir, "collector.yaml")
	writeFile(t, conf, pipeline{include: filepath.Join(in, "*"), esURL: es.url}.yaml())
	c := startProc(t, "collector", dir, dir, nil, collector, "--config", conf)
	deadline := time.Now().Add(30 * time.Second)
	for es.stats(t).Created < int64(want) && time.Now().Before(deadline) {
		c.alive()
		time.Sleep(100 * time.Millisecond)
	}
	if n := es.stats(t).Created; n != int64(want) {
		t.Errorf("%d of the %d events of the good file stored after 30 s: the receiver is stuck on the FIFO (opening a FIFO blocks until a writer opens it; check the entry is a regular file before opening it, or open with O_NONBLOCK)", n, want)
	}
	c.stop(15 * time.Second)
}

// eventStarts returns the byte offsets where the events of a generated
// export start: each <Event> element of a wevtutil export (whose events may
// span lines), each line of a compressed JSON one.
func eventStarts(b []byte, export string) []int {
	sep := []byte("<Event xmlns=")
	if export == "compress" {
		sep = []byte("{")
	}
	var out []int
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], sep)
		if i < 0 {
			break
		}
		out = append(out, off+i)
		if export == "compress" {
			nl := bytes.IndexByte(b[off+i:], '\n')
			if nl < 0 {
				break
			}
			off += i + nl + 1
			continue
		}
		off += i + len(sep)
	}
	return out
}

// orderedIDs returns the event.id of every event in a file, in file order.
func orderedIDs(t *testing.T, path string) []string {
	t.Helper()
	var ids []string
	eachEventID(t, path, func(id string) { ids = append(ids, id) })
	return ids
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// logHas reports whether one line of the collector's log holds both msg and
// the file name.
func logHas(log, msg, file string) bool {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, msg) && strings.Contains(l, file) {
			return true
		}
	}
	return false
}
