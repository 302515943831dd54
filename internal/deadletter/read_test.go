package deadletter

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What Writer writes, Reader reads back; damaged lines are reported with
// their numbers and the rest still read.
func TestReaderReadsWhatWriterWrote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dl.jsonl")
	w, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	want := []Entry{
		{Time: at, Exporter: "intune_elasticsearch", Status: 400, Reason: "mapper_parsing_exception", ID: "a1", Document: json.RawMessage(`{"@timestamp":"x","event":{"code":"3001"}}`)},
		{Time: at, Exporter: "intune_splunk_hec/main", Reason: "oversize", ID: "b2", Document: json.RawMessage(`{"time":1.5,"event":{"message":"m"}}`)},
	}
	if err := w.Write(want...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A torn last write, an entry whose document was kept as text, noise,
	// a blank line, and one more good entry without a line end.
	f.WriteString(`{"time":"2026-11-22T10:00:00Z","exporter":"intune_elas` + "\n")
	f.WriteString(`{"time":"2026-11-22T10:00:00Z","exporter":"x","reason":"r","document":"\u003cEvent/\u003e"}` + "\n")
	f.WriteString("hello\n\n")
	f.WriteString(`{"exporter":"intune_elasticsearch","reason":"r","document":{"@timestamp":"y"}}`)
	f.Close()

	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f)
	var got []Entry
	var lines []int
	var bad []string
	for {
		e, line, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			bad = append(bad, le.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
		lines = append(lines, line)
	}
	if len(got) != 3 || got[0].ID != "a1" || got[1].Exporter != "intune_splunk_hec/main" || string(got[2].Document) != `{"@timestamp":"y"}` {
		t.Fatalf("entries %+v", got)
	}
	if !got[0].Time.Equal(at) || string(got[0].Document) != string(want[0].Document) {
		t.Errorf("first entry changed: %+v", got[0])
	}
	if lines[0] != 1 || lines[1] != 2 || lines[2] != 7 {
		t.Errorf("line numbers %v", lines)
	}
	if len(bad) != 3 || !strings.HasPrefix(bad[0], "line 3: not a dead-letter entry") ||
		!strings.HasPrefix(bad[1], "line 4: the document is not a JSON object") || !strings.HasPrefix(bad[2], "line 5:") {
		t.Errorf("bad lines %q", bad)
	}
	if !LooksLikeEntry([]byte(`{"exporter":"e","document":{"a":1}}`)) || LooksLikeEntry([]byte(`{"Id":1001}`)) {
		t.Error("LooksLikeEntry")
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"exporter":"e","document":{"a":1}}` + "\n" + "x\n"))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(strings.NewReader(string(b)))
		last := 0
		for n := 0; ; n++ {
			e, line, err := r.Next()
			if err == io.EOF {
				return
			}
			var le *LineError
			if err != nil && !errors.As(err, &le) {
				t.Fatalf("error %v is not a LineError", err)
			}
			if line <= last || n > len(b)+1 {
				t.Fatalf("line %d after %d", line, last)
			}
			last = line
			if err == nil && (len(e.Document) == 0 || e.Document[0] != '{') {
				t.Fatalf("accepted an entry without an object document: %+v", e)
			}
		}
	})
}
