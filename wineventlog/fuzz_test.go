package wineventlog

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

func fixtureSeeds(f *testing.F, pattern string) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	var seeds [][]byte
	for _, name := range files {
		if st, err := os.Stat(name); err != nil || st.IsDir() {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

func checkEvent(t *testing.T, ev Event) {
	for _, s := range []string{ev.ProviderName, ev.Channel, ev.Computer, ev.Message, ev.Original} {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 in a decoded field: %q", s)
		}
	}
	for _, d := range ev.EventData {
		if !utf8.ValidString(d.Name) || !utf8.ValidString(d.Value) {
			t.Fatalf("invalid UTF-8 in EventData: %q", d)
		}
	}
}

func FuzzParseEventXML(f *testing.F) {
	for _, data := range fixtureSeeds(f, "*.xml") {
		recs, _ := decodeAll(f, data, Options{})
		for _, r := range recs {
			f.Add([]byte(r.Event.Original))
		}
	}
	f.Add([]byte("<Event><System><Provider Name='a&amp;b'/></System><UserData><R><A><B>1</B></A></R></UserData></Event>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEventXML(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset != 0 || de.End != int64(len(b)) {
				t.Fatalf("error %v (%T) is not a *DecodeError over the input", err, err)
			}
			return
		}
		checkEvent(t, ev)
		// What was accepted must survive a write and read back.
		out := AppendEventXML(nil, &ev, XMLRendered)
		if _, err := ParseEventXML(out); err != nil {
			t.Fatalf("rewritten event does not parse: %v\n%s", err, out)
		}
	})
}

func FuzzParseEventJSON(f *testing.F) {
	for _, data := range fixtureSeeds(f, "*.json*") {
		recs, _ := decodeAll(f, data, Options{})
		for _, r := range recs {
			f.Add([]byte(r.Event.Original))
		}
	}
	f.Add([]byte(`{"Id":1,"Properties":[{"Value":{"a":[1,2.5e-3,null,true]}}],"TimeCreated":"\/Date(-1)\/"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEventJSON(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			return
		}
		checkEvent(t, ev)
		out := AppendEventJSON(nil, &ev, PSCompress)
		if _, err := ParseEventJSON(out); err != nil {
			t.Fatalf("rewritten event does not parse: %v\n%s", err, out)
		}
	})
}

func FuzzDecoder(f *testing.F) {
	for _, data := range fixtureSeeds(f, "*") {
		f.Add(data, uint16(0))
		f.Add(data, uint16(700))
		if len(data) > 1000 {
			f.Add(data[:len(data)/2], uint16(0))
			f.Add(append(data[len(data)/3:], data[:len(data)/3]...), uint16(0))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, max uint16) {
		d, err := NewDecoder(bytes.NewReader(data), Options{MaxEventSize: int(max)})
		if err != nil {
			if !errors.Is(err, ErrUnknownFormat) && !errors.Is(err, ErrEVTX) {
				t.Fatalf("NewDecoder: unexpected error %v", err)
			}
			return
		}
		var prevEnd int64
		for i := 0; ; i++ {
			if i > len(data)+10 {
				t.Fatal("decoder does not progress")
			}
			r, err := d.Next()
			if err == io.EOF {
				return
			}
			var de *DecodeError
			if err != nil && !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is neither io.EOF nor a *DecodeError", err, err)
			}
			off, end := r.Position.Offset, r.Position.End
			if de != nil {
				off, end = de.Offset, de.End
			} else {
				checkEvent(t, r.Event)
			}
			if off < prevEnd || end <= off && de == nil || end < off || end > int64(len(data)) {
				t.Fatalf("item %d: range [%d,%d) after %d in %d bytes (err %v)", i, off, end, prevEnd, len(data), err)
			}
			if end == prevEnd && de != nil && i > 0 && off == end {
				t.Fatalf("item %d: empty error range at %d", i, off)
			}
			prevEnd = end
		}
	})
}
