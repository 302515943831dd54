package wineventlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/magic"
)

// exportInstead is the advice for inputs that hold no events, or lost
// their data on the way.
const exportInstead = "export the events themselves instead: wevtutil qe <log> /f:xml, Event Viewer's Save As (EVTX or XML), or Get-WinEvent | ConvertTo-Json"

// foreignError explains, wrapping ErrUnknownFormat, an input that is not an
// event export although it may look like one: an archive, an export that
// lost the event data, an XML document of another kind, JSON that is not
// events. detected is what Detect said of p. It returns nil for anything
// else, which includes every event export and a read resumed inside one.
func foreignError(p []byte, detected Format, enc encoding, bom int) error {
	if what, instead := archive(p); what != "" {
		return fmt.Errorf("%w: %s; %s", ErrUnknownFormat, what, instead)
	}
	var what string
	switch detected {
	case FormatXML:
		what = foreignXML(asciiPrefix(p, enc, bom, 4096))
	case FormatJSON:
		what = foreignJSON(p, enc, bom)
	case FormatUnknown:
		what = foreignText(asciiPrefix(p, enc, bom, 2048))
	}
	if what == "" {
		return nil
	}
	return fmt.Errorf("%w: %s; %s", ErrUnknownFormat, what, exportInstead)
}

// archive recognises the packing an export is often handed on in.
func archive(p []byte) (what, instead string) {
	switch {
	case bytes.HasPrefix(p, []byte(magic.ZIP)), bytes.HasPrefix(p, []byte(magic.ZIPEmpty)), bytes.HasPrefix(p, []byte(magic.ZIPSpanned)):
		return "the input is a ZIP archive (a zipped export?)", "unzip it and read the .evtx, .xml or .json files inside"
	case bytes.HasPrefix(p, []byte(magic.Gzip)):
		return "the input is gzip-compressed", "decompress it first (gzip -d, or 7-Zip on Windows) and read the file inside"
	case bytes.HasPrefix(p, []byte(magic.SevenZip)):
		return "the input is a 7-Zip archive", "extract it first and read the .evtx, .xml or .json files inside"
	}
	return "", ""
}

// foreignText recognises exports that lost the event data on the way (CSV,
// text, console output). s is the input's start as ASCII.
func foreignText(s string) string {
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

// foreignXML recognises XML documents that hold no events. Any document
// whose first element is Event or Events is left to the decoder, and so is
// one with an <Event> element in its first 4 KiB under another root: a
// wrapper the decoder passes over.
func foreignXML(s string) string {
	root := rootElement(s)
	switch root {
	case "", "Event", "Events":
		return ""
	case "Objs":
		return "the input is PowerShell CLIXML (Export-Clixml), a serialisation of .NET objects rather than of events"
	}
	if kind, _, _ := findEventTag([]byte(s), 0, true); kind == tagEventStart {
		return ""
	}
	switch strings.ToLower(root) {
	case "html", "head", "body":
		return "the input is an HTML page (a saved web page or report), not an event export"
	case "querylist":
		return "the input is an Event Viewer query (QueryList), which selects events but holds none"
	case "viewerconfig":
		return "the input is an Event Viewer custom view definition, which selects events but holds none"
	case "instrumentationmanifest":
		return "the input is an event provider manifest, which defines events but holds none"
	}
	if strings.Contains(strings.ToLower(s[:min(len(s), 512)]), "<!doctype html") {
		return "the input is an HTML page (a saved web page or report), not an event export"
	}
	return "the input is an XML document whose root element is <" + root + ">, not Windows events (<Event> or <Events>)"
}

// foreignJSON recognises JSON that holds no events, judged by the complete
// values in the prefix: no object at all, or objects of which the event
// parser refuses every one as not an event. A damaged object proves
// nothing either way, and an object cut by the end of the prefix is not
// looked at, so a file whose first event starts after a long run of other
// objects is left to the decoder, which reports those objects one by one.
func foreignJSON(p []byte, enc encoding, bom int) string {
	b := p[bom:]
	if enc != encUTF8 {
		b = appendUTF16(nil, b[:len(b)&^1], enc == encUTF16BE)
	}
	const separators = " \t\r\n,[]\uFEFF"
	b = bytes.TrimLeft(b, separators)
	if len(b) == 0 {
		return ""
	}
	if b[0] != '{' {
		if bytes.IndexByte(b, '{') >= 0 {
			return ""
		}
		return "the input is JSON, but holds " + jsonValueKind(b[0]) + " where events would be objects"
	}
	var first []string
	found := false
	var jp jsonParser
	for len(b) > 0 && b[0] == '{' {
		status, end := frameJSON(b)
		if status != frameOK {
			break
		}
		_, perr := jp.parse(b[:end], false)
		if perr == nil {
			return ""
		}
		// The parser matches member names regardless of case, as
		// PowerShell does, so an object of another kind can fail on a
		// value ("id": "x"); without a single member as PowerShell spells
		// it, it is not a damaged event either.
		if names := memberNames(b[:end]); !found && (perr.notEvent || !hasEventMember(names)) {
			first, found = names, true
		}
		b = bytes.TrimLeft(b[end:], separators)
	}
	if !found {
		return ""
	}
	return describeJSON(first)
}

// eventMembers are the members by which the parser knows an event, as
// PowerShell spells them: Get-WinEvent's, then Get-EventLog's.
var eventMembers = []string{"Id", "ProviderName", "LogName", "RecordId", "TimeCreated", "EventID", "InstanceId", "TimeGenerated"}

func hasEventMember(names []string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return slices.Contains(eventMembers, n) })
}

// describeJSON names what JSON objects with these members are: records
// some other tool already converted, or just their members.
func describeJSON(names []string) string {
	has := func(n string) bool { return slices.Contains(names, n) }
	switch {
	case has("resourceLogs"):
		return "the input is OTLP JSON: log records already converted, not Windows events"
	case has("@timestamp"):
		return "the input is JSON documents with @timestamp (Elasticsearch or ECS documents): records already converted, not Windows events"
	case has("event") && (has("sourcetype") || has("time")):
		return "the input is Splunk HTTP Event Collector events: records already converted, not Windows events"
	}
	if len(names) == 0 {
		return "the input is JSON, but its objects are not Windows events: the first one is empty ({})"
	}
	if len(names) > 6 {
		names = append(names[:6:6], "...")
	}
	return "the input is JSON, but its objects are not Windows events: the first one has the members " + strings.Join(names, ", ")
}

func jsonValueKind(c byte) string {
	switch {
	case c == '"':
		return "strings"
	case c == '-' || c >= '0' && c <= '9':
		return "numbers"
	case c == 't' || c == 'f':
		return "true/false values"
	case c == 'n':
		return "null values"
	}
	return "something other than objects"
}

// memberNames lists the member names of the JSON object b, in order. It
// runs only on input already refused, so it may take its time.
func memberNames(b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var names []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		if name, ok := t.(string); ok {
			names = append(names, name)
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	return names
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
