package wineventlog

import (
	"bytes"
	"testing"
	"testing/iotest"
)

// encodings gives the fixture in the encodings Windows tools write.
func encodings(data []byte) map[string][]byte {
	plain := bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return map[string][]byte{"as stored": data}
	}
	return map[string][]byte{
		"UTF-8":            plain,
		"UTF-8 BOM":        append([]byte{0xEF, 0xBB, 0xBF}, plain...),
		"UTF-16LE BOM":     toUTF16(plain, false, true),
		"UTF-16LE":         toUTF16(plain, false, false),
		"UTF-16BE BOM":     toUTF16(plain, true, true),
		"UTF-16BE":         toUTF16(plain, true, false),
		"UTF-16LE resumed": toUTF16(plain, false, true),
	}
}

var positionFixtures = []string{
	"wevtutil-admin.xml", "wevtutil-admin-concat.xml", "wevtutil-admin-ps.xml", "rendered-events.xml",
	"eventviewer.xml", "legacy-connector.xml", "features.xml",
	"ps51-array.json", "ps51-array-utf16.json", "ps7-object.json", "pscompress.jsonl", "ps51-object.json",
}

// Seeking to Position.End of any event and decoding from there on a new
// reader yields exactly the remaining events, at the same positions.
func TestResumeAtEnd(t *testing.T) {
	for _, file := range positionFixtures {
		for enc, data := range encodings(readFixture(t, file)) {
			t.Run(file+" "+enc, func(t *testing.T) {
				all, errs := decodeAll(t, data, Options{})
				if len(errs) > 0 || len(all) == 0 {
					t.Fatalf("%d events, errors %v", len(all), errs)
				}
				format := Detect(data)
				for k, r := range all {
					rest, errs := decodeAll(t, data[r.Position.End:], Options{Format: format})
					if len(errs) > 0 {
						t.Fatalf("after event %d: %v", k, errs)
					}
					if len(rest) != len(all)-k-1 {
						t.Fatalf("after event %d: %d events, want %d", k, len(rest), len(all)-k-1)
					}
					for i, got := range rest {
						want := all[k+1+i]
						if got.Event.RecordID != want.Event.RecordID ||
							got.Position.Offset+r.Position.End != want.Position.Offset ||
							got.Position.End+r.Position.End != want.Position.End ||
							got.Event.Original != want.Event.Original {
							t.Errorf("after event %d, item %d: got %+v, want %+v", k, i, got.Position, want.Position)
						}
					}
				}
				// Offset points at the event's first byte: resuming there
				// reads the same event first.
				last := all[len(all)-1]
				again, _ := decodeAll(t, data[last.Position.Offset:], Options{Format: format})
				if len(again) != 1 || again[0].Event.RecordID != last.Event.RecordID || again[0].Position.Offset != 0 {
					t.Errorf("resume at Offset: %+v", again)
				}
			})
		}
	}
}

// Reads of any size give the same events: framing must not depend on where
// the reader's chunks end.
func TestSmallReads(t *testing.T) {
	for _, file := range positionFixtures {
		for enc, data := range encodings(readFixture(t, file)) {
			t.Run(file+" "+enc, func(t *testing.T) {
				want, _ := decodeAll(t, data, Options{})
				for name, r := range map[string]func() Decoder{
					"one byte": func() Decoder {
						d, err := NewDecoder(iotest.OneByteReader(bytes.NewReader(data)), Options{})
						if err != nil {
							t.Fatal(err)
						}
						return d
					},
					"half": func() Decoder {
						d, err := NewDecoder(iotest.HalfReader(bytes.NewReader(data)), Options{})
						if err != nil {
							t.Fatal(err)
						}
						return d
					},
					"data with EOF": func() Decoder {
						d, err := NewDecoder(iotest.DataErrReader(bytes.NewReader(data)), Options{})
						if err != nil {
							t.Fatal(err)
						}
						return d
					},
				} {
					got, errs := drain(t, r())
					if len(errs) > 0 || len(got) != len(want) {
						t.Fatalf("%s: %d events, errors %v", name, len(got), errs)
					}
					for i := range got {
						if got[i].Position != want[i].Position || got[i].Event.Original != want[i].Event.Original {
							t.Errorf("%s: event %d at %+v, want %+v", name, i, got[i].Position, want[i].Position)
						}
					}
				}
			})
		}
	}
}

// A small MaxEventSize with events that fit must not change anything even
// though the buffer is then barely larger than one event.
func TestTightMaxEventSize(t *testing.T) {
	data := readFixture(t, "wevtutil-admin.xml")
	want, _ := decodeAll(t, data, Options{})
	got, errs := decodeAll(t, data, Options{MaxEventSize: 1500})
	if len(errs) != 0 || len(got) != len(want) {
		t.Fatalf("%d events, %v", len(got), errs)
	}
	got, errs = decodeAll(t, data, Options{MaxEventSize: 512})
	if len(errs) != 3 || len(got) != 0 {
		t.Errorf("events over the limit: %d events, %d errors", len(got), len(errs))
	}
}

// Inputs of many read chunks put chunk boundaries at every kind of place
// inside events: the result must not change.
func TestChunkBoundaries(t *testing.T) {
	for _, file := range positionFixtures {
		one := readFixture(t, file)
		want, _ := decodeAll(t, one, Options{})
		format := Detect(one)
		body := bytes.TrimPrefix(bytes.TrimPrefix(one, []byte{0xEF, 0xBB, 0xBF}), []byte{0xFF, 0xFE})
		unit := 1
		if bytes.HasPrefix(one, []byte{0xFF, 0xFE}) {
			unit = 2
		}
		var sep []byte
		if format == FormatJSON {
			sep = []byte{',', 0}[:unit]
		}
		for _, shift := range []int{0, 1, 5, 13, 64} {
			t.Run(file, func(t *testing.T) {
				data := bytes.Repeat([]byte{' ', 0}[:unit], shift)
				copies := 3*readChunk/len(body) + 2
				for i := 0; i < copies; i++ {
					data = append(data, body...)
					data = append(data, sep...)
				}
				got, errs := decodeAll(t, data, Options{Format: format})
				if len(errs) != 0 || len(got) != copies*len(want) {
					t.Fatalf("shift %d: %d events, want %d; errors %v", shift, len(got), copies*len(want), errs)
				}
				for i, r := range got {
					if w := want[i%len(want)]; r.Event.Original != w.Event.Original || r.Event.RecordID != w.Event.RecordID {
						t.Fatalf("shift %d: event %d differs", shift, i)
					}
				}
			})
		}
	}
}

// The stream decoders rely on this: any prefix of a good event, as a read
// chunk may end anywhere, reads as "need more input", never as damage.
func TestPrefixesNeedMore(t *testing.T) {
	var xmlEvents, jsonEvents [][]byte
	for _, file := range positionFixtures {
		data := readFixture(t, file)
		recs, _ := decodeAll(t, data, Options{})
		for _, r := range recs {
			if Detect(data) == FormatXML {
				xmlEvents = append(xmlEvents, []byte(r.Event.Original))
			} else {
				jsonEvents = append(jsonEvents, []byte(r.Event.Original))
			}
		}
	}
	var p xmlParser
	for _, ev := range xmlEvents {
		for k := 1; k < len(ev); k++ {
			_, _, err := p.parse(ev[:k], true, false)
			if err == nil || !err.truncated {
				t.Fatalf("XML prefix of %d bytes: %v\n%q", k, err, ev[max(0, k-40):k])
			}
			if kind, at, _ := findEventTag(ev[:k], 1, false); kind != tagOther && kind != tagIncomplete {
				t.Fatalf("framing found an event tag at %d in a prefix of %d bytes", at, k)
			}
		}
	}
	for _, ev := range jsonEvents {
		for k := 1; k < len(ev); k++ {
			if st, _ := frameJSON(ev[:k]); st != frameIncomplete {
				t.Fatalf("JSON prefix of %d bytes framed as %d", k, st)
			}
		}
	}
}
