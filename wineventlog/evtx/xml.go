package evtx

import (
	"errors"
	"io"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/xmlesc"
)

// appendXML renders the element e of a finished tree in the layout of
// `evtxexport -f xml`: two-space indentation, text-only elements on one
// line, empty elements self-closed. Values use Windows' own rendering (see
// appendValue); what XML cannot carry is escaped as the XML exports are
// (see xmlesc.Append).
func (t *tree) appendXML(dst []byte, e int32, indent int) []byte {
	el := t.elems[e]
	for i := 0; i < indent; i++ {
		dst = append(dst, ' ', ' ')
	}
	dst = append(dst, '<')
	dst = append(dst, el.name...)
	for _, a := range t.attrs[el.attr0:el.attr1] {
		dst = append(dst, ' ')
		dst = append(dst, a.name...)
		dst = append(dst, '=', '"')
		dst = xmlesc.Append(dst, t.text(a.off, a.end), '"')
		dst = append(dst, '"')
	}
	kids := t.kids[el.kid0:el.kid1]
	if len(kids) == 0 {
		return append(dst, '/', '>')
	}
	dst = append(dst, '>')
	if !t.hasElementKids(e) {
		for _, k := range kids {
			dst = t.appendInline(dst, k)
		}
	} else {
		for _, k := range kids {
			dst = append(dst, '\n')
			if k.kind == xElement {
				dst = t.appendXML(dst, k.elem, indent+1)
				continue
			}
			for i := 0; i <= indent; i++ {
				dst = append(dst, ' ', ' ')
			}
			dst = t.appendInline(dst, k)
		}
		dst = append(dst, '\n')
		for i := 0; i < indent; i++ {
			dst = append(dst, ' ', ' ')
		}
	}
	dst = append(dst, '<', '/')
	dst = append(dst, el.name...)
	return append(dst, '>')
}

func (t *tree) appendInline(dst []byte, k xnode) []byte {
	switch k.kind {
	case xText:
		return xmlesc.Append(dst, t.text(k.off, k.end), 0)
	case xCDATA:
		dst = append(dst, "<![CDATA["...)
		dst = append(dst, t.tb[k.off:k.end]...)
		return append(dst, "]]>"...)
	case xEntity:
		dst = append(dst, '&')
		dst = append(dst, t.tb[k.off:k.end]...)
		return append(dst, ';')
	case xPI:
		dst = append(dst, "<?"...)
		dst = append(dst, t.tb[k.off:k.elem]...)
		if k.end > k.elem {
			dst = append(dst, ' ')
			dst = append(dst, t.tb[k.elem:k.end]...)
		}
		return append(dst, "?>"...)
	}
	return dst
}

// ErrNoOriginal is returned by RenderXML for a record read with
// Options.NoOriginal, which has no XML to print.
var ErrNoOriginal = errors.New("evtx: record has no XML rendering; open the reader without Options.NoOriginal")

// RenderXML writes the record as `intunectl dump` prints it: one
// <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
// document followed by a blank line, like `evtxexport -f xml`.
func RenderXML(w io.Writer, rec *wineventlog.Record) error {
	if rec.Event.Original == "" {
		return ErrNoOriginal
	}
	if _, err := io.WriteString(w, rec.Event.Original); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n\n")
	return err
}
