package intuneconnectorreceiver

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/checkpoint"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/fileid"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// eventLines returns the wevtutil text of events [from, from+n), one
// element per event (an event's text may hold line breaks of its own).
func eventLines(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = wevtutilXML(from+i, 1)
	}
	return out
}

// A directory of 100 files, some corrupt: every good event arrives once,
// each damage is counted, and the receiver goes on reading.
func TestDirectoryOf100Files(t *testing.T) {
	dir := t.TempDir()
	want := map[string]bool{}
	evtxData, err := os.ReadFile(filepath.Join(samplesDir, "real-ndes-admin.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	ps7, err := eventgen.ExportByName("ps7")
	if err != nil {
		t.Fatal(err)
	}
	wantErrors := 0
	for i := range 100 {
		name := fmt.Sprintf("f%03d.xml", i)
		base := 1000 * i
		var data []byte
		switch {
		case i == 19:
			// Empty: nothing yet, no error.
		case i == 29:
			// EVTX with a damaged chunk: the records around it arrive.
			name = fmt.Sprintf("f%03d.evtx", i)
			data = bytes.Clone(evtxData)
			for k := 4096 + 65536 + 20000; k < 4096+65536+20400 && k < len(data); k++ {
				data[k] ^= 0x5A
			}
		case i%10 == 3:
			name = fmt.Sprintf("f%03d.txt", i)
			data = []byte("this is a note about the exports, not an export\n")
			wantErrors++
		case i%10 == 5:
			// The fifth event is cut off; a new one starts before it ends.
			lines := eventLines(base, 10)
			lines[4] = lines[4][:len(lines[4])/2]
			data = bytes.Join(lines, nil)
			want = wantKeys(want, name, base, 4)
			want = wantKeys(want, name, base+5, 5)
			wantErrors++
		case i%10 == 7:
			// The file ends in the middle of its last event.
			lines := eventLines(base, 10)
			lines[9] = lines[9][:len(lines[9])/2]
			data = bytes.Join(lines, nil)
			want = wantKeys(want, name, base, 9)
			wantErrors++
		case i%10 == 1:
			name = fmt.Sprintf("f%03d.json", i)
			evs := make([]wineventlog.Event, 10)
			for k := range evs {
				evs[k] = genEvent(base + k)
			}
			data = ps7.Write(evs)
			want = wantKeys(want, name, base, 10)
		default:
			data = wevtutilXML(base, 10)
			want = wantKeys(want, name, base, 10)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// What the EVTX reader recovers from the damaged file is the truth for
	// that file.
	damaged := filepath.Join(dir, "f029.evtx")
	f, err := eventfile.Open(damaged, eventfile.Options{NoOriginal: true})
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := f.Next()
		if err != nil {
			if _, ok := err.(*wineventlog.DecodeError); ok {
				wantErrors++
				continue
			}
			break
		}
		want["f029.evtx#"+uitoa(rec.Event.RecordID)] = true
	}
	f.Close()

	got := &recorded{}
	s := startReceiver(t, testConfig(dir), got, nopHost(), func(r *intuneReceiver) { r.tailTimeout = 50 * time.Millisecond })
	waitFor(t, "good events", func() bool { return got.count() >= len(want) })
	waitFor(t, fmt.Sprintf("%d damages counted", wantErrors), func() bool {
		n := s.counter(t, "otelcol_intune_receiver_decode_errors")
		return n >= int64(wantErrors)
	})
	s.settled(t)
	checkExactlyOnce(t, got.snapshot(), want)
	if n := s.counter(t, "otelcol_intune_receiver_decode_errors"); n != int64(wantErrors) {
		t.Errorf("decode_errors = %d, want %d", n, wantErrors)
	}

	// Still reading: the empty file gets events.
	appendFile(t, filepath.Join(dir, "f019.xml"), wevtutilXML(19000, 3))
	want = wantKeys(want, "f019.xml", 19000, 3)
	waitFor(t, "events in the once empty file", func() bool { return got.count() >= len(want) })
	checkExactlyOnce(t, got.snapshot(), want)
}

// A file written while it is read, cut at arbitrary bytes (inside events,
// inside UTF-8 sequences), gives every event once and no damage.
func TestGrowingFile(t *testing.T) {
	compress, err := eventgen.ExportByName("compress")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data func(from, n int) []byte
	}{
		{name: "wevtutil.xml", data: wevtutilXML},
		{name: "compress.jsonl", data: func(from, n int) []byte {
			evs := make([]wineventlog.Event, n)
			for k := range evs {
				evs[k] = eventgen.Rendered(testCat, genEvent(from+k))
			}
			return compress.Write(evs)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.name)
			const n = 400
			data := tt.data(0, n)
			got := &recorded{}
			s := startReceiver(t, testConfig(dir), got, nopHost())
			rng := rand.New(rand.NewPCG(1, 2))
			for off := 0; off < len(data); {
				step := min(len(data)-off, 1+rng.IntN(3000))
				appendFile(t, path, data[off:off+step])
				off += step
				time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
			}
			waitFor(t, "all events", func() bool { return got.count() >= n })
			s.settled(t)
			checkExactlyOnce(t, got.snapshot(), wantKeys(nil, tt.name, 0, n))
			if e := s.counter(t, "otelcol_intune_receiver_decode_errors"); e != 0 {
				t.Errorf("decode_errors = %d for a file that was only growing", e)
			}
		})
	}
}

// Rotation, truncation, rewriting and replacement: the events of both
// generations of the file arrive, once.
func TestReplacedFile(t *testing.T) {
	tests := []struct {
		name string
		// change acts on dir/a.xml, which holds events 0..49, and returns
		// the events (from, n) it wrote.
		change func(t *testing.T, dir, path string) [][2]int
	}{
		{name: "rotated by rename, old file still written", change: func(t *testing.T, dir, path string) [][2]int {
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			appendFile(t, path+".1", wevtutilXML(50, 5))
			appendFile(t, path, wevtutilXML(1000, 30))
			return [][2]int{{50, 5}, {1000, 30}}
		}},
		{name: "copy and truncate", change: func(t *testing.T, dir, path string) [][2]int {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			appendFile(t, path, wevtutilXML(1000, 20))
			return [][2]int{{1000, 20}}
		}},
		{name: "truncated and rewritten longer", change: func(t *testing.T, dir, path string) [][2]int {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(wevtutilXML(2000, 100)); err != nil {
				t.Fatal(err)
			}
			f.Close()
			return [][2]int{{2000, 100}}
		}},
		{name: "deleted and created again", change: func(t *testing.T, dir, path string) [][2]int {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			appendFile(t, path, wevtutilXML(3000, 20))
			return [][2]int{{3000, 20}}
		}},
		{name: "replaced by rename", change: func(t *testing.T, dir, path string) [][2]int {
			tmp := filepath.Join(t.TempDir(), "new.xml")
			appendFile(t, tmp, wevtutilXML(4000, 20))
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
			return [][2]int{{4000, 20}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.xml")
			appendFile(t, path, wevtutilXML(0, 50))
			cfg := testConfig(dir)
			cfg.IncludeFileName = false // the key is the record ID alone
			got := &recorded{}
			s := startReceiver(t, cfg, got, nopHost())
			waitFor(t, "first generation", func() bool { return got.count() >= 50 })
			want := wantKeys(nil, "", 0, 50)
			for _, w := range tt.change(t, dir, path) {
				want = wantKeys(want, "", w[0], w[1])
			}
			waitFor(t, "second generation", func() bool { return got.count() >= len(want) })
			s.settled(t)
			checkExactlyOnce(t, got.snapshot(), want)
		})
	}
}

// pollStepper makes the file source poll only when told.
type pollStepper struct {
	t            *testing.T
	polled, next chan struct{}
}

func newPollStepper(t *testing.T) *pollStepper {
	return &pollStepper{t: t, polled: make(chan struct{}), next: make(chan struct{})}
}

// tweak installs the stepper in a receiver before it starts.
func (p *pollStepper) tweak(r *intuneReceiver) {
	r.betweenPolls = func(ctx context.Context) bool {
		select {
		case p.polled <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		select {
		case <-p.next:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// done waits for the poll under way to end; start begins the next one.
func (p *pollStepper) done() {
	p.t.Helper()
	select {
	case <-p.polled:
	case <-time.After(20 * time.Second):
		p.t.Fatal("timed out waiting for a poll to end")
	}
}

func (p *pollStepper) start() {
	p.t.Helper()
	select {
	case p.next <- struct{}{}:
	case <-time.After(20 * time.Second):
		p.t.Fatal("timed out waiting for the file source to wait for a poll")
	}
}

// free lets polls run on their own, after the one done waited for, until
// the test ends.
func (p *pollStepper) free() {
	stop := make(chan struct{})
	p.t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case p.next <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case <-p.polled:
			case <-stop:
				return
			}
		}
	}()
}

// A file renamed while a poll lists the folder is missing from that one
// poll. It keeps its checkpoint, even while the batch that set it is still
// in the pipeline (and so not yet stored): its events are not read again
// under the new name. Polls are stepped, and the pipeline holds the first
// batch, so that the order of events is the one that delivered records
// 0..49 twice on a busy machine.
func TestRenamedFileMissingFromOnePoll(t *testing.T) {
	dir, aside := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "a.xml")
	appendFile(t, path, wevtutilXML(0, 50))
	cfg := testConfig(dir)
	cfg.IncludeFileName = false
	cfg.MaxBatchDelay = time.Minute // one batch per poll, however slow the machine
	release := make(chan struct{})
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	defer releaseAll() // a failed test must not leave the pipeline blocked
	got := &recorded{fail: func(call int) error {
		if call == 1 {
			<-release // the first batch's checkpoint is not stored yet
		}
		return nil
	}}
	step := newPollStepper(t)
	s := startReceiver(t, cfg, got, nopHost(), step.tweak)
	step.done()
	waitFor(t, "the first batch in the pipeline", func() bool { return got.calls() >= 1 })

	// The rename lands between the listing of one poll and the next.
	if err := os.Rename(path, filepath.Join(aside, "a.xml")); err != nil {
		t.Fatal(err)
	}
	step.start()
	step.done()
	if err := os.Rename(filepath.Join(aside, "a.xml"), path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", wevtutilXML(50, 5))
	appendFile(t, path, wevtutilXML(1000, 30))
	step.start()
	releaseAll()
	step.done()
	want := wantKeys(wantKeys(wantKeys(nil, "", 0, 50), "", 50, 5), "", 1000, 30)
	waitFor(t, "both files", func() bool { return got.count() >= len(want) })
	step.free()
	s.settled(t)
	checkExactlyOnce(t, got.snapshot(), want)
}

// A file missing from forgetAfter polls in a row is taken for deleted; one
// missing from fewer keeps its checkpoint.
func TestForgetAfterMissingPolls(t *testing.T) {
	dir, aside := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "a.xml")
	appendFile(t, path, wevtutilXML(0, 10))
	step := newPollStepper(t)
	got := &recorded{}
	s := startReceiver(t, testConfig(dir), got, nopHost(), step.tweak)
	step.done()
	waitFor(t, "the checkpoint", func() bool { return storedCheckpoint(t, s.r, path) != nil })
	moved := filepath.Join(aside, "a.xml")
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	for range forgetAfter - 1 {
		step.start()
		step.done()
	}
	if n := len(s.r.files.states); n != 1 {
		t.Fatalf("%d files known after %d polls without the file, want it kept", n, forgetAfter-1)
	}
	step.start()
	step.done()
	if n := len(s.r.files.states); n != 0 {
		t.Fatalf("%d files known after %d polls without the file, want it forgotten", n, forgetAfter)
	}
	if err := os.Rename(moved, path); err != nil {
		t.Fatal(err)
	}
	step.free()
	s.settled(t)
	// Back after it was forgotten, the file is a new one.
	checkExactlyOnce(t, got.snapshot()[:10], wantKeys(nil, "a.xml", 0, 10))
	if got.count() != 20 {
		t.Errorf("%d records, want the 10 events twice: once, and again after the file was forgotten", got.count())
	}
}

// A deleted file's checkpoint is removed, and its reader stops cleanly.
func TestDeletedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.xml")
	appendFile(t, path, wevtutilXML(0, 20))
	got := &recorded{}
	s := startReceiver(t, testConfig(dir), got, nopHost())
	waitFor(t, "events", func() bool { return got.count() >= 20 })
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	key := checkpoint.Key(fileid.Of(f, fi, path))
	f.Close()
	waitFor(t, "checkpoint", func() bool { return storedCheckpoint(t, s.r, path) != nil })
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "checkpoint removal", func() bool {
		v, _ := s.r.client.Get(context.Background(), key)
		return v == nil
	})
	s.settled(t)
	if got.count() != 20 {
		t.Errorf("%d records, want 20", got.count())
	}
}

// start_at: end skips what files hold at the first poll, but reads files
// that appear later from their beginning, and appended data.
func TestStartAtEnd(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.xml")
	appendFile(t, old, wevtutilXML(0, 20))
	cfg := testConfig(dir)
	cfg.StartAt = StartAtEnd
	got := &recorded{}
	s := startReceiver(t, cfg, got, nopHost())
	waitFor(t, "checkpoint at the end", func() bool { return storedCheckpoint(t, s.r, old) != nil })
	appendFile(t, old, wevtutilXML(20, 5))
	appendFile(t, filepath.Join(dir, "new.xml"), wevtutilXML(100, 7))
	want := wantKeys(wantKeys(nil, "old.xml", 20, 5), "new.xml", 100, 7)
	waitFor(t, "new events", func() bool { return got.count() >= len(want) })
	s.settled(t)
	checkExactlyOnce(t, got.snapshot(), want)
}

// An EVTX file that Windows rewrites in place with more records is read on
// by record number: the new records arrive, the old ones do not repeat.
func TestEVTXRewrittenInPlace(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(samplesDir, "real-ndes-admin.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	const header, chunk = 4096, 65536
	if len(full) < header+12*chunk {
		t.Skip("sample EVTX is smaller than expected")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.evtx")
	partial := full[:header+10*chunk]
	if err := os.WriteFile(path, partial, 0o644); err != nil {
		t.Fatal(err)
	}
	wantFrom := func(data []byte) map[string]bool {
		tmp := filepath.Join(t.TempDir(), "x.evtx")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := eventfile.Open(tmp, eventfile.Options{NoOriginal: true})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m := map[string]bool{}
		for {
			rec, err := f.Next()
			if err != nil {
				if _, ok := err.(*wineventlog.DecodeError); ok {
					continue
				}
				return m
			}
			m["admin.evtx#"+uitoa(rec.Event.RecordID)] = true
		}
	}
	got := &recorded{}
	s := startReceiver(t, testConfig(dir), got, nopHost())
	first := wantFrom(partial)
	waitFor(t, "records of the first chunks", func() bool { return got.count() >= len(first) })

	// Rewrite in place (same file, same identity), as the event log
	// service does.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(full, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	all := wantFrom(full)
	waitFor(t, "all records", func() bool { return got.count() >= len(all) })
	s.settled(t)
	checkExactlyOnce(t, got.snapshot(), all)
}
