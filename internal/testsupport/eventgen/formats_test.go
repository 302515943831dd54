package eventgen_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// lossOf models exactly what an export shape cannot carry, so the test can
// demand identical records: anything else that differs is a decoder bug.
func lossOf(ex eventgen.Export, ev wineventlog.Event) wineventlog.Event {
	switch ex.Name {
	case "ps51", "compress":
		// Windows PowerShell 5.1 serialises DateTime to the millisecond.
		ev.TimeCreated = ev.TimeCreated.Truncate(time.Millisecond)
		fallthrough
	case "ps7":
		// Get-WinEvent's Properties have values but no names.
		data := make([]wineventlog.Data, len(ev.EventData))
		for i, d := range ev.EventData {
			data[i] = wineventlog.Data{Value: d.Value}
		}
		ev.EventData = data
	}
	return ev
}

// TestSameEventsInEveryFormat writes every catalog case in every export
// shape and encoding, decodes the files as a user would, and checks that the
// records are identical to enriching the events directly.
func TestSameEventsInEveryFormat(t *testing.T) {
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var events []wineventlog.Event
	for i, c := range eventgen.CatalogCases(cat) {
		events = append(events, eventgen.Event(cat, c, i))
	}
	encodings := map[string]eventgen.Encoding{
		"utf8": eventgen.UTF8, "utf8bom": eventgen.UTF8BOM, "utf16le": eventgen.UTF16LE,
		"utf16lebom": eventgen.UTF16LEBOM, "utf16bebom": eventgen.UTF16BEBOM,
	}
	dir := t.TempDir()
	for _, ex := range eventgen.Exports {
		in := events
		if ex.Rendered {
			in = make([]wineventlog.Event, len(events))
			for i := range events {
				in[i] = eventgen.Rendered(cat, events[i])
			}
		}
		want := make([]plog.LogRecord, len(in))
		for i := range in {
			want[i] = plog.NewLogRecord()
			ev := lossOf(ex, in[i])
			en.Enrich(&ev, want[i])
		}
		data := ex.Write(in)
		for encName, enc := range encodings {
			t.Run(ex.Name+"/"+encName, func(t *testing.T) {
				path := filepath.Join(dir, ex.Name+"."+encName+"."+ex.Ext)
				if err := os.WriteFile(path, eventgen.Encode(data, enc), 0o644); err != nil {
					t.Fatal(err)
				}
				f, err := eventfile.Open(path, eventfile.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				for i := 0; ; i++ {
					rec, err := f.Next()
					if errors.Is(err, io.EOF) {
						if i != len(want) {
							t.Fatalf("decoded %d events, want %d", i, len(want))
						}
						return
					}
					if err != nil {
						t.Fatalf("event %d: %v", i, err)
					}
					if i >= len(want) {
						t.Fatalf("more events than written")
					}
					got := plog.NewLogRecord()
					en.Enrich(&rec.Event, got)
					if !got.Attributes().Equal(want[i].Attributes()) {
						t.Fatalf("event %d (%d) differs:\n got %v\nwant %v", i, rec.Event.EventID, got.Attributes().AsRaw(), want[i].Attributes().AsRaw())
					}
					if got.Body().Str() != want[i].Body().Str() || got.Timestamp() != want[i].Timestamp() || got.SeverityNumber() != want[i].SeverityNumber() {
						t.Fatalf("event %d: body/time/severity differ: %q %v vs %q %v", i, got.Body().Str(), got.Timestamp(), want[i].Body().Str(), want[i].Timestamp())
					}
				}
			})
		}
	}
}

// TestSamplesAreCurrent keeps testdata/samples in step with the catalog and
// the writers. Fix with: make samples
func TestSamplesAreCurrent(t *testing.T) {
	for _, s := range eventgen.Samples(mapping.MustDefault()) {
		got, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "samples", s.File))
		if err != nil {
			t.Fatalf("%v (run make samples)", err)
		}
		if string(got) != string(s.Data) {
			t.Errorf("testdata/samples/%s is out of date: run make samples and commit the result", s.File)
		}
	}
}
