package wineventlog

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

func ptr[T any](v T) *T { return &v }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeAll reads every record and every decode error from data.
func decodeAll(t testing.TB, data []byte, opts Options) ([]Record, []*DecodeError) {
	t.Helper()
	d, err := NewDecoder(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	return drain(t, d)
}

func drain(t testing.TB, d Decoder) ([]Record, []*DecodeError) {
	t.Helper()
	var recs []Record
	var errs []*DecodeError
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("decoder does not end")
		}
		r, err := d.Next()
		if err == io.EOF {
			return recs, errs
		}
		var de *DecodeError
		if errors.As(err, &de) {
			errs = append(errs, de)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, r)
	}
}

func toUTF16(b []byte, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(string(b)))
	var out []byte
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

const (
	adminProvider = "Microsoft-Intune-CertificateConnectors"
	adminGUID     = "{BFD22B4F-4968-5F48-A37C-42AD34E3EEDB}"
	adminChannel  = "Microsoft-Intune-CertificateConnectors/Admin"
)

// adminEvent is the first event of the wevtutil fixtures: the real event of
// the current connector's Admin log, with host names replaced.
func adminEvent() Event {
	return Event{
		ProviderName: adminProvider,
		ProviderGUID: adminGUID,
		EventID:      3001,
		Version:      ptr[uint8](0),
		Level:        2,
		Task:         62533,
		Opcode:       ptr[uint8](0),
		Keywords:     0x2000f00000000000,
		TimeCreated:  time.Date(2024, 4, 15, 12, 41, 30, 57730600, time.UTC),
		RecordID:     188679,
		ProcessID:    ptr[uint32](3768),
		ThreadID:     ptr[uint32](5868),
		Channel:      adminChannel,
		Computer:     "NDES.example.com",
		UserSID:      "S-1-5-18",
		EventData: []Data{
			{"userId", "54c5bdfb-e156-44bd-9d22-ad28e1de5d43"},
			{"deviceId", "04aae477-6c9f-478a-822b-502d65d8842f"},
			{"serialNumber", "6C00000010CFD199BD93A987FF000000000010"},
			{"thumbprint", "40C302D8003803FA90B4B41E0BBF1328F8285BD1"},
			{"certificateAuthority", `ca01.example.com\Example-Issuing-CA`},
			{"exception", "System.InvalidOperationException: Unable to revoke certificate with serial number 6C00000010CFD199BD93A987FF000000000010 and CAConfiguration ca01.example.com\\Example-Issuing-CA\r\n" +
				"   at Microsoft.Intune.Connectors.PkiRevokeProcessor.RevokeCertificate(CARevocationRequest revocationRequest)\r\n" +
				"   at Microsoft.Intune.Connectors.PkiRevokeProcessor.<Process>d__17.MoveNext()"},
		},
	}
}

func withoutOriginal(ev Event) Event {
	ev.Original = ""
	return ev
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		format   Format
		events   int
		ids      []uint64 // record IDs in order
		rendered bool
	}{
		{name: "wevtutil lines", file: "wevtutil-admin.xml", format: FormatXML, events: 3, ids: []uint64{188679, 188680, 188681}},
		{name: "wevtutil concatenated", file: "wevtutil-admin-concat.xml", format: FormatXML, events: 3, ids: []uint64{188679, 188680, 188681}},
		{name: "wevtutil through PowerShell redirect (UTF-16LE BOM)", file: "wevtutil-admin-ps.xml", format: FormatXML, events: 3, ids: []uint64{188679, 188680, 188681}},
		{name: "RenderedXml Events document", file: "rendered-events.xml", format: FormatXML, events: 3, ids: []uint64{188679, 188680, 188681}, rendered: true},
		{name: "Event Viewer document, UTF-8 BOM declared UTF-16", file: "eventviewer.xml", format: FormatXML, events: 3, ids: []uint64{188679, 188680, 188681}, rendered: true},
		{name: "legacy classic log", file: "legacy-connector.xml", format: FormatXML, events: 2, ids: []uint64{5123, 5124}},
		{name: "XML features", file: "features.xml", format: FormatXML, events: 3, ids: []uint64{19, 7, 42}},
		{name: "PowerShell 5.1 array", file: "ps51-array.json", format: FormatJSON, events: 2, ids: []uint64{188679, 188680}, rendered: true},
		{name: "PowerShell 5.1 array UTF-16LE", file: "ps51-array-utf16.json", format: FormatJSON, events: 2, ids: []uint64{188679, 188680}, rendered: true},
		{name: "PowerShell 5.1 default depth", file: "ps51-depth2.json", format: FormatJSON, events: 2, ids: []uint64{188679, 188680}, rendered: true},
		{name: "PowerShell 5.1 one object", file: "ps51-object.json", format: FormatJSON, events: 1, ids: []uint64{188681}, rendered: true},
		{name: "PowerShell 7 object", file: "ps7-object.json", format: FormatJSON, events: 1, ids: []uint64{188679}, rendered: true},
		{name: "ConvertTo-Json -Compress lines", file: "pscompress.jsonl", format: FormatJSON, events: 4, ids: []uint64{188679, 5123, 188680, 188681}, rendered: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := readFixture(t, tt.file)
			if got := Detect(data); got != tt.format {
				t.Fatalf("Detect = %q, want %q", got, tt.format)
			}
			d, err := NewDecoder(bytes.NewReader(data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Format() != tt.format {
				t.Errorf("Format() = %q", d.Format())
			}
			recs, errs := drain(t, d)
			for _, e := range errs {
				t.Errorf("unexpected decode error: %v", e)
			}
			if len(recs) != tt.events {
				t.Fatalf("got %d events, want %d", len(recs), tt.events)
			}
			var prevEnd int64
			for i, r := range recs {
				if r.Event.RecordID != tt.ids[i] {
					t.Errorf("event %d: RecordID %d, want %d", i, r.Event.RecordID, tt.ids[i])
				}
				if r.Position.Offset < prevEnd || r.Position.End <= r.Position.Offset || r.Position.End > int64(len(data)) {
					t.Errorf("event %d: bad position %+v after %d", i, r.Position, prevEnd)
				}
				prevEnd = r.Position.End
				if r.Event.Original == "" {
					t.Errorf("event %d: Original not set", i)
				}
				if tt.rendered && r.Event.LevelText == "" {
					t.Errorf("event %d: no rendered level", i)
				}
				if !tt.rendered && r.Event.Message != "" {
					t.Errorf("event %d: unexpected message %q", i, r.Event.Message)
				}
			}
			// The bytes at Offset must start the event in the source.
			first := data[recs[0].Position.Offset:recs[0].Position.End]
			if tt.format == FormatXML && !bytes.HasPrefix(first, []byte("<")) {
				t.Errorf("first event's bytes start with %q", first[:min(8, len(first))])
			}
			if tt.format == FormatJSON && !bytes.HasPrefix(first, []byte("{")) {
				t.Errorf("first event's bytes start with %q", first[:min(8, len(first))])
			}
		})
	}
}

func TestAdminEventFields(t *testing.T) {
	for _, file := range []string{"wevtutil-admin.xml", "wevtutil-admin-concat.xml", "wevtutil-admin-ps.xml", "eventviewer.xml", "rendered-events.xml"} {
		t.Run(file, func(t *testing.T) {
			recs, _ := decodeAll(t, readFixture(t, file), Options{})
			got := withoutOriginal(recs[0].Event)
			want := adminEvent()
			if strings.Contains(file, "rendered") || file == "eventviewer.xml" {
				want.Message = "Failure downloading Revocation requests"
				want.LevelText = "Error"
				want.TaskText = "RevokeRequestFailure"
				want.OpcodeText = "Info"
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("event differs\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestOriginal(t *testing.T) {
	data := readFixture(t, "wevtutil-admin.xml")
	recs, _ := decodeAll(t, data, Options{})
	line := data[recs[0].Position.Offset:recs[0].Position.End]
	if recs[0].Event.Original != string(line) {
		t.Errorf("Original is not the event's text:\n%q", recs[0].Event.Original)
	}
	// UTF-16 input: Original is the same text in UTF-8.
	recs16, _ := decodeAll(t, readFixture(t, "wevtutil-admin-ps.xml"), Options{})
	if recs16[0].Event.Original != string(line) {
		t.Errorf("UTF-16 Original differs:\n%q", recs16[0].Event.Original)
	}
	recs, _ = decodeAll(t, data, Options{NoOriginal: true})
	if recs[0].Event.Original != "" {
		t.Error("NoOriginal still filled Original")
	}
	if got := withoutOriginal(recs[0].Event); !reflect.DeepEqual(got, adminEvent()) {
		t.Errorf("NoOriginal changed the event: %+v", got)
	}
}

func TestLegacyEvent(t *testing.T) {
	recs, _ := decodeAll(t, readFixture(t, "legacy-connector.xml"), Options{})
	ev := recs[0].Event
	if ev.EventID != 20102 || ev.Qualifiers == nil || *ev.Qualifiers != 0 || ev.Channel != "Microsoft Intune Connector" || ev.Keywords != 0x80000000000000 {
		t.Fatalf("system fields: %+v", ev)
	}
	if len(ev.EventData) != 1 || ev.EventData[0].Name != "" {
		t.Fatalf("want one unnamed Data, got %+v", ev.EventData)
	}
	v := ev.EventData[0].Value
	if !strings.HasPrefix(v, `{"Metric":{"Dimensions":{`) || !strings.Contains(v, `"DiagnosticCode":"0x00000400"`) || !strings.Contains(v, `"Name":"PkcsCertIssue_Failure"`) {
		t.Errorf("Metric JSON not intact: %s", v)
	}
	if !strings.Contains(v, `ca01.example.com\\Example-Issuing-CA`) {
		t.Errorf("JSON escapes in the Data text changed: %s", v)
	}
}

func TestXMLFeatures(t *testing.T) {
	recs, _ := decodeAll(t, readFixture(t, "features.xml"), Options{})
	scm := recs[0].Event
	if scm.ProviderGUID != "{555908D1-A6D7-4695-8E1E-26931D2012F4}" || scm.EventSourceName != "Service Control Manager" ||
		*scm.Qualifiers != 16384 || scm.ActivityID != "{A1B2C3D4-0000-4000-8000-00000000ABCD}" || scm.Keywords != 0x8080000000000000 {
		t.Errorf("prefixed event: %+v", scm)
	}
	if want := time.Date(2010, 11, 21, 3, 56, 0, 110027900, time.UTC); !scm.TimeCreated.Equal(want) {
		t.Errorf("TimeCreated %v", scm.TimeCreated)
	}
	wantData := []Data{{"param1", "Windows Modules Installer"}, {"param2", "running"}, {"Binary", "540072007500730074006500640049006E007300740061006C006C00650072002F0034000000"}}
	if !reflect.DeepEqual(scm.EventData, wantData) {
		t.Errorf("EventData %+v", scm.EventData)
	}

	pnp := recs[1].Event
	wantUD := []Data{{"InstallSubsystemState", "false"}, {"CachingSubsystemState", "false"}, {"Device.Id", `PCI\VEN_8086&DEV_100E`}, {"Device.Present", ""}}
	if pnp.UserDataRoot != "INFO_PNP_STATE" || !reflect.DeepEqual(pnp.UserData, wantUD) || pnp.EventData != nil {
		t.Errorf("UserData: root %q items %+v", pnp.UserDataRoot, pnp.UserData)
	}

	misc := recs[2].Event
	wantMisc := []Data{
		{"quoted", `a "b" 'c' AB` + "\U0001F600" + ` <tag> & café`},
		{"cdata", "<raw> & stuff"},
		{"split", "onetwothree"},
		{"empty", ""},
		{"emptypair", ""},
		{"", "unnamed"},
		{"attr>'quote", "v"},
	}
	if !reflect.DeepEqual(misc.EventData, wantMisc) {
		t.Errorf("EventData\n got %q\nwant %q", misc.EventData, wantMisc)
	}
	if want := time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC); !misc.TimeCreated.Equal(want) || misc.TimeCreated.Location() != time.UTC {
		t.Errorf("offset time not converted to UTC: %v", misc.TimeCreated)
	}
	if misc.Version != nil || misc.Opcode != nil || misc.ProcessID != nil {
		t.Errorf("absent fields should stay nil: %+v", misc)
	}
}

// JSON carries the same events as the XML, less EventData names.
func TestJSONMatchesXML(t *testing.T) {
	xmlRecs, _ := decodeAll(t, readFixture(t, "wevtutil-admin.xml"), Options{NoOriginal: true})
	for _, file := range []string{"ps51-array.json", "ps51-array-utf16.json", "ps7-object.json", "pscompress.jsonl", "ps51-object.json"} {
		t.Run(file, func(t *testing.T) {
			recs, _ := decodeAll(t, readFixture(t, file), Options{NoOriginal: true})
			for _, r := range recs {
				got := r.Event
				if got.EventID != 3001 {
					continue
				}
				var want Event
				for _, x := range xmlRecs {
					if x.Event.RecordID == got.RecordID {
						want = x.Event
					}
				}
				want.EventData = append([]Data(nil), want.EventData...)
				for i := range want.EventData {
					want.EventData[i].Name = ""
				}
				want.Message = "Failure downloading Revocation requests"
				want.LevelText, want.TaskText, want.OpcodeText = "Error", "RevokeRequestFailure", "Info"
				if file != "ps7-object.json" {
					// Windows PowerShell keeps milliseconds only.
					want.TimeCreated = want.TimeCreated.Truncate(time.Millisecond)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("record %d differs\n got %+v\nwant %+v", got.RecordID, got, want)
				}
			}
		})
	}
}

func TestJSONDepthLost(t *testing.T) {
	recs, _ := decodeAll(t, readFixture(t, "ps51-depth2.json"), Options{})
	for _, r := range recs {
		if r.Event.EventData != nil {
			t.Errorf("type names taken for data: %+v", r.Event.EventData)
		}
		if r.Event.UserSID != "S-1-5-18" || r.Event.ProviderGUID != adminGUID {
			t.Errorf("fields: %+v", r.Event)
		}
	}
}

func TestJSONLegacy(t *testing.T) {
	recs, _ := decodeAll(t, readFixture(t, "pscompress.jsonl"), Options{})
	ev := recs[1].Event
	if ev.EventID != 20102 || ev.Qualifiers == nil || *ev.Qualifiers != 0 || ev.ProviderGUID != "" || ev.UserSID != "" ||
		!reflect.DeepEqual(ev.KeywordsText, []string{"Classic"}) || ev.Keywords != 0x80000000000000 {
		t.Errorf("legacy JSON event: %+v", ev)
	}
	if want := time.UnixMilli(1622621742486).UTC(); !ev.TimeCreated.Equal(want) {
		t.Errorf("TimeCreated %v, want %v", ev.TimeCreated, want)
	}
	if len(ev.EventData) != 1 || !strings.Contains(ev.EventData[0].Value, `"DiagnosticCode":"0x00000400"`) {
		t.Errorf("Metric JSON: %+v", ev.EventData)
	}
}

func TestParseEventJSONValues(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want func(Event) bool
	}{
		{"negative keywords", `{"Id":4624,"Keywords":-9214364837600034816}`, func(e Event) bool { return e.Keywords == 0x8020000000000000 }},
		{"case-insensitive names", `{"id":7,"PROVIDERNAME":"p","logname":"l"}`, func(e Event) bool { return e.EventID == 7 && e.ProviderName == "p" && e.Channel == "l" }},
		{"UserId string", `{"Id":1,"UserId":"S-1-5-19"}`, func(e Event) bool { return e.UserSID == "S-1-5-19" }},
		{"UserId null", `{"Id":1,"UserId":null}`, func(e Event) bool { return e.UserSID == "" }},
		{"ISO time with offset", `{"Id":1,"TimeCreated":"2024-04-15T14:41:30.0577306+02:00"}`, func(e Event) bool {
			return e.TimeCreated.Equal(time.Date(2024, 4, 15, 12, 41, 30, 57730600, time.UTC)) && e.TimeCreated.Location() == time.UTC
		}},
		{"ISO time trimmed fraction", `{"Id":1,"TimeCreated":"2024-04-15T14:41:30.05+02:00"}`, func(e Event) bool {
			return e.TimeCreated.Equal(time.Date(2024, 4, 15, 12, 41, 30, 50000000, time.UTC))
		}},
		{"Date with offset", `{"Id":1,"TimeCreated":"\/Date(1713184890057+0200)\/"}`, func(e Event) bool { return e.TimeCreated.UnixMilli() == 1713184890057 }},
		{"Get-Date object", `{"Id":1,"TimeCreated":{"value":"\/Date(1713184890057)\/","DisplayHint":2,"DateTime":"Monday, April 15, 2024 2:41:30 PM"}}`, func(e Event) bool { return e.TimeCreated.UnixMilli() == 1713184890057 }},
		{"property values of every kind", `{"Id":1,"Properties":[{"Value":"s"},{"Value":42},{"Value":-1.5e3},{"Value":true},{"Value":null},{"Value":{"a": [1, 2]}},{"Value":[ "x" , "y" ]}]}`, func(e Event) bool {
			want := []Data{{"", "s"}, {"", "42"}, {"", "-1.5e3"}, {"", "true"}, {"", ""}, {"", `{"a":[1,2]}`}, {"", `["x","y"]`}}
			return reflect.DeepEqual(e.EventData, want)
		}},
		{"escapes", `{"Id":1,"Message":"a\u003cb\u003e \"q\" \\ \/ \r\n \ud83d\ude00 \ud800"}`, func(e Event) bool { return e.Message == "a<b> \"q\" \\ / \r\n \U0001F600 \uFFFD" }},
		{"unknown fields ignored", `{"Id":1,"Extra":{"deep":[{"x":null}]},"Another":[true,false]}`, func(e Event) bool { return e.EventID == 1 }},
		{"GUIDs normalised", `{"Id":1,"ProviderId":"bfd22b4f-4968-5f48-a37c-42ad34e3eedb","ActivityId":"{0a1b2c3d-0000-0000-0000-000000000001}"}`, func(e Event) bool {
			return e.ProviderGUID == adminGUID && e.ActivityID == "{0A1B2C3D-0000-0000-0000-000000000001}"
		}},
		{"nulls", `{"Id":1,"Version":null,"Qualifiers":null,"Opcode":null,"ProcessId":null,"Message":null,"Properties":null,"KeywordsDisplayNames":null}`, func(e Event) bool {
			return e.Version == nil && e.Qualifiers == nil && e.Opcode == nil && e.ProcessID == nil && e.Message == "" && e.EventData == nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseEventJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(ev) {
				t.Errorf("unexpected event %+v", ev)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	xml := []byte("\r\n  <Event xmlns='x'>")
	json := []byte(" [\r\n {")
	tests := []struct {
		name string
		in   []byte
		want Format
	}{
		{"XML", xml, FormatXML},
		{"XML UTF-8 BOM", append([]byte{0xEF, 0xBB, 0xBF}, xml...), FormatXML},
		{"XML UTF-16LE BOM", toUTF16(xml, false, true), FormatXML},
		{"XML UTF-16BE BOM", toUTF16(xml, true, true), FormatXML},
		{"XML UTF-16LE no BOM", toUTF16(xml, false, false), FormatXML},
		{"XML UTF-16BE no BOM", toUTF16(xml, true, false), FormatXML},
		{"JSON array", json, FormatJSON},
		{"JSON object", []byte("{\"Id\":1}"), FormatJSON},
		{"JSON UTF-16LE", toUTF16(json, false, true), FormatJSON},
		{"JSON resumed inside an array", []byte(",\r\n    {"), FormatJSON},
		{"EVTX", []byte("ElfFile\x00\x00\x00"), FormatEVTX},
		{"text", []byte("Event 3001 happened"), FormatUnknown},
		{"empty", nil, FormatUnknown},
		{"binary", []byte{0x00, 0x01, 0x02, 0x03, 0xFF}, FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect(tt.in); got != tt.want {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewDecoderErrors(t *testing.T) {
	_, err := NewDecoder(strings.NewReader("ElfFile\x00rest of header"), Options{})
	if !errors.Is(err, ErrEVTX) {
		t.Errorf("EVTX: %v", err)
	}
	_, err = NewDecoder(strings.NewReader("Date,Source,Event ID\r\n"), Options{})
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), `"Date,Source,Even"`) || !strings.Contains(err.Error(), "Get-WinEvent") {
		t.Errorf("unknown: %v", err)
	}
	d, err := NewDecoder(strings.NewReader(" \r\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Errorf("empty input: %v", err)
	}
	readErr := errors.New("disk on fire")
	_, err = NewDecoder(errReader{readErr}, Options{})
	if !errors.Is(err, readErr) {
		t.Errorf("read error before any byte: %v", err)
	}
	// Later read errors surface from Next, after the events read before.
	d, err = NewDecoder(io.MultiReader(strings.NewReader("<Ev"), errReader{readErr}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); !errors.Is(err, readErr) {
		t.Errorf("read error while detecting: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadErrorIsPlain(t *testing.T) {
	readErr := errors.New("network share went away")
	line := readFixture(t, "wevtutil-admin.xml")
	for _, data := range [][]byte{line, toUTF16(line, false, true), readFixture(t, "pscompress.jsonl")} {
		// The first chunk holds whole events and ends mid-event.
		r := io.MultiReader(bytes.NewReader(data[:len(data)-100]), errReader{readErr})
		d, err := NewDecoder(r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var last error
		for i := 0; i < 10; i++ {
			_, err := d.Next()
			if err != nil {
				var de *DecodeError
				if errors.As(err, &de) {
					t.Fatalf("read error reported as damage: %v", err)
				}
				last = err
				break
			}
		}
		if !errors.Is(last, readErr) {
			t.Errorf("got %v, want the read error", last)
		}
	}
}
