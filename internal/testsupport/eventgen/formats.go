package eventgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Rendered adds what a rendering export (wevtutil /f:RenderedXml, Event
// Viewer, Get-WinEvent) carries besides the event itself. The message text
// is the catalog description: the connector's own message templates are not
// published.
func Rendered(cat *mapping.Catalog, ev wineventlog.Event) wineventlog.Event {
	ev.LevelText = map[uint8]string{1: "Critical", 2: "Error", 3: "Warning", 4: "Information", 5: "Verbose"}[ev.Level]
	if e := cat.Event(ev.EventID); e != nil {
		ev.Message = e.Description
		if e.Generation == mapping.GenerationCurrent {
			// EventSource names a task after its event.
			ev.TaskText = e.Name
			ev.OpcodeText = "Info"
		}
	}
	if ev.Keywords&0x80000000000000 != 0 {
		ev.KeywordsText = []string{"Classic"}
	}
	return ev
}

// Encoding is a text encoding sample files are written in.
type Encoding int

const (
	UTF8 Encoding = iota
	UTF8BOM
	UTF16LEBOM // what Windows PowerShell's > and Out-File write
	UTF16LE
	UTF16BEBOM
)

// Encode converts UTF-8 text to the encoding.
func Encode(b []byte, enc Encoding) []byte {
	switch enc {
	case UTF8:
		return b
	case UTF8BOM:
		return append([]byte{0xEF, 0xBB, 0xBF}, b...)
	}
	units := utf16.Encode([]rune(string(b)))
	out := make([]byte, 0, 2+2*len(units))
	var order binary.AppendByteOrder = binary.LittleEndian
	switch enc {
	case UTF16LEBOM:
		out = append(out, 0xFF, 0xFE)
	case UTF16BEBOM:
		out = append(out, 0xFE, 0xFF)
		order = binary.BigEndian
	}
	for _, u := range units {
		out = order.AppendUint16(out, u)
	}
	return out
}

// Export is one way Windows tools write events.
type Export struct {
	Name     string // short name, also the sample file's infix
	Ext      string
	Rendered bool // carries rendered text
	Write    func(evs []wineventlog.Event) []byte
}

// Exports lists every shape of export the decoders accept.
var Exports = []Export{
	{"wevtutil", "xml", false, func(evs []wineventlog.Event) []byte {
		var b []byte
		for i := range evs {
			b = wineventlog.AppendEventXML(b, &evs[i], wineventlog.XMLLine)
			b = append(b, '\r', '\n')
		}
		return b
	}},
	{"rendered-events", "xml", true, func(evs []wineventlog.Event) []byte {
		var buf bytes.Buffer
		if err := wineventlog.WriteEventsDocument(&buf, evs, wineventlog.XMLRendered); err != nil {
			panic(err) // writing to memory cannot fail
		}
		return buf.Bytes()
	}},
	{"eventviewer", "xml", true, func(evs []wineventlog.Event) []byte {
		var buf bytes.Buffer
		if err := wineventlog.WriteEventsDocument(&buf, evs, wineventlog.XMLPretty); err != nil {
			panic(err)
		}
		return buf.Bytes()
	}},
	{"ps51", "json", true, func(evs []wineventlog.Event) []byte { return writeJSON(evs, wineventlog.PS51) }},
	{"ps7", "json", true, func(evs []wineventlog.Event) []byte { return writeJSON(evs, wineventlog.PS7) }},
	{"compress", "jsonl", true, func(evs []wineventlog.Event) []byte {
		var b []byte
		for i := range evs {
			b = wineventlog.AppendEventJSON(b, &evs[i], wineventlog.PSCompress)
			b = append(b, '\r', '\n')
		}
		return b
	}},
}

func writeJSON(evs []wineventlog.Event, style wineventlog.JSONStyle) []byte {
	var buf bytes.Buffer
	if err := wineventlog.WriteEventsJSON(&buf, evs, style); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// ExportByName finds an export shape.
func ExportByName(name string) (Export, error) {
	for _, e := range Exports {
		if e.Name == name {
			return e, nil
		}
	}
	var names []string
	for _, e := range Exports {
		names = append(names, e.Name)
	}
	return Export{}, fmt.Errorf("unknown export %q (have %s)", name, strings.Join(names, ", "))
}
