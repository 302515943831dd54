package filereader

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/checkpoint"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

const samplesDir = "../../../../testdata/samples"

var (
	cat   = mapping.MustDefault()
	cases = eventgen.CatalogCases(cat)
)

// xmlEvents renders events [from, from+n) as wevtutil qe /f:xml does, one
// element per event.
func xmlEvents(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		ev := eventgen.EventAt(cat, cases, from+i)
		out[i] = append(wineventlog.AppendEventXML(nil, &ev, wineventlog.XMLLine), '\r', '\n')
	}
	return out
}

func recordIDs(from, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = eventgen.EventAt(cat, cases, from+i).RecordID
	}
	return out
}

// collect is a Sink that keeps what it is given.
type collect struct {
	ids     []uint64
	cps     []checkpoint.Record
	damages []int64 // absolute offsets
	stopAt  int     // refuse the event with this index (1-based), 0 never
}

func (c *collect) Event(ev *wineventlog.Event, cp checkpoint.Record) error {
	if c.stopAt > 0 && len(c.ids)+1 == c.stopAt {
		return errors.New("stopping")
	}
	c.ids = append(c.ids, ev.RecordID)
	c.cps = append(c.cps, cp)
	return nil
}

func (c *collect) Damage(de *wineventlog.DecodeError, base int64) {
	c.damages = append(c.damages, base+de.Offset)
}

func write(t *testing.T, data []byte) (*os.File, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, int64(len(data))
}

func TestStreamReader(t *testing.T) {
	ten := bytes.Join(xmlEvents(0, 10), nil)
	upTo := func(k int) int64 { return int64(len(bytes.Join(xmlEvents(0, k), nil))) }
	cut := xmlEvents(0, 10)
	cut[9] = cut[9][:len(cut[9])/2]
	broken := xmlEvents(0, 10)
	broken[4] = broken[4][:len(broken[4])/2]
	tests := []struct {
		name       string
		data       []byte
		cp         checkpoint.Record
		wantIDs    []uint64
		wantOffset int64
		wantTail   bool
		wantDamage int
	}{
		{name: "whole file", data: ten, wantIDs: recordIDs(0, 10), wantOffset: upTo(10) - 2},
		{name: "resumed after the fourth event", data: ten, cp: checkpoint.Record{Format: "xml", Offset: upTo(4)},
			wantIDs: recordIDs(4, 6), wantOffset: upTo(10) - 2},
		{name: "ends inside an event", data: bytes.Join(cut, nil), wantIDs: recordIDs(0, 9), wantOffset: upTo(9) - 2, wantTail: true},
		{name: "damage inside is passed over", data: bytes.Join(broken, nil),
			wantIDs: slices.Concat(recordIDs(0, 4), recordIDs(5, 5)), wantOffset: int64(len(bytes.Join(broken, nil))) - 2, wantDamage: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, size := write(t, tt.data)
			r, err := Open(f, size, tt.cp, Options{NoOriginal: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Format() != wineventlog.FormatXML {
				t.Errorf("format %q", r.Format())
			}
			var c collect
			res, err := r.ReadToEnd(&c)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.ids, tt.wantIDs) {
				t.Errorf("record IDs %v, want %v", c.ids, tt.wantIDs)
			}
			if !res.Complete || res.Tail != tt.wantTail || len(c.damages) != tt.wantDamage {
				t.Errorf("complete %v, tail %v, damages %v", res.Complete, res.Tail, c.damages)
			}
			if res.Checkpoint.Offset != tt.wantOffset || res.Checkpoint.Format != "xml" {
				t.Errorf("checkpoint %+v, want offset %d", res.Checkpoint, tt.wantOffset)
			}
			if res.Bytes != size-tt.cp.Offset {
				t.Errorf("bytes %d, want %d", res.Bytes, size-tt.cp.Offset)
			}
			// Each event's checkpoint is just past it, in increasing order.
			for i := 1; i < len(c.cps); i++ {
				if c.cps[i].Offset <= c.cps[i-1].Offset {
					t.Errorf("checkpoint %d (%d) not after %d", i, c.cps[i].Offset, c.cps[i-1].Offset)
				}
			}
			if end := r.End(); end.Offset != size {
				t.Errorf("End at %d, want the size %d", end.Offset, size)
			}
		})
	}
}

// The format comes from the content of a file read from its start, and
// from the checkpoint of one read on.
func TestOpenDetects(t *testing.T) {
	ps7, err := eventgen.ExportByName("ps7")
	if err != nil {
		t.Fatal(err)
	}
	evs := []wineventlog.Event{eventgen.EventAt(cat, cases, 0), eventgen.EventAt(cat, cases, 1)}
	evtxData, err := os.ReadFile(filepath.Join(samplesDir, "real-ndes-admin.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		cp      checkpoint.Record
		opts    Options
		want    wineventlog.Format
		wantErr error
	}{
		{name: "xml", data: bytes.Join(xmlEvents(0, 2), nil), want: wineventlog.FormatXML},
		{name: "json", data: ps7.Write(evs), want: wineventlog.FormatJSON},
		{name: "evtx", data: evtxData, want: wineventlog.FormatEVTX},
		{name: "evtx checkpoint", data: evtxData, cp: checkpoint.Record{Format: "evtx", Record: 3}, want: wineventlog.FormatEVTX},
		{name: "xml rewritten as json is read as json from its start", data: ps7.Write(evs), cp: checkpoint.Record{Format: "xml"}, want: wineventlog.FormatJSON},
		{name: "forced format", data: bytes.Join(xmlEvents(0, 2), nil), opts: Options{Format: wineventlog.FormatXML}, want: wineventlog.FormatXML},
		{name: "empty", data: nil, wantErr: ErrEmpty},
		{name: "white space only", data: []byte("\xEF\xBB\xBF  \r\n"), wantErr: ErrEmpty},
		{name: "not an event export", data: []byte("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"Id\"\r\n"), wantErr: wineventlog.ErrUnknownFormat},
		{name: "evtx forced as xml", data: evtxData, opts: Options{Format: wineventlog.FormatXML}, wantErr: wineventlog.ErrEVTX},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, size := write(t, tt.data)
			r, err := Open(f, size, tt.cp, tt.opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Format() != tt.want {
				t.Errorf("format %q, want %q", r.Format(), tt.want)
			}
		})
	}
}

// An EVTX file gives the records eventfile gives, resumes after a record
// number, and drops the fingerprint (its header changes with every write).
func TestEVTXReader(t *testing.T) {
	path := filepath.Join(samplesDir, "real-ndes-admin.evtx")
	ef, err := eventfile.Open(path, eventfile.Options{NoOriginal: true})
	if err != nil {
		t.Fatal(err)
	}
	var all []uint64
	var numbers []uint64
	for {
		rec, err := ef.Next()
		if err != nil {
			break
		}
		all = append(all, rec.Event.RecordID)
		numbers = append(numbers, rec.Position.RecordNumber)
	}
	ef.Close()
	if len(all) < 10 {
		t.Fatalf("sample has %d records", len(all))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cp      checkpoint.Record
		want    []uint64
		stopAt  int
		wantErr bool
	}{
		{name: "whole file", cp: checkpoint.Record{FPLen: 4, FP: "00ff"}, want: all},
		{name: "resumed", cp: checkpoint.Record{Format: "evtx", Record: numbers[4]}, want: all[5:]},
		{name: "the sink stops the read", stopAt: 3, want: all[:2], wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, size := write(t, data)
			r, err := Open(f, size, tt.cp, Options{NoOriginal: true})
			if err != nil {
				t.Fatal(err)
			}
			c := collect{stopAt: tt.stopAt}
			res, err := r.ReadToEnd(&c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v", err)
			}
			if !slices.Equal(c.ids, tt.want) {
				t.Errorf("%d records, want %d", len(c.ids), len(tt.want))
			}
			if tt.wantErr {
				return
			}
			if res.Checkpoint.Record != slices.Max(numbers) || res.Checkpoint.FP != "" || res.Checkpoint.FPLen != 0 || res.Bytes == 0 {
				t.Errorf("checkpoint %+v, bytes %d; want record %d and no fingerprint", res.Checkpoint, res.Bytes, slices.Max(numbers))
			}
		})
	}
	f, size := write(t, data)
	r, err := Open(f, size, checkpoint.Record{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if end := r.End(); end.Record != slices.Max(numbers) {
		t.Errorf("End at record %d, want %d", end.Record, slices.Max(numbers))
	}
}
