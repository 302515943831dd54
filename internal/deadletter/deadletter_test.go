package deadletter

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func readEntries(t *testing.T, path string) []Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestWriteRotateClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dlq", "rejected.jsonl")
	w, err := Open(Config{Path: path, MaxSizeMiB: 1})
	if err != nil {
		t.Fatal(err)
	}
	doc := json.RawMessage(`{"event":{"code":"3001"}}`)
	if err := w.Write(Entry{Time: time.Unix(0, 0).UTC(), Exporter: "intune_elasticsearch", Status: 400, Reason: "mapper_parsing_exception", ID: "abc", Document: doc},
		Entry{Reason: "not json", Document: json.RawMessage("<Event/>")}); err != nil {
		t.Fatal(err)
	}
	got := readEntries(t, path)
	if len(got) != 2 || got[0].Status != 400 || string(got[0].Document) != string(doc) || string(got[1].Document) != `"\u003cEvent/\u003e"` {
		t.Fatalf("entries = %+v", got)
	}
	// Concurrent writers past the size cap rotate instead of growing.
	big := json.RawMessage(`"` + string(make([]byte, 0)) + string(bytesOf('x', 4096)) + `"`)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if err := w.Write(Entry{Reason: "r", Document: big}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if w.Written() != 402 {
		t.Errorf("written = %d", w.Written())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() > 1<<20 {
		t.Errorf("file not capped: %v %v", st.Size(), err)
	}
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Errorf("no rotated file: %v", err)
	}
	if n := len(readEntries(t, path)) + len(readEntries(t, path+".1")); n < 200 {
		t.Errorf("only %d entries kept across the two files", n)
	}
	if err := w.Write(Entry{Reason: "late"}); err == nil {
		t.Error("write after close accepted")
	}
}

func TestNilWriterAndValidate(t *testing.T) {
	w, err := Open(Config{})
	if err != nil || w != nil {
		t.Fatalf("no path: %v %v", w, err)
	}
	if err := w.Write(Entry{Reason: "x"}); err != nil || w.Close() != nil || w.Written() != 0 {
		t.Error("nil writer is not inert")
	}
	if (Config{MaxSizeMiB: -1}).Validate() == nil {
		t.Error("negative size accepted")
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}
