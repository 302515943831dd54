package wineventlog

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// fixtureEvents returns the wevtutil fixture's event lines.
func fixtureLines(t testing.TB) [][]byte {
	data := readFixture(t, "wevtutil-admin.xml")
	recs, _ := decodeAll(t, data, Options{})
	var lines [][]byte
	for _, r := range recs {
		lines = append(lines, data[r.Position.Offset:r.Position.End])
	}
	return lines
}

func jsonLines(t testing.TB) [][]byte {
	data := readFixture(t, "pscompress.jsonl")
	recs, _ := decodeAll(t, data, Options{})
	var lines [][]byte
	for _, r := range recs {
		lines = append(lines, data[r.Position.Offset:r.Position.End])
	}
	return lines
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

type outcome struct {
	ok  uint64 // RecordID of a good event
	bad string // substring of a DecodeError's reason
}

// check decodes data and compares the sequence of events and errors. For
// errors it also checks that Offset and End lie inside the input and that
// the next item starts at or after End.
func check(t *testing.T, data []byte, opts Options, want []outcome) {
	t.Helper()
	d, err := NewDecoder(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	var got []outcome
	var prevEnd int64
	for i := 0; i < 1000; i++ {
		r, err := d.Next()
		if err == io.EOF {
			break
		}
		var de *DecodeError
		switch {
		case errors.As(err, &de):
			got = append(got, outcome{bad: de.Reason})
			if de.Offset < prevEnd || de.End < de.Offset || de.End > int64(len(data)) {
				t.Errorf("error %q: bad range [%d,%d) after %d", de.Reason, de.Offset, de.End, prevEnd)
			}
			prevEnd = de.End
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			got = append(got, outcome{ok: r.Event.RecordID})
			if r.Position.Offset < prevEnd {
				t.Errorf("event %d starts at %d, inside the previous item ending at %d", r.Event.RecordID, r.Position.Offset, prevEnd)
			}
			prevEnd = r.Position.End
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d items %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if want[i].bad == "" && (got[i].bad != "" || got[i].ok != want[i].ok) {
			t.Errorf("item %d: got %+v, want event %d", i, got[i], want[i].ok)
		}
		if want[i].bad != "" && !strings.Contains(got[i].bad, want[i].bad) {
			t.Errorf("item %d: got %+v, want an error containing %q", i, got[i], want[i].bad)
		}
	}
}

func TestXMLDamage(t *testing.T) {
	l := fixtureLines(t)
	nl := []byte("\r\n")
	cutAt := func(b []byte, marker string) []byte {
		k := bytes.Index(b, []byte(marker))
		if k < 0 {
			t.Fatalf("marker %q not found", marker)
		}
		return b[:k]
	}
	tests := []struct {
		name string
		data []byte
		want []outcome
	}{
		{"cut in text, next line good", join(l[0], nl, cutAt(l[1], "2024-04-15T12"), nl, l[2], nl),
			[]outcome{{ok: 188679}, {bad: "cut off"}, {ok: 188681}}},
		{"cut in element text", join(l[0], nl, cutAt(l[1], "88680</Event"), nl, l[2]),
			[]outcome{{ok: 188679}, {bad: "before it ended (input ends inside <EventRecordID>)"}, {ok: 188681}}},
		{"cut in a tag", join(cutAt(l[0], "ThreadID="), nl, l[1], nl, l[2]),
			[]outcome{{bad: "cut off"}, {ok: 188680}, {ok: 188681}}},
		{"cut in an attribute value, no separator", join(cutAt(l[0], "-5F48"), l[1], l[2]),
			[]outcome{{bad: "cut off"}, {ok: 188680}, {ok: 188681}}},
		{"cut at the end of input", join(l[0], nl, l[1], nl, cutAt(l[2], "</EventData>")),
			[]outcome{{ok: 188679}, {ok: 188680}, {bad: "input ends inside this event"}}},
		{"mismatched end tag", join(l[0], nl, bytes.Replace(l[1], []byte("</Level>"), []byte("</Levle>"), 1), nl, l[2]),
			[]outcome{{ok: 188679}, {bad: "</Levle> does not match <Level>"}, {ok: 188681}}},
		{"unterminated entity", join(l[0], nl, bytes.Replace(l[1], []byte("&lt;Process"), []byte("&lt Process"), 1), nl, l[2]),
			[]outcome{{ok: 188679}, {bad: "'&' not followed by an entity reference"}, {ok: 188681}}},
		{"unknown entity", join(l[0], bytes.Replace(l[1], []byte("&lt;"), []byte("&nbsp;"), 1), l[2]),
			[]outcome{{ok: 188679}, {bad: "unknown entity &nbsp;"}, {ok: 188681}}},
		{"unquoted attribute", join(l[0], bytes.Replace(l[1], []byte("ProcessID='3768'"), []byte("ProcessID=3768"), 1), l[2]),
			[]outcome{{ok: 188679}, {bad: "not quoted"}, {ok: 188681}}},
		{"bad number", join(l[0], bytes.Replace(l[1], []byte("<Level>2<"), []byte("<Level>two<"), 1), l[2]),
			[]outcome{{ok: 188679}, {bad: `<Level> holds "two"`}, {ok: 188681}}},
		{"bad time", join(l[0], bytes.Replace(l[1], []byte("2024-04-15T12:41:30.0577431Z"), []byte("yesterday"), 1), l[2]),
			[]outcome{{ok: 188679}, {bad: "SystemTime"}, {ok: 188681}}},
		{"binary junk between events", join(l[0], nl, []byte("\x00\x01\x02\xff\xfe garbage <not-xml \x7f"), nl, l[1], nl, l[2]),
			[]outcome{{ok: 188679}, {bad: "belong to no event"}, {ok: 188680}, {ok: 188681}}},
		{"junk before the first event", join([]byte("<?xml version='1.0'?>\r\nwevtutil output:\r\n"), l[0], l[1]),
			[]outcome{{bad: `starting with "wevtutil output:`}, {ok: 188679}, {ok: 188680}}},
		{"stray end tag", join(l[0], []byte("</Event>"), l[1]),
			[]outcome{{ok: 188679}, {bad: "belong to no event"}, {ok: 188680}}},
		{"events wrapper and comments", join([]byte("<Events><!-- saved --><?pi?>\r\n"), l[0], []byte("<!-- x -->"), l[1], []byte("</Events>\r\n")),
			[]outcome{{ok: 188679}, {ok: 188680}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.data, Options{Format: FormatXML}, tt.want)
		})
		t.Run(tt.name+" UTF-16LE", func(t *testing.T) {
			data := toUTF16(bytes.ToValidUTF8(tt.data, []byte("\uFFFD")), false, true)
			check(t, data, Options{Format: FormatXML}, tt.want)
		})
	}
}

func TestJSONDamage(t *testing.T) {
	l := jsonLines(t)
	nl := []byte("\r\n")
	arr := readFixture(t, "ps51-array.json")
	// PS 5.1 puts array items at column 4; find the second one.
	second := bytes.Index(arr[10:], []byte("\r\n    {\r\n")) + 10
	if second < 10 {
		t.Fatal("fixture layout changed")
	}
	cutFirst := join(arr[:bytes.Index(arr, []byte("\r\n        \"RecordId\""))+2], arr[second+2:])
	badValue := bytes.Replace(arr, []byte(`"Level":  2`), []byte(`"Level":  "high"`), 1)
	tests := []struct {
		name string
		data []byte
		want []outcome
	}{
		{"bad line among lines", join(l[0], nl, []byte(`{"Id":3001,"Message":"cut here`), nl, l[2], nl, l[3], nl),
			[]outcome{{ok: 188679}, {bad: "line break inside a string"}, {ok: 188680}, {ok: 188681}}},
		{"line cut between members", join(l[0], nl, l[1][:200], nl, l[2], nl),
			[]outcome{{ok: 188679}, {bad: "cut off"}, {ok: 188680}}},
		{"invalid token", join(l[0], nl, bytes.Replace(l[2], []byte(`"Level":2`), []byte(`"Level":2x`), 1), nl, l[3], nl),
			[]outcome{{ok: 188679}, {bad: "expected ',' or '}'"}, {ok: 188681}}},
		{"object cut inside an array", cutFirst,
			[]outcome{{bad: "at byte"}, {ok: 188680}}},
		{"wrong type inside an array", badValue,
			[]outcome{{bad: "member Level must be a number"}, {ok: 188680}}},
		{"not an event", join([]byte(`{"Name":"x"}`), nl, l[0], nl),
			[]outcome{{bad: "none of the Get-WinEvent fields"}, {ok: 188679}}},
		{"binary junk between lines", join(l[0], nl, []byte("\x00\x01garbage\xff"), nl, l[2], nl),
			[]outcome{{ok: 188679}, {bad: "not a JSON object"}, {ok: 188680}}},
		{"cut at the end", join(l[0], nl, l[2][:300]),
			[]outcome{{ok: 188679}, {bad: "input ends inside this object"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.data, Options{Format: FormatJSON}, tt.want)
		})
		t.Run(tt.name+" UTF-16LE", func(t *testing.T) {
			data := toUTF16(bytes.ToValidUTF8(tt.data, []byte("\uFFFD")), false, true)
			check(t, data, Options{Format: FormatJSON}, tt.want)
		})
	}
}

// A huge event is skipped with its position, the rest is read, and the
// decoder never buffers much more than MaxEventSize.
func TestHugeEvent(t *testing.T) {
	l := fixtureLines(t)
	j := jsonLines(t)
	big := strings.Repeat("0123456789abcdef", 10<<20/16)
	hugeXML := bytes.Replace(l[1], []byte("ca01.example.com\\Example-Issuing-CA</Data>"), []byte(big+"</Data>"), 1)
	hugeJSON := bytes.Replace(j[2], []byte(`"MachineName"`), []byte(`"Padding":"`+big+`","MachineName"`), 1)
	tests := []struct {
		name   string
		data   []byte
		format Format
		want   []outcome
	}{
		{"XML", join(l[0], []byte("\r\n"), hugeXML, []byte("\r\n"), l[2]), FormatXML, []outcome{{ok: 188679}, {bad: "larger than the maximum event size"}, {ok: 188681}}},
		{"XML UTF-16", toUTF16(join(l[0], []byte("\r\n"), hugeXML, []byte("\r\n"), l[2]), false, true), FormatXML, []outcome{{ok: 188679}, {bad: "larger than the maximum event size"}, {ok: 188681}}},
		{"JSON", join(j[0], []byte("\r\n"), hugeJSON, []byte("\r\n"), j[3]), FormatJSON, []outcome{{ok: 188679}, {bad: "larger than the maximum event size"}, {ok: 188681}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDecoder(bytes.NewReader(tt.data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var src *source
			switch d := d.(type) {
			case *xmlDecoder:
				src = d.src
			case *jsonDecoder:
				src = d.src
			}
			unit := int64(1)
			if tt.name == "XML UTF-16" {
				unit = 2
			}
			var got []outcome
			for {
				r, err := d.Next()
				if c := cap(src.buf); c > DefaultMaxEventSize+readChunk {
					t.Fatalf("buffer grew to %d bytes", c)
				}
				if err == io.EOF {
					break
				}
				var de *DecodeError
				if errors.As(err, &de) {
					got = append(got, outcome{bad: de.Reason})
					wantOff := (int64(len(l[0])) + 2) * unit
					if unit == 2 {
						wantOff += 2 // BOM
					}
					if tt.format == FormatJSON {
						wantOff = int64(len(j[0])) + 2
					}
					if de.Offset != wantOff {
						t.Errorf("error at %d, want %d", de.Offset, wantOff)
					}
					if de.End < de.Offset+10<<20 {
						t.Errorf("error ends at %d, inside the event", de.End)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, outcome{ok: r.Event.RecordID})
			}
			if len(got) != 3 || got[0].ok != tt.want[0].ok || !strings.Contains(got[1].bad, tt.want[1].bad) || got[2].ok != tt.want[2].ok {
				t.Errorf("got %+v", got)
			}
		})
	}
	// Raising the limit reads it.
	recs, errs := decodeAll(t, join(l[0], hugeXML), Options{MaxEventSize: 16 << 20})
	if len(recs) != 2 || len(errs) != 0 || len(recs[1].Event.EventData[4].Value) != len(big) {
		t.Errorf("with a larger limit: %d events, %v", len(recs), errs)
	}
}

func TestWrongDeclaredEncoding(t *testing.T) {
	l := fixtureLines(t)
	utf16Decl := join([]byte(`<?xml version="1.0" encoding="UTF-16"?>`+"\r\n<Events>"), l[0], []byte("</Events>"))
	utf8Decl := toUTF16(join([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\r\n<Events>"), l[0], []byte("</Events>")), false, false)
	for name, data := range map[string][]byte{"UTF-8 bytes declared UTF-16": utf16Decl, "UTF-16 bytes declared UTF-8": utf8Decl,
		"UTF-16BE declared UTF-8": toUTF16(utf16Decl, true, false)} {
		t.Run(name, func(t *testing.T) {
			recs, errs := decodeAll(t, data, Options{})
			if len(recs) != 1 || len(errs) != 0 || recs[0].Event.RecordID != 188679 {
				t.Errorf("%d events, errors %v", len(recs), errs)
			}
		})
	}
}

func TestInvalidEncodingReplaced(t *testing.T) {
	l := fixtureLines(t)
	badUTF8 := bytes.Replace(l[0], []byte("NDES.example.com"), []byte("NDES\xff\xfe.example.com"), 1)
	recs, errs := decodeAll(t, join(badUTF8, l[1]), Options{})
	if len(recs) != 2 || len(errs) != 0 {
		t.Fatalf("%d events, errors %v", len(recs), errs)
	}
	if got := recs[0].Event.Computer; got != "NDES\uFFFD\uFFFD.example.com" {
		t.Errorf("Computer %q", got)
	}
	if !utf8.ValidString(recs[0].Event.Original) || recs[1].Position.Offset != int64(len(badUTF8)) {
		t.Errorf("Original not repaired or positions shifted: %+v", recs[1].Position)
	}

	// A lone surrogate in UTF-16.
	u := toUTF16(join(l[0], l[1]), false, true)
	k := bytes.Index(u, toUTF16([]byte("NDES"), false, false))
	u[k], u[k+1] = 0x00, 0xD8
	recs, errs = decodeAll(t, u, Options{})
	if len(recs) != 2 || len(errs) != 0 || recs[0].Event.Computer != "\uFFFDDES.example.com" {
		t.Errorf("UTF-16: %d events, %v, %q", len(recs), errs, recs[0].Event.Computer)
	}

	// Invalid UTF-8 inside JSON strings.
	j := jsonLines(t)
	badJSON := bytes.Replace(j[0], []byte("NDES.example.com"), []byte("ND\xc3ES"), 1)
	recs, errs = decodeAll(t, join(badJSON, []byte("\n"), j[2]), Options{})
	if len(recs) != 2 || len(errs) != 0 || recs[0].Event.Computer != "ND\uFFFDES" {
		t.Errorf("JSON: %d events, %v", len(recs), errs)
	}
}

func TestParseEventXMLErrors(t *testing.T) {
	l := fixtureLines(t)
	tests := []struct {
		name   string
		in     string
		reason string
	}{
		{"empty", "", "no <Event> element"},
		{"not an event", "<System/>", "expected <Event>"},
		{"two events", string(l[0]) + string(l[1]), "one event per call"},
		{"truncated", string(l[0][:500]), "the event is cut off"},
		{"text in System", "<Event><System>hello</System></Event>", "unexpected text inside <System>"},
		{"child in leaf", "<Event><System><Level><b>1</b></Level></System></Event>", "unexpected element <b> inside <Level>"},
		{"attribute without value", "<Event><System><Provider Name/></System></Event>", "has no '=' and value"},
		{"attributes not separated", "<Event><System><Provider Name='a'Guid='b'/></System></Event>", "separated by white space"},
		{"lt in attribute", "<Event><System><Provider Name='a<b'/></System></Event>", "'<' inside the value"},
		{"bad char reference", "<Event><EventData><Data>&#0;</Data></EventData></Event>", "invalid character reference"},
		{"unclosed", "<Event><System>", "the event is cut off"},
		{"doctype inside", "<Event><!DOCTYPE x></Event>", "not allowed inside an event"},
		{"nested Event", "<Event><EventData><Data>x<Event/></Data></EventData></Event>", "new <Event> starts"},
		{"overflow", "<Event><System><Level>256</Level></System></Event>", "fits 8 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEventXML([]byte(tt.in))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *DecodeError", err)
			}
			if !strings.Contains(de.Reason, tt.reason) || de.Format != FormatXML || de.End != int64(len(tt.in)) {
				t.Errorf("got %+v, want reason containing %q", de, tt.reason)
			}
		})
	}
	// Around the element: BOM, declaration, comments, line end.
	ev, err := ParseEventXML(join([]byte("\xEF\xBB\xBF<?xml version='1.0'?><!-- c -->\r\n"), l[0], []byte("\r\n")))
	if err != nil || ev.RecordID != 188679 {
		t.Errorf("prolog: %v", err)
	}
}

func TestParseEventJSONErrors(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "", "no JSON object"},
		{"array", "[]", "expected a JSON object"},
		{"truncated", `{"Id":1,"Message":"abc`, "cut off"},
		{"trailing", `{"Id":1} {"Id":2}`, "one event per call"},
		{"bad escape", `{"Id":1,"Message":"\q"}`, `invalid escape \q`},
		{"bad unicode escape", `{"Id":1,"Message":"\u12G4"}`, `invalid \u escape`},
		{"raw newline", "{\"Id\":1,\"Message\":\"a\nb\"}", "control character"},
		{"missing colon", `{"Id" 1}`, "expected ':'"},
		{"bad literal", `{"Id":1,"X":nul}`, "invalid literal"},
		{"bad number", `{"Id":01}`, "expected ',' or '}'"},
		{"negative id", `{"Id":-1}`, "not an integer"},
		{"huge id", `{"Id":99999999999}`, "fits 32 bits"},
		{"bad time", `{"Id":1,"TimeCreated":"tomorrow"}`, "TimeCreated"},
		{"bad guid", `{"Id":1,"ProviderId":"not-a-guid"}`, "expected a GUID"},
		{"deep nesting", `{"Id":1,"X":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEventJSON([]byte(tt.in))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *DecodeError", err)
			}
			if !strings.Contains(de.Reason, tt.reason) || de.Format != FormatJSON {
				t.Errorf("got %q, want reason containing %q", de.Reason, tt.reason)
			}
		})
	}
}
