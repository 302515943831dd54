package evtx

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

const (
	maxNodesPerRecord = 1 << 16
	// maxTextPerRecord caps the rendered text of one record. A record is at
	// most one chunk, but substitutions can be referenced many times, so
	// the rendered size is capped explicitly.
	maxTextPerRecord = 16 * chunkSize
)

var errRenderBudget = errors.New("record renders to more than the allowed size (substitutions referenced too often)")

type xkind uint8

const (
	xText xkind = iota
	xElement
	xCDATA
	xEntity // an entity reference that is not one of XML's five
	xPI
)

type xnode struct {
	kind xkind
	text string
	name string // xPI target
	elem *xelem
}

type xelem struct {
	name  string
	attrs []xattr
	kids  []xnode
}

type xattr struct{ name, value string }

// resolver instantiates templates with their values into a plain element
// tree that both the Event extraction and the XML rendering walk.
type resolver struct {
	c      *chunk
	nodes  int
	text   int
	tokens int
	buf    []byte
	arr    [][]byte
}

func (r *resolver) resolve(ns []*node, vals []value, parent *xelem, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("BinXML nested deeper than %d", maxDepth)
	}
	for _, n := range ns {
		if r.nodes++; r.nodes > maxNodesPerRecord {
			return errRenderBudget
		}
		switch n.kind {
		case nodeElement:
			if r.omitted(n, vals) {
				continue
			}
			if items, ok := r.arrayContent(n, vals); ok {
				// Windows renders an array substitution by repeating the
				// element that holds it, once per item.
				for _, it := range items {
					e := &xelem{name: n.name}
					if err := r.resolveAttrs(e, n, vals, depth); err != nil {
						return err
					}
					r.addText(e, it)
					parent.kids = append(parent.kids, xnode{kind: xElement, elem: e})
				}
				continue
			}
			e := &xelem{name: n.name}
			if err := r.resolveAttrs(e, n, vals, depth); err != nil {
				return err
			}
			if err := r.resolve(n.children, vals, e, depth+1); err != nil {
				return err
			}
			mergeText(e)
			parent.kids = append(parent.kids, xnode{kind: xElement, elem: e})
		case nodeText:
			r.addText(parent, n.text)
		case nodeCharRef:
			r.addText(parent, string(rune(n.subID)))
		case nodeEntityRef:
			if s, ok := predefinedEntity(n.name); ok {
				r.addText(parent, s)
			} else {
				parent.kids = append(parent.kids, xnode{kind: xEntity, name: n.name})
			}
		case nodeCDATA:
			parent.kids = append(parent.kids, xnode{kind: xCDATA, text: n.text})
		case nodePI:
			parent.kids = append(parent.kids, xnode{kind: xPI, name: n.name, text: n.text})
		case nodeTemplate:
			if err := r.resolve(n.inst.tmpl.nodes, n.inst.values, parent, depth+1); err != nil {
				return err
			}
		case nodeSubst:
			if int(n.subID) >= len(vals) {
				continue
			}
			v := vals[n.subID]
			switch {
			case v.typ == typeNull || v.size == 0:
			case v.typ == typeBinXML:
				sub, err := r.parseNested(v, depth)
				if err != nil {
					return err
				}
				if err := r.resolve(sub, nil, parent, depth+1); err != nil {
					return err
				}
			default:
				r.addText(parent, r.format(v))
			}
		}
		if r.text > maxTextPerRecord {
			return errRenderBudget
		}
	}
	return nil
}

func (r *resolver) resolveAttrs(e *xelem, n *node, vals []value, depth int) error {
	for _, a := range n.attrs {
		s, present, err := r.attrValue(a.value, vals, depth)
		if err != nil {
			return err
		}
		if present {
			e.attrs = append(e.attrs, xattr{a.name, s})
		}
	}
	return nil
}

// omitted reports an element whose content is an optional substitution
// with no value: it is left out altogether, as libevtx and Windows do.
func (r *resolver) omitted(n *node, vals []value) bool {
	if len(n.children) != 1 || n.children[0].kind != nodeSubst || !n.children[0].optional {
		return false
	}
	id := int(n.children[0].subID)
	return id >= len(vals) || vals[id].typ == typeNull
}

// arrayContent returns the rendered items when the element's content is a
// single array substitution.
func (r *resolver) arrayContent(n *node, vals []value) ([]string, bool) {
	if len(n.children) != 1 || n.children[0].kind != nodeSubst {
		return nil, false
	}
	id := int(n.children[0].subID)
	if id >= len(vals) || vals[id].typ&typeArray == 0 {
		return nil, false
	}
	v := vals[id]
	t := v.typ &^ typeArray
	r.arr = splitArray(t, r.c.data[v.off:v.off+v.size], r.arr[:0])
	items := make([]string, len(r.arr))
	for i, b := range r.arr {
		r.buf = appendValue(r.buf[:0], t, b)
		r.text += len(r.buf)
		items[i] = string(r.buf)
	}
	if len(items) == 0 {
		items = append(items, "")
	}
	return items, true
}

func (r *resolver) parseNested(v value, depth int) ([]*node, error) {
	p := parser{c: r.c, pos: v.off, end: v.off + v.size, depth: depth + 1, tokens: r.tokens}
	ns, err := p.fragment()
	r.tokens = p.tokens
	return ns, err
}

func (r *resolver) format(v value) string {
	r.buf = appendValue(r.buf[:0], v.typ, r.c.data[v.off:v.off+v.size])
	return string(r.buf)
}

// addText appends a text run. Adjacent runs are joined once the element is
// complete (mergeText): joining here would copy the growing string for
// every piece, quadratic in an element of many small values.
func (r *resolver) addText(parent *xelem, s string) {
	if s == "" {
		return
	}
	r.text += len(s)
	parent.kids = append(parent.kids, xnode{kind: xText, text: s})
}

func mergeText(e *xelem) {
	out := e.kids[:0]
	for i := 0; i < len(e.kids); {
		k := e.kids[i]
		j := i + 1
		for j < len(e.kids) && e.kids[j].kind == xText && k.kind == xText {
			j++
		}
		if j > i+1 {
			var sb strings.Builder
			for _, t := range e.kids[i:j] {
				sb.WriteString(t.text)
			}
			k.text = sb.String()
		}
		out = append(out, k)
		i = j
	}
	e.kids = out
}

// attrValue resolves an attribute. An attribute whose value is made only of
// NULL substitutions is left out, as Windows renders it.
func (r *resolver) attrValue(parts []*node, vals []value, depth int) (string, bool, error) {
	if len(parts) == 1 && parts[0].kind == nodeText {
		return parts[0].text, true, nil
	}
	var sb strings.Builder
	present := false
	for _, p := range parts {
		switch p.kind {
		case nodeText:
			sb.WriteString(p.text)
			present = true
		case nodeCharRef:
			sb.WriteRune(rune(p.subID))
			present = true
		case nodeEntityRef:
			if s, ok := predefinedEntity(p.name); ok {
				sb.WriteString(s)
			} else {
				sb.WriteString("&" + p.name + ";")
			}
			present = true
		case nodeSubst:
			if int(p.subID) >= len(vals) {
				continue
			}
			v := vals[p.subID]
			if v.typ == typeNull {
				continue
			}
			present = true
			if v.typ == typeBinXML {
				// BinXML inside an attribute has no XML form; keep its text.
				sub, err := r.parseNested(v, depth)
				if err != nil {
					return "", false, err
				}
				tmp := &xelem{}
				if err := r.resolve(sub, nil, tmp, depth+1); err != nil {
					return "", false, err
				}
				sb.WriteString(innerText(tmp))
				continue
			}
			sb.WriteString(r.format(v))
		}
	}
	if r.text += sb.Len(); r.text > maxTextPerRecord {
		return "", false, errRenderBudget
	}
	return sb.String(), present, nil
}

func predefinedEntity(name string) (string, bool) {
	switch name {
	case "amp":
		return "&", true
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "quot":
		return `"`, true
	case "apos":
		return "'", true
	}
	return "", false
}

// innerText is the concatenated text below e, as an XML parser reports an
// element's character data.
func innerText(e *xelem) string {
	if len(e.kids) == 1 && e.kids[0].kind == xText {
		return e.kids[0].text
	}
	var sb strings.Builder
	var walk func(*xelem)
	walk = func(e *xelem) {
		for _, k := range e.kids {
			switch k.kind {
			case xText, xCDATA:
				sb.WriteString(k.text)
			case xEntity:
				sb.WriteString("&" + k.name + ";")
			case xElement:
				walk(k.elem)
			}
		}
	}
	walk(e)
	return sb.String()
}

func (e *xelem) attr(name string) (string, bool) {
	for _, a := range e.attrs {
		if a.name == name {
			return a.value, true
		}
	}
	return "", false
}

func (e *xelem) child(name string) *xelem {
	for _, k := range e.kids {
		if k.kind == xElement && k.elem.name == name {
			return k.elem
		}
	}
	return nil
}

// fillEvent extracts the Event fields from the resolved <Event> element,
// following the conventions documented on wineventlog.Event.
func fillEvent(ev *wineventlog.Event, root *xelem) {
	if sys := root.child("System"); sys != nil {
		fillSystem(ev, sys)
	}
	if ed := root.child("EventData"); ed != nil {
		for _, k := range ed.kids {
			if k.kind != xElement {
				continue
			}
			// Classic events add <Binary> after their <Data>; it is kept
			// under its element name and other elements (<ComplexData>)
			// are left out, as the XML decoder does.
			var name string
			switch localName(k.elem.name) {
			case "Data":
				name, _ = k.elem.attr("Name")
			case "Binary":
				name = "Binary"
			default:
				continue
			}
			ev.EventData = append(ev.EventData, wineventlog.Data{Name: name, Value: innerText(k.elem)})
		}
	}
	if ud := root.child("UserData"); ud != nil {
		for _, k := range ud.kids {
			if k.kind == xElement {
				ev.UserDataRoot = localName(k.elem.name)
				if len(k.elem.kids) > 0 && !k.elem.hasElementKids() {
					// A root that holds text itself: one item without a
					// path, as the XML decoder reads it.
					ev.UserData = append(ev.UserData, wineventlog.Data{Value: innerText(k.elem)})
				} else {
					ev.UserData = flatten(ev.UserData, k.elem, "")
				}
				break
			}
		}
	}
	if ri := root.child("RenderingInfo"); ri != nil {
		for _, k := range ri.kids {
			if k.kind != xElement {
				continue
			}
			switch k.elem.name {
			case "Message":
				ev.Message = innerText(k.elem)
			case "Level":
				ev.LevelText = innerText(k.elem)
			case "Task":
				ev.TaskText = innerText(k.elem)
			case "Opcode":
				ev.OpcodeText = innerText(k.elem)
			case "Keywords":
				for _, kw := range k.elem.kids {
					if kw.kind == xElement && kw.elem.name == "Keyword" {
						ev.KeywordsText = append(ev.KeywordsText, innerText(kw.elem))
					}
				}
			}
		}
	}
}

func flatten(out []wineventlog.Data, e *xelem, prefix string) []wineventlog.Data {
	for _, k := range e.kids {
		if k.kind != xElement {
			continue
		}
		name := localName(k.elem.name)
		if prefix != "" {
			name = prefix + "." + name
		}
		if k.elem.hasElementKids() {
			out = flatten(out, k.elem, name)
		} else {
			out = append(out, wineventlog.Data{Name: name, Value: innerText(k.elem)})
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

func (e *xelem) hasElementKids() bool {
	for _, k := range e.kids {
		if k.kind == xElement {
			return true
		}
	}
	return false
}

func fillSystem(ev *wineventlog.Event, sys *xelem) {
	for _, k := range sys.kids {
		if k.kind != xElement {
			continue
		}
		e := k.elem
		switch e.name {
		case "Provider":
			ev.ProviderName, _ = e.attr("Name")
			if g, ok := e.attr("Guid"); ok {
				ev.ProviderGUID = canonicalGUID(g)
			}
			ev.EventSourceName, _ = e.attr("EventSourceName")
		case "EventID":
			if v, err := strconv.ParseUint(innerText(e), 10, 32); err == nil {
				ev.EventID = uint32(v)
			}
			if q, ok := e.attr("Qualifiers"); ok {
				if v, err := strconv.ParseUint(q, 10, 16); err == nil {
					u := uint16(v)
					ev.Qualifiers = &u
				}
			}
		case "Version":
			if v, err := strconv.ParseUint(innerText(e), 10, 8); err == nil {
				u := uint8(v)
				ev.Version = &u
			}
		case "Level":
			if v, err := strconv.ParseUint(innerText(e), 10, 8); err == nil {
				ev.Level = uint8(v)
			}
		case "Task":
			if v, err := strconv.ParseUint(innerText(e), 10, 16); err == nil {
				ev.Task = uint16(v)
			}
		case "Opcode":
			if v, err := strconv.ParseUint(innerText(e), 10, 8); err == nil {
				u := uint8(v)
				ev.Opcode = &u
			}
		case "Keywords":
			ev.Keywords = parseUint(innerText(e))
		case "TimeCreated":
			if s, ok := e.attr("SystemTime"); ok {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					ev.TimeCreated = t.UTC()
				}
			}
		case "EventRecordID":
			ev.RecordID = parseUint(innerText(e))
		case "Correlation":
			if s, ok := e.attr("ActivityID"); ok {
				ev.ActivityID = canonicalGUID(s)
			}
			if s, ok := e.attr("RelatedActivityID"); ok {
				ev.RelatedActivityID = canonicalGUID(s)
			}
		case "Execution":
			if s, ok := e.attr("ProcessID"); ok {
				if v, err := strconv.ParseUint(s, 10, 32); err == nil {
					u := uint32(v)
					ev.ProcessID = &u
				}
			}
			if s, ok := e.attr("ThreadID"); ok {
				if v, err := strconv.ParseUint(s, 10, 32); err == nil {
					u := uint32(v)
					ev.ThreadID = &u
				}
			}
		case "Channel":
			ev.Channel = innerText(e)
		case "Computer":
			ev.Computer = innerText(e)
		case "Security":
			ev.UserSID, _ = e.attr("UserID")
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
