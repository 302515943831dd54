package wineventlog

import (
	"strings"
)

// foreignExport recognises exports admins often make of an event log that
// are not event exports: they lost the event data on the way (CSV, text,
// console output) or serialise .NET objects rather than events (CLIXML).
// It returns a sentence saying what the input is and why it cannot be read,
// or "" when the input is none of them. xmlRoot is set when detection chose
// XML, so only the root element is checked.
func foreignExport(p []byte, enc encoding, bom int, xmlRoot bool) string {
	s := asciiPrefix(p, enc, bom, 2048)
	if xmlRoot {
		if rootElement(s) == "Objs" {
			return "the input is PowerShell CLIXML (Export-Clixml), a serialisation of .NET objects rather than of events"
		}
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimLeft(s, " \t\r\n"), "\n")
	line = strings.TrimRight(line, "\r")
	switch {
	case strings.HasPrefix(line, "#TYPE "),
		strings.HasPrefix(line, `"`) && strings.Contains(line, `"Id"`) && (strings.Contains(line, `"ProviderName"`) || strings.Contains(line, `"TimeCreated"`)):
		return "the input is a CSV export (Export-Csv), which keeps an event's Properties only as a type name, so its event data is gone"
	case strings.HasPrefix(line, "Event[") && strings.HasSuffix(line, "]:"):
		return "the input is wevtutil's text output (/f:text), which keeps no event data by name"
	case strings.Contains(line, "Event ID") && strings.Contains(line, "Date and Time"):
		return "the input is Event Viewer's \"Save as Text\" or CSV, which keeps only the rendered message, not the event data"
	case strings.HasPrefix(line, "TimeCreated ") && strings.Contains(line, ":"),
		strings.HasPrefix(line, "ProviderName: "):
		return "the input is PowerShell's console display of events (Format-List, Format-Table or a plain > redirect), which truncates and drops the event data"
	}
	return ""
}

// asciiPrefix returns up to max characters of p after the BOM, with
// anything outside ASCII as '?', for recognising markers.
func asciiPrefix(p []byte, enc encoding, bom, max int) string {
	var b strings.Builder
	if enc == encUTF8 {
		p = p[bom:]
		for i := 0; i < len(p) && b.Len() < max; i++ {
			c := p[i]
			if c >= 0x80 {
				c = '?'
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	for i := bom; i+1 < len(p) && b.Len() < max; i += 2 {
		u := unitAt(p, i, enc == encUTF16BE)
		if u >= 0x80 {
			u = '?'
		}
		b.WriteByte(byte(u))
	}
	return b.String()
}

// rootElement returns the name of the first element, past an XML
// declaration, comments, processing instructions and a doctype.
func rootElement(s string) string {
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 || i+1 >= len(s) {
			return ""
		}
		s = s[i+1:]
		switch s[0] {
		case '?', '!':
			end := ">"
			if strings.HasPrefix(s, "!--") {
				end = "-->"
			}
			j := strings.Index(s, end)
			if j < 0 {
				return ""
			}
			s = s[j+len(end):]
			continue
		}
		n := strings.IndexAny(s, " \t\r\n/>")
		if n < 0 {
			return ""
		}
		name := s[:n]
		if k := strings.IndexByte(name, ':'); k >= 0 {
			name = name[k+1:]
		}
		return name
	}
}
