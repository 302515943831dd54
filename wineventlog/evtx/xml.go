package evtx

import (
	"errors"
	"io"
	"unicode/utf8"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// appendXML renders a resolved element in the layout of `evtxexport -f xml`:
// two-space indentation, text-only elements on one line, empty elements
// self-closed. Values use Windows' own rendering (see appendValue).
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
		dst = appendEscaped(dst, a.value, true)
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
		return appendEscaped(dst, k.text, false)
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

// appendEscaped escapes XML markup. Control characters that XML 1.0 cannot
// carry are written as character references so that no byte of the value is
// lost or silently changed.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == 0xFFFE || r == 0xFFFF {
				dst = append(dst, "&#x"...)
				dst = appendHexBE(dst, uint64(r), 4)
				dst = append(dst, ';')
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '&':
			dst = append(dst, "&amp;"...)
		case c == '<':
			dst = append(dst, "&lt;"...)
		case c == '>':
			dst = append(dst, "&gt;"...)
		case c == '"' && attr:
			dst = append(dst, "&quot;"...)
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r', attr && (c == '\n' || c == '\r' || c == '\t'):
			dst = append(dst, "&#x"...)
			dst = appendHexBE(dst, uint64(c), 2)
			dst = append(dst, ';')
		default:
			dst = append(dst, c)
		}
		i++
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
