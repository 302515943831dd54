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

// Event exports, and reads resumed inside one, are not mistaken for them.
func TestForeignExportsLeaveEventsAlone(t *testing.T) {
	for _, in := range []string{
		`<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1001</EventID></System></Event>`,
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1001</EventID></System></Event></Events>",
		`[{"Id":1001,"ProviderName":"Microsoft-Intune-CertificateConnectors","TimeCreated":"2026-11-22T10:00:00+01:00"}]`,
		`{"Id":1001,"TimeCreated":"\/Date(1700000000000)\/"}`,
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
