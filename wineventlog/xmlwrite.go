package wineventlog

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/xmlesc"
)

// XMLStyle selects the shape AppendEventXML writes, each matching a Windows
// tool so fixtures and sample exports look like the real thing.
type XMLStyle int

const (
	// XMLLine is wevtutil qe /f:xml: one line, single-quoted attributes,
	// no RenderingInfo.
	XMLLine XMLStyle = iota
	// XMLRendered is wevtutil qe /f:RenderedXml: XMLLine plus
	// <RenderingInfo> with the rendered message and names.
	XMLRendered
	// XMLPretty is the indented form Event Viewer shows and saves, with
	// double-quoted attributes and RenderingInfo when the event has
	// rendered text.
	XMLPretty
)

const eventNS = "http://schemas.microsoft.com/win/2004/08/events/event"

type xmlWriter struct {
	b      []byte
	pretty bool
	q      byte
}

func (w *xmlWriter) line(depth int) {
	if w.pretty {
		w.b = append(w.b, "\r\n"...)
		for i := 0; i < depth; i++ {
			w.b = append(w.b, "  "...)
		}
	}
}

func (w *xmlWriter) attr(name, value string) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, '=', w.q)
	w.b = xmlesc.Append(w.b, value, w.q)
	w.b = append(w.b, w.q)
}

// closeEmpty ends an empty element; Event Viewer puts a space before "/>".
func (w *xmlWriter) closeEmpty() {
	if w.pretty {
		w.b = append(w.b, " />"...)
	} else {
		w.b = append(w.b, "/>"...)
	}
}

func (w *xmlWriter) elem(depth int, name, text string) {
	w.line(depth)
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
	w.b = xmlesc.Append(w.b, text, 0)
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// appendSystemTime writes 100-ns precision, the resolution of the FILETIME
// Windows stores.
func appendSystemTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	dst = append(dst, '.')
	frac := t.Nanosecond() / 100
	s := strconv.Itoa(frac)
	for i := len(s); i < 7; i++ {
		dst = append(dst, '0')
	}
	dst = append(dst, s...)
	return append(dst, 'Z')
}

// AppendEventXML appends ev as one <Event> element in the given style.
func AppendEventXML(dst []byte, ev *Event, style XMLStyle) []byte {
	w := xmlWriter{b: dst, pretty: style == XMLPretty, q: '\''}
	if w.pretty {
		w.q = '"'
	}
	w.b = append(w.b, "<Event"...)
	w.attr("xmlns", eventNS)
	w.b = append(w.b, '>')
	w.system(ev)
	switch {
	case len(ev.UserData) > 0 || ev.UserDataRoot != "":
		w.userData(ev)
	case len(ev.EventData) > 0:
		w.eventData(ev)
	}
	rendered := ev.Message != "" || ev.LevelText != "" || ev.TaskText != "" || ev.OpcodeText != "" || len(ev.KeywordsText) > 0
	if style == XMLRendered || style == XMLPretty && rendered {
		w.renderingInfo(ev)
	}
	w.line(0)
	w.b = append(w.b, "</Event>"...)
	return w.b
}

func (w *xmlWriter) system(ev *Event) {
	w.line(1)
	w.b = append(w.b, "<System>"...)

	w.line(2)
	w.b = append(w.b, "<Provider"...)
	w.attr("Name", ev.ProviderName)
	if ev.ProviderGUID != "" {
		w.attr("Guid", ev.ProviderGUID)
	}
	if ev.EventSourceName != "" {
		w.attr("EventSourceName", ev.EventSourceName)
	}
	w.closeEmpty()

	w.line(2)
	w.b = append(w.b, "<EventID"...)
	if ev.Qualifiers != nil {
		w.attr("Qualifiers", strconv.Itoa(int(*ev.Qualifiers)))
	}
	w.b = append(w.b, '>')
	w.b = strconv.AppendUint(w.b, uint64(ev.EventID), 10)
	w.b = append(w.b, "</EventID>"...)
	if ev.Version != nil {
		w.elem(2, "Version", strconv.Itoa(int(*ev.Version)))
	}
	w.elem(2, "Level", strconv.Itoa(int(ev.Level)))
	w.elem(2, "Task", strconv.Itoa(int(ev.Task)))
	if ev.Opcode != nil {
		w.elem(2, "Opcode", strconv.Itoa(int(*ev.Opcode)))
	}
	w.elem(2, "Keywords", "0x"+strconv.FormatUint(ev.Keywords, 16))
	w.line(2)
	w.b = append(w.b, "<TimeCreated SystemTime="...)
	w.b = append(w.b, w.q)
	w.b = appendSystemTime(w.b, ev.TimeCreated)
	w.b = append(w.b, w.q)
	w.closeEmpty()
	w.elem(2, "EventRecordID", strconv.FormatUint(ev.RecordID, 10))
	w.line(2)
	w.b = append(w.b, "<Correlation"...)
	if ev.ActivityID != "" {
		w.attr("ActivityID", ev.ActivityID)
	}
	if ev.RelatedActivityID != "" {
		w.attr("RelatedActivityID", ev.RelatedActivityID)
	}
	w.closeEmpty()
	w.line(2)
	w.b = append(w.b, "<Execution"...)
	if ev.ProcessID != nil {
		w.attr("ProcessID", strconv.FormatUint(uint64(*ev.ProcessID), 10))
	}
	if ev.ThreadID != nil {
		w.attr("ThreadID", strconv.FormatUint(uint64(*ev.ThreadID), 10))
	}
	w.closeEmpty()
	w.elem(2, "Channel", ev.Channel)
	w.elem(2, "Computer", ev.Computer)
	w.line(2)
	w.b = append(w.b, "<Security"...)
	if ev.UserSID != "" {
		w.attr("UserID", ev.UserSID)
	}
	w.closeEmpty()
	w.line(1)
	w.b = append(w.b, "</System>"...)
}

func (w *xmlWriter) eventData(ev *Event) {
	w.line(1)
	w.b = append(w.b, "<EventData>"...)
	for _, d := range ev.EventData {
		w.line(2)
		if d.Name == "Binary" {
			w.b = append(w.b, "<Binary>"...)
			w.b = xmlesc.Append(w.b, d.Value, 0)
			w.b = append(w.b, "</Binary>"...)
			continue
		}
		w.b = append(w.b, "<Data"...)
		if d.Name != "" {
			w.attr("Name", d.Name)
		}
		w.b = append(w.b, '>')
		w.b = xmlesc.Append(w.b, d.Value, 0)
		w.b = append(w.b, "</Data>"...)
	}
	w.line(1)
	w.b = append(w.b, "</EventData>"...)
}

// renderingInfo writes what wevtutil /f:RenderedXml and Event Viewer add:
// the message and the names of level, task, opcode and keywords.
func (w *xmlWriter) renderingInfo(ev *Event) {
	w.line(1)
	w.b = append(w.b, "<RenderingInfo"...)
	w.attr("Culture", "en-US")
	w.b = append(w.b, '>')
	w.elem(2, "Message", ev.Message)
	w.elem(2, "Level", ev.LevelText)
	w.elem(2, "Task", ev.TaskText)
	w.elem(2, "Opcode", ev.OpcodeText)
	w.elem(2, "Channel", ev.Channel)
	w.elem(2, "Provider", ev.ProviderName)
	w.line(2)
	w.b = append(w.b, "<Keywords>"...)
	for _, k := range ev.KeywordsText {
		w.elem(3, "Keyword", k)
	}
	if len(ev.KeywordsText) > 0 {
		w.line(2)
	}
	w.b = append(w.b, "</Keywords>"...)
	w.line(1)
	w.b = append(w.b, "</RenderingInfo>"...)
}

// userData rebuilds the element tree from the flattened dotted paths.
func (w *xmlWriter) userData(ev *Event) {
	w.line(1)
	w.b = append(w.b, "<UserData>"...)
	root := ev.UserDataRoot
	if root == "" {
		root = "UserData"
	}
	w.line(2)
	w.b = append(w.b, '<')
	w.b = append(w.b, root...)
	w.b = append(w.b, '>')
	var open []string
	rootText := false
	for _, d := range ev.UserData {
		if d.Name == "" {
			// The root itself is the leaf: no line break may enter its text.
			w.b = xmlesc.Append(w.b, d.Value, 0)
			rootText = true
			continue
		}
		parts := strings.Split(d.Name, ".")
		leaf := parts[len(parts)-1]
		parents := parts[:len(parts)-1]
		common := 0
		for common < len(open) && common < len(parents) && open[common] == parents[common] {
			common++
		}
		for len(open) > common {
			w.line(2 + len(open))
			w.b = append(w.b, "</"...)
			w.b = append(w.b, open[len(open)-1]...)
			w.b = append(w.b, '>')
			open = open[:len(open)-1]
		}
		for _, p := range parents[common:] {
			w.line(3 + len(open))
			w.b = append(w.b, '<')
			w.b = append(w.b, p...)
			w.b = append(w.b, '>')
			open = append(open, p)
		}
		w.elem(3+len(open), leaf, d.Value)
	}
	for len(open) > 0 {
		w.line(2 + len(open))
		w.b = append(w.b, "</"...)
		w.b = append(w.b, open[len(open)-1]...)
		w.b = append(w.b, '>')
		open = open[:len(open)-1]
	}
	if !rootText {
		w.line(2)
	}
	w.b = append(w.b, "</"...)
	w.b = append(w.b, root...)
	w.b = append(w.b, '>')
	w.line(1)
	w.b = append(w.b, "</UserData>"...)
}

// WriteEventsDocument writes the <Events> document that Event Viewer's
// "Save as XML" and wevtutil qe /e:Events produce, in UTF-8 with CRLF line
// ends. XMLPretty indents the events inside it.
func WriteEventsDocument(w io.Writer, evs []Event, style XMLStyle) error {
	b := []byte("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n<Events>")
	for i := range evs {
		if style == XMLPretty {
			b = append(b, "\r\n"...)
		}
		b = AppendEventXML(b, &evs[i], style)
		if len(b) > 64<<10 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if style == XMLPretty {
		b = append(b, "\r\n"...)
	}
	b = append(b, "</Events>\r\n"...)
	_, err := w.Write(b)
	return err
}
