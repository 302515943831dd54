package evtx

import (
	"errors"
	"io"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/xmlesc"
)

// appendXML renders a resolved element in the layout of `evtxexport -f xml`:
// two-space indentation, text-only elements on one line, empty elements
// self-closed. Values use Windows' own rendering (see appendValue); what XML
// cannot carry is escaped as the XML exports are (see xmlesc.Append).
func appendXML(dst []byte, e *xelem, indent int) []byte {
	for i := 0; i < indent; i++ {
		dst = append(dst, ' ', ' ')
	}
	dst = append(dst, '<')
	dst = append(dst, e.name...)
	for _, a := range e.attrs {
		dst = append(dst, ' ')
		dst = append(dst, a.name...)
		dst = append(dst, '=', '"')
		dst = xmlesc.Append(dst, a.value, '"')
		dst = append(dst, '"')
	}
	if len(e.kids) == 0 {
		return append(dst, '/', '>')
	}
	dst = append(dst, '>')
	if !e.hasElementKids() {
		for _, k := range e.kids {
			dst = appendInline(dst, k)
		}
	} else {
		for _, k := range e.kids {
			dst = append(dst, '\n')
			if k.kind == xElement {
				dst = appendXML(dst, k.elem, indent+1)
				continue
			}
			for i := 0; i <= indent; i++ {
				dst = append(dst, ' ', ' ')
			}
			dst = appendInline(dst, k)
		}
		dst = append(dst, '\n')
		for i := 0; i < indent; i++ {
			dst = append(dst, ' ', ' ')
		}
	}
	dst = append(dst, '<', '/')
	dst = append(dst, e.name...)
	return append(dst, '>')
}

func appendInline(dst []byte, k xnode) []byte {
	switch k.kind {
	case xText:
		return xmlesc.Append(dst, k.text, 0)
	case xCDATA:
		dst = append(dst, "<![CDATA["...)
		dst = append(dst, k.text...)
		return append(dst, "]]>"...)
	case xEntity:
		dst = append(dst, '&')
		dst = append(dst, k.name...)
		return append(dst, ';')
	case xPI:
		dst = append(dst, "<?"...)
		dst = append(dst, k.name...)
		if k.text != "" {
			dst = append(dst, ' ')
			dst = append(dst, k.text...)
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
