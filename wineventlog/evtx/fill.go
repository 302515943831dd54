package evtx

import (
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Turning a resolved record into a wineventlog.Event: the System fields,
// the EventData or UserData items, and the text conversions they need.

// fillEvent extracts the Event fields from the resolved <Event> element of
// a finished tree, following the conventions documented on
// wineventlog.Event.
func fillEvent(ev *wineventlog.Event, t *tree, root int32) {
	if sys, ok := t.child(root, "System"); ok {
		fillSystem(ev, t, sys)
	}
	if ed, ok := t.child(root, "EventData"); ok {
		n := 0
		for _, k := range t.kidsOf(ed) {
			if k.kind == xElement {
				n++
			}
		}
		if n > 0 {
			ev.EventData = make([]wineventlog.Data, 0, n)
		}
		for _, k := range t.kidsOf(ed) {
			if k.kind != xElement {
				continue
			}
			// Classic events add <Binary> after their <Data>; it is kept
			// under its element name and other elements (<ComplexData>)
			// are left out, as the XML decoder does.
			var name string
			switch localName(t.elems[k.elem].name) {
			case "Data":
				name, _ = t.attr(k.elem, "Name")
			case "Binary":
				name = "Binary"
			default:
				continue
			}
			ev.EventData = append(ev.EventData, wineventlog.Data{Name: name, Value: t.innerText(k.elem)})
		}
	}
	if ud, ok := t.child(root, "UserData"); ok {
		for _, k := range t.kidsOf(ud) {
			if k.kind == xElement {
				ev.UserDataRoot = localName(t.elems[k.elem].name)
				if len(t.kidsOf(k.elem)) > 0 && !t.hasElementKids(k.elem) {
					// A root that holds text itself: one item without a
					// path, as the XML decoder reads it.
					ev.UserData = append(ev.UserData, wineventlog.Data{Value: t.innerText(k.elem)})
				} else {
					ev.UserData = flatten(ev.UserData, t, k.elem, "")
				}
				break
			}
		}
	}
	if ri, ok := t.child(root, "RenderingInfo"); ok {
		for _, k := range t.kidsOf(ri) {
			if k.kind != xElement {
				continue
			}
			switch t.elems[k.elem].name {
			case "Message":
				ev.Message = t.innerText(k.elem)
			case "Level":
				ev.LevelText = t.innerText(k.elem)
			case "Task":
				ev.TaskText = t.innerText(k.elem)
			case "Opcode":
				ev.OpcodeText = t.innerText(k.elem)
			case "Keywords":
				for _, kw := range t.kidsOf(k.elem) {
					if kw.kind == xElement && t.elems[kw.elem].name == "Keyword" {
						ev.KeywordsText = append(ev.KeywordsText, t.innerText(kw.elem))
					}
				}
			}
		}
	}
}

func flatten(out []wineventlog.Data, t *tree, e int32, prefix string) []wineventlog.Data {
	for _, k := range t.kidsOf(e) {
		if k.kind != xElement {
			continue
		}
		name := localName(t.elems[k.elem].name)
		if prefix != "" {
			name = prefix + "." + name
		}
		if t.hasElementKids(k.elem) {
			out = flatten(out, t, k.elem, name)
		} else {
			out = append(out, wineventlog.Data{Name: name, Value: t.innerText(k.elem)})
		}
	}
	return out
}

// localName drops a namespace prefix: paths name elements as the XML
// decoder does.
func localName(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// optionalNumbers holds the Event's optional numbers, which it refers to
// by pointer: one allocation for all of a record's.
type optionalNumbers struct {
	qualifiers          uint16
	version, opcode     uint8
	processID, threadID uint32
}

func fillSystem(ev *wineventlog.Event, t *tree, sys int32) {
	var nums *optionalNumbers
	num := func() *optionalNumbers {
		if nums == nil {
			nums = new(optionalNumbers)
		}
		return nums
	}
	for _, k := range t.kidsOf(sys) {
		if k.kind != xElement {
			continue
		}
		e := k.elem
		switch t.elems[e].name {
		case "Provider":
			ev.ProviderName, _ = t.attr(e, "Name")
			if g, ok := t.attr(e, "Guid"); ok {
				ev.ProviderGUID = canonicalGUID(g)
			}
			ev.EventSourceName, _ = t.attr(e, "EventSourceName")
		case "EventID":
			if v, err := strconv.ParseUint(t.innerText(e), 10, 32); err == nil {
				ev.EventID = uint32(v)
			}
			if q, ok := t.attr(e, "Qualifiers"); ok {
				if v, err := strconv.ParseUint(q, 10, 16); err == nil {
					n := num()
					n.qualifiers = uint16(v)
					ev.Qualifiers = &n.qualifiers
				}
			}
		case "Version":
			if v, err := strconv.ParseUint(t.innerText(e), 10, 8); err == nil {
				n := num()
				n.version = uint8(v)
				ev.Version = &n.version
			}
		case "Level":
			if v, err := strconv.ParseUint(t.innerText(e), 10, 8); err == nil {
				ev.Level = uint8(v)
			}
		case "Task":
			if v, err := strconv.ParseUint(t.innerText(e), 10, 16); err == nil {
				ev.Task = uint16(v)
			}
		case "Opcode":
			if v, err := strconv.ParseUint(t.innerText(e), 10, 8); err == nil {
				n := num()
				n.opcode = uint8(v)
				ev.Opcode = &n.opcode
			}
		case "Keywords":
			ev.Keywords = parseUint(t.innerText(e))
		case "TimeCreated":
			if s, ok := t.attr(e, "SystemTime"); ok {
				if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
					ev.TimeCreated = tm.UTC()
				}
			}
		case "EventRecordID":
			ev.RecordID = parseUint(t.innerText(e))
		case "Correlation":
			if s, ok := t.attr(e, "ActivityID"); ok {
				ev.ActivityID = canonicalGUID(s)
			}
			if s, ok := t.attr(e, "RelatedActivityID"); ok {
				ev.RelatedActivityID = canonicalGUID(s)
			}
		case "Execution":
			if s, ok := t.attr(e, "ProcessID"); ok {
				if v, err := strconv.ParseUint(s, 10, 32); err == nil {
					n := num()
					n.processID = uint32(v)
					ev.ProcessID = &n.processID
				}
			}
			if s, ok := t.attr(e, "ThreadID"); ok {
				if v, err := strconv.ParseUint(s, 10, 32); err == nil {
					n := num()
					n.threadID = uint32(v)
					ev.ThreadID = &n.threadID
				}
			}
		case "Channel":
			ev.Channel = t.innerText(e)
		case "Computer":
			ev.Computer = t.innerText(e)
		case "Security":
			ev.UserSID, _ = t.attr(e, "UserID")
		}
	}
}

// parseUint reads decimal or 0x-prefixed hexadecimal, as Keywords and
// EventRecordID appear depending on the template's value type.
func parseUint(s string) uint64 {
	s = strings.TrimSpace(s)
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		v, _ := strconv.ParseUint(s[2:], 16, 64)
		return v
	}
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

// canonicalGUID upper-cases a GUID and adds braces; providers that store the
// GUID as a string write it in either case.
func canonicalGUID(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s)
	if s[0] != '{' {
		s = "{" + s + "}"
	}
	return s
}
