package wineventlog

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The writers reproduce the hand-written fixtures byte for byte, so
// samples generated from Events look like what Windows writes.
func TestWritersMatchFixtures(t *testing.T) {
	defer func(z *time.Location) { ps7Zone = z }(ps7Zone)
	ps7Zone = time.FixedZone("CEST", 2*3600)

	tests := []struct {
		name string
		file string
		// write renders the decoded events; the result must equal the file.
		write func(evs []Event) []byte
	}{
		{"wevtutil lines", "wevtutil-admin.xml", func(evs []Event) []byte {
			var b []byte
			for i := range evs {
				b = append(AppendEventXML(b, &evs[i], XMLLine), "\r\n"...)
			}
			return b
		}},
		{"legacy lines", "legacy-connector.xml", func(evs []Event) []byte {
			var b []byte
			for i := range evs {
				b = append(AppendEventXML(b, &evs[i], XMLLine), "\r\n"...)
			}
			return b
		}},
		{"RenderedXml events", "rendered-events.xml", func(evs []Event) []byte {
			b := []byte("<Events>")
			for i := range evs {
				b = AppendEventXML(b, &evs[i], XMLRendered)
			}
			return append(b, "</Events>\r\n"...)
		}},
		{"Event Viewer pretty", "eventviewer.xml", func(evs []Event) []byte {
			b := []byte("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Events>\r\n")
			for i := range evs {
				if i > 0 {
					b = append(b, "\r\n"...)
				}
				b = AppendEventXML(b, &evs[i], XMLPretty)
			}
			return append(b, "\r\n</Events>\r\n"...)
		}},
		{"PowerShell 5.1 object", "ps51-object.json", func(evs []Event) []byte {
			return append(AppendEventJSON(nil, &evs[0], PS51), "\r\n"...)
		}},
		{"PowerShell 5.1 array", "ps51-array.json", func(evs []Event) []byte {
			var buf bytes.Buffer
			buf.WriteString("\xEF\xBB\xBF")
			if err := WriteEventsJSON(&buf, evs, PS51); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}},
		{"PowerShell 7 object", "ps7-object.json", func(evs []Event) []byte {
			return append(AppendEventJSON(nil, &evs[0], PS7), "\r\n"...)
		}},
		{"compressed lines", "pscompress.jsonl", func(evs []Event) []byte {
			var b []byte
			for i := range evs {
				b = append(AppendEventJSON(b, &evs[i], PSCompress), "\r\n"...)
			}
			return b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := readFixture(t, tt.file)
			recs, _ := decodeAll(t, data, Options{})
			evs := make([]Event, len(recs))
			for i, r := range recs {
				evs[i] = r.Event
			}
			got := tt.write(evs)
			if !bytes.Equal(got, data) {
				k := 0
				for k < len(got) && k < len(data) && got[k] == data[k] {
					k++
				}
				t.Errorf("output differs at byte %d:\n got %q\nwant %q", k, got[k:min(len(got), k+80)], data[k:min(len(data), k+80)])
			}
		})
	}
}

// allFixtureEvents gathers every event the XML fixtures hold: the richest
// source, with names, UserData and rendered text.
func allFixtureEvents(t *testing.T) []Event {
	var evs []Event
	for _, f := range []string{"wevtutil-admin.xml", "rendered-events.xml", "legacy-connector.xml", "features.xml"} {
		recs, _ := decodeAll(t, readFixture(t, f), Options{NoOriginal: true})
		for _, r := range recs {
			evs = append(evs, r.Event)
		}
	}
	// Characters that need escaping in every format.
	odd := evs[0]
	odd.EventData = []Data{{"a'b\"c", "<&>'\"\t\r\n\x01 é \U0001F600"}, {"", ""}, {"x", "]]> --> <?"}}
	odd.Computer = "host & <co>"
	odd.Message = "line 1\r\nline 2 \u2028 \\ / \u0085"
	odd.LevelText = "Error"
	odd.KeywordsText = []string{"Audit Failure", "Classic"}
	odd.ActivityID = "{0A1B2C3D-0000-0000-0000-000000000001}"
	odd.RelatedActivityID = "{0A1B2C3D-0000-0000-0000-000000000002}"
	odd.UserSID = "S-1-5-21-1004336348-1177238915-682003330-512"
	odd.Keywords = 0x8020000000000000
	odd.TimeCreated = time.Date(1999, 12, 31, 23, 59, 59, 999999900, time.UTC)
	// UserData whose root element holds the text itself.
	leafRoot := evs[0]
	leafRoot.EventData, leafRoot.UserDataRoot, leafRoot.UserData = nil, "State", []Data{{"", "on"}}
	return append(evs, odd, leafRoot)
}

// asJSONSees reduces an event to what PowerShell's JSON can carry.
func asJSONSees(ev Event, ms bool) Event {
	var data []Data
	for _, list := range [][]Data{ev.EventData, ev.UserData} {
		for _, d := range list {
			data = append(data, Data{Value: d.Value})
		}
	}
	ev.EventData, ev.UserData, ev.UserDataRoot, ev.EventSourceName = data, nil, "", ""
	if ms {
		ev.TimeCreated = ev.TimeCreated.Truncate(time.Millisecond)
	}
	return ev
}

func TestRoundTrip(t *testing.T) {
	evs := allFixtureEvents(t)
	for i, ev := range evs {
		for _, style := range []XMLStyle{XMLLine, XMLRendered, XMLPretty} {
			b := AppendEventXML(nil, &ev, style)
			got, err := ParseEventXML(b)
			if err != nil {
				t.Fatalf("event %d style %d: %v\n%s", i, style, err, b)
			}
			want := ev
			if style == XMLLine {
				want.Message, want.LevelText, want.TaskText, want.OpcodeText, want.KeywordsText = "", "", "", "", nil
			}
			got.Original = ""
			if !reflect.DeepEqual(got, want) {
				t.Errorf("event %d style %d:\n got %+v\nwant %+v", i, style, got, want)
			}
		}
		for _, style := range []JSONStyle{PS51, PS7, PSCompress} {
			b := AppendEventJSON(nil, &ev, style)
			if style == PSCompress && bytes.ContainsAny(b, "\r\n") {
				t.Errorf("compressed JSON spans lines: %s", b)
			}
			got, err := ParseEventJSON(b)
			if err != nil {
				t.Fatalf("event %d JSON style %d: %v\n%s", i, style, err, b)
			}
			got.Original = ""
			want := asJSONSees(ev, style != PS7)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("event %d JSON style %d:\n got %+v\nwant %+v\n%s", i, style, got, want, b)
			}
		}
	}
}

// Documents of every style decode to the same events, in UTF-8 and in the
// UTF-16 PowerShell re-encodes them to.
func TestDocumentRoundTrip(t *testing.T) {
	evs := allFixtureEvents(t)
	for _, style := range []XMLStyle{XMLLine, XMLRendered, XMLPretty} {
		var buf bytes.Buffer
		if err := WriteEventsDocument(&buf, evs, style); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), "<?xml") || !strings.HasSuffix(buf.String(), "</Events>\r\n") {
			t.Errorf("style %d: not an Events document", style)
		}
		for name, data := range map[string][]byte{"UTF-8": buf.Bytes(), "UTF-16LE": toUTF16(buf.Bytes(), false, true)} {
			recs, errs := decodeAll(t, data, Options{NoOriginal: true})
			if len(errs) > 0 || len(recs) != len(evs) {
				t.Fatalf("style %d %s: %d events, %v", style, name, len(recs), errs)
			}
			for i, r := range recs {
				if r.Event.RecordID != evs[i].RecordID || !reflect.DeepEqual(r.Event.EventData, evs[i].EventData) {
					t.Errorf("style %d %s event %d differs", style, name, i)
				}
			}
		}
	}
	for _, style := range []JSONStyle{PS51, PS7, PSCompress} {
		var buf bytes.Buffer
		if err := WriteEventsJSON(&buf, evs, style); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"UTF-8": buf.Bytes(), "UTF-16LE": toUTF16(buf.Bytes(), false, true)} {
			recs, errs := decodeAll(t, data, Options{NoOriginal: true})
			if len(errs) > 0 || len(recs) != len(evs) {
				t.Fatalf("JSON style %d %s: %d events, %v", style, name, len(recs), errs)
			}
			for i, r := range recs {
				if want := asJSONSees(evs[i], style != PS7); !reflect.DeepEqual(r.Event, want) {
					t.Errorf("JSON style %d %s event %d:\n got %+v\nwant %+v", style, name, i, r.Event, want)
				}
			}
		}
	}
}
