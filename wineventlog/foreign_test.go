package wineventlog

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Exports admins make that carry no readable event data are refused with a
// message naming what the input is, in every encoding PowerShell writes.
func TestForeignExportsAreNamed(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"clixml", "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\r\n  <Obj RefId=\"0\">", "CLIXML"},
		{"clixml_declared", "<?xml version=\"1.0\"?>\n<!-- saved -->\n<Objs Version=\"1.1.0.1\">", "CLIXML"},
		{"csv_ps51", "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"Message\",\"Id\"\r\n", "Export-Csv"},
		{"csv_ps7", "\"Message\",\"Id\",\"Version\",\"ProviderName\",\"TimeCreated\"\r\n\"x\",\"1001\"\r\n", "Export-Csv"},
		{"wevtutil_text", "Event[0]:\r\n  Log Name: Microsoft-Intune-CertificateConnectors/Admin\r\n", "/f:text"},
		{"event_viewer_text", "Level\tDate and Time\tSource\tEvent ID\tTask Category\r\n", "Save as Text"},
		{"event_viewer_csv", "Level,Date and Time,Source,Event ID,Task Category\r\n", "Save as Text"},
		{"format_list", "\r\n\r\nTimeCreated  : 22/11/2026 10:00:00\r\nProviderName : x\r\n", "console display"},
		{"format_table", "\r\n   ProviderName: Microsoft-Intune-CertificateConnectors\r\n\r\nTimeCreated   Id\r\n", "console display"},
	}
	for _, tt := range tests {
		for _, enc := range []struct {
			name string
			conv func([]byte) []byte
		}{
			{"utf8", func(b []byte) []byte { return b }},
			{"utf8bom", func(b []byte) []byte { return append([]byte{0xEF, 0xBB, 0xBF}, b...) }},
			{"utf16le", func(b []byte) []byte { return toUTF16(b, false, true) }},
			{"utf16be_nobom", func(b []byte) []byte { return toUTF16(b, true, false) }},
		} {
			t.Run(tt.name+"/"+enc.name, func(t *testing.T) {
				_, err := NewDecoder(bytes.NewReader(enc.conv([]byte(tt.in))), Options{})
				if !errors.Is(err, ErrUnknownFormat) {
					t.Fatalf("err = %v, want ErrUnknownFormat", err)
				}
				if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "wevtutil qe <log> /f:xml") {
					t.Errorf("err = %v, want it to name %q and say what to run", err, tt.want)
				}
			})
		}
	}
}

// Inputs that are not event exports at all are refused at once with what
// they are and what to do, in every encoding that applies, instead of
// decoding to nothing or to "bytes that belong to no event".
func TestNonEventInputsAreNamed(t *testing.T) {
	const instead = "wevtutil qe <log> /f:xml"
	tests := []struct {
		name, in, what, todo string
		text                 bool // also in UTF-16 and with a BOM
	}{
		{"xml_other_root", "<?xml version=\"1.0\"?>\r\n<configuration>\r\n  <appSettings><add key=\"a\" value=\"b\"/></appSettings>\r\n</configuration>\r\n", "root element is <configuration>", instead, true},
		{"html", "<!DOCTYPE html>\n<html lang=\"en\"><head><title>Report</title></head><body><p>hello</p></body></html>\n", "HTML page", instead, true},
		{"html_without_doctype", "<html><body>x</body></html>", "HTML page", instead, true},
		{"event_viewer_query", "<QueryList>\r\n  <Query Id=\"0\" Path=\"Application\"><Select Path=\"Application\">*</Select></Query>\r\n</QueryList>", "Event Viewer query", instead, true},
		{"json_objects", "[{\"Name\":\"a\",\"Size\":1},{\"Name\":\"b\",\"Size\":2}]", "members Name, Size", instead, true},
		{"json_lines", "{\"user\":\"a\"}\n{\"user\":\"b\"}\n", "members user", instead, true},
		// "id" is Get-WinEvent's Id to a parser that ignores case, but its
		// value is no event ID and nothing else is an event member.
		{"json_other_id", `{"time":"2026-11-22T10:00:00Z","exporter":"e","id":"abc","document":{}}`, "members time, exporter, id, document", instead, true},
		{"json_empty_objects", "[{}, {}]\n", "the first one is empty", instead, true},
		{"json_numbers", "[1, 2, 3]", "holds numbers", instead, true},
		{"json_strings", "[\"a\", \"b\"]", "holds strings", instead, true},
		{"otlp_json", `{"resourceLogs":[{"resource":{},"scopeLogs":[]}]}`, "OTLP JSON", instead, true},
		{"ecs_documents", `{"@timestamp":"2026-11-22T10:00:00Z","event":{"code":"1001"}}`, "ECS documents", instead, true},
		{"hec_events", `{"time":1700000000.5,"host":"x","sourcetype":"s","event":{"a":1}}`, "HTTP Event Collector", instead, true},
		{"zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00admin.evtx", "ZIP archive", "unzip it", false},
		{"empty_zip", "PK\x05\x06" + strings.Repeat("\x00", 18), "ZIP archive", "unzip it", false},
		{"gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "gzip-compressed", "decompress it first", false},
		{"7zip", "7z\xbc\xaf\x27\x1c\x00\x04", "7-Zip archive", "extract it first", false},
	}
	for _, tt := range tests {
		encodings := []struct {
			name string
			conv func([]byte) []byte
		}{{"utf8", func(b []byte) []byte { return b }}}
		if tt.text {
			encodings = append(encodings, []struct {
				name string
				conv func([]byte) []byte
			}{
				{"utf8bom", func(b []byte) []byte { return append([]byte{0xEF, 0xBB, 0xBF}, b...) }},
				{"utf16le", func(b []byte) []byte { return toUTF16(b, false, true) }},
				{"utf16be_nobom", func(b []byte) []byte { return toUTF16(b, true, false) }},
			}...)
		}
		for _, enc := range encodings {
			t.Run(tt.name+"/"+enc.name, func(t *testing.T) {
				in := enc.conv([]byte(tt.in))
				_, err := NewDecoder(bytes.NewReader(in), Options{})
				if !errors.Is(err, ErrUnknownFormat) {
					t.Fatalf("NewDecoder: err = %v, want ErrUnknownFormat", err)
				}
				if !strings.Contains(err.Error(), tt.what) || !strings.Contains(err.Error(), tt.todo) {
					t.Errorf("NewDecoder: err = %v, want it to name %q and say %q", err, tt.what, tt.todo)
				}
				// What a file reader that asks Detect first gets.
				if Detect(in) == FormatUnknown {
					if err := Unrecognised(in); !strings.Contains(err.Error(), tt.what) {
						t.Errorf("Unrecognised: %v, want it to name %q", err, tt.what)
					}
				}
			})
		}
	}
}

// Event exports, and reads resumed inside one, are not mistaken for them.
func TestForeignExportsLeaveEventsAlone(t *testing.T) {
	for _, in := range []string{
		`<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1001</EventID></System></Event>`,
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1001</EventID></System></Event></Events>",
		`[{"Id":1001,"ProviderName":"Microsoft-Intune-CertificateConnectors","TimeCreated":"2026-11-22T10:00:00+01:00"}]`,
		`{"Id":1001,"TimeCreated":"\/Date(1700000000000)\/"}`,
		// An unknown wrapper around events, and JSON whose first object is
		// not an event but whose second is: decoded, the odd object reported.
		"<Export><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1001</EventID></System></Event></Export>",
		"{\"Name\":\"x\"}\n{\"Id\":1001,\"TimeCreated\":\"\\/Date(1700000000000)\\/\"}\n",
		// An event larger than the prefix, after a declaration.
		"<?xml version=\"1.0\"?><Events><Event><System><EventID>1</EventID></System><EventData><Data>" + strings.Repeat("x", 80<<10) + "</Data></EventData></Event></Events>",
		"[]",
		"",
	} {
		if _, err := NewDecoder(strings.NewReader(in), Options{}); err != nil {
			t.Errorf("%.40q: %v", in, err)
		}
	}
	// A JSON array resumed after its first element.
	if _, err := NewDecoder(strings.NewReader(`,{"Id":1001}]`), Options{Format: FormatJSON}); err != nil {
		t.Errorf("resumed array: %v", err)
	}
}
