package evtx

import (
	"errors"
	"fmt"
	"unicode/utf8"
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

// xnode is one item of an element's content. Its text (xText, xCDATA, the
// name of an xEntity) is the span [off, end) of the tree's text buffer; an
// xPI's target is [off, elem) and its data [elem, end). It holds no
// pointer, so that moving content around costs no GC write barriers.
type xnode struct {
	kind     xkind
	off, end int32
	elem     int32 // xElement: index in tree.elems
}

// xelem is a resolved element. Its attributes and content are ranges of
// the tree's attrs and kids.
type xelem struct {
	name         string
	attr0, attr1 int32
	kid0, kid1   int32
}

type xattr struct {
	name     string
	off, end int32
}

// tree is one record resolved: elements, their content and attributes in
// flat slices that refer to each other by index, and all text in one
// buffer. A Reader keeps one tree and resets it for every record, so
// resolving allocates nothing once the slices have grown to the records'
// size. The Event's strings are cut from s, a single string copy of the
// text buffer made when the record is resolved: one allocation per record
// instead of one per value, and nothing the next record overwrites.
type tree struct {
	tb    []byte
	s     string // tb as a string, set by finish
	elems []xelem
	kids  []xnode
	attrs []xattr
	// stack holds the content of the elements being resolved; an element
	// moves its content to kids when it is complete, so that every
	// element's content is one contiguous range there.
	stack   []xnode
	arr     [][]byte // array items being rendered
	ends    []int32  // where rendered array items end in tb
	scratch []byte
}

// maxKeptTree bounds, in bytes, what a tree keeps between records: a
// hostile or unusual record may grow it, but its memory is not held on to
// (none of the node types takes more than 64 bytes).
const maxKeptTree = 1 << 20

func (t *tree) reset() {
	if cap(t.tb) > maxKeptTree || max(cap(t.elems), cap(t.kids), cap(t.attrs), cap(t.stack), cap(t.ends)) > maxKeptTree/64 {
		*t = tree{}
	}
	t.tb = t.tb[:0]
	t.s = ""
	t.elems = t.elems[:0]
	t.kids = t.kids[:0]
	t.attrs = t.attrs[:0]
	t.stack = t.stack[:0]
	t.ends = t.ends[:0]
}

// finish makes the string that the resolved record's text is cut from.
func (t *tree) finish() { t.s = string(t.tb) }

// text returns a span of a finished tree.
func (t *tree) text(off, end int32) string { return t.s[off:end] }

type treeMark struct{ tb, elems, kids, attrs, stack int }

func (t *tree) mark() treeMark {
	return treeMark{len(t.tb), len(t.elems), len(t.kids), len(t.attrs), len(t.stack)}
}

// truncate drops what was resolved since m.
func (t *tree) truncate(m treeMark) {
	t.tb = t.tb[:m.tb]
	t.elems = t.elems[:m.elems]
	t.kids = t.kids[:m.kids]
	t.attrs = t.attrs[:m.attrs]
	t.stack = t.stack[:m.stack]
}

func (t *tree) kidsOf(e int32) []xnode {
	el := &t.elems[e]
	return t.kids[el.kid0:el.kid1]
}

// resolver instantiates templates with their values into a tree that both
// the Event extraction and the XML rendering walk.
type resolver struct {
	c      *chunk
	t      *tree
	nodes  int
	text   int
	tokens int
}

// resolve appends the resolved content of ns to t.stack.
func (r *resolver) resolve(ns []*node, vals []value, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("BinXML nested deeper than %d", maxDepth)
	}
	t := r.t
	for _, n := range ns {
		if r.nodes++; r.nodes > maxNodesPerRecord {
			return errRenderBudget
		}
		switch n.kind {
		case nodeElement:
			if r.omitted(n, vals) {
				continue
			}
			if v, ok := r.arrayContent(n, vals); ok {
				if err := r.repeat(n, v, vals, depth); err != nil {
					return err
				}
				continue
			}
			e, mark, err := r.open(n, vals, depth)
			if err != nil {
				return err
			}
			if err := r.resolve(n.children, vals, depth+1); err != nil {
				return err
			}
			r.close(e, mark)
		case nodeText:
			off := len(t.tb)
			t.tb = append(t.tb, n.text...)
			r.pushText(off)
		case nodeCharRef:
			off := len(t.tb)
			t.tb = utf8.AppendRune(t.tb, rune(n.subID))
			r.pushText(off)
		case nodeEntityRef:
			if s, ok := predefinedEntity(n.name); ok {
				off := len(t.tb)
				t.tb = append(t.tb, s...)
				r.pushText(off)
			} else {
				off := len(t.tb)
				t.tb = append(t.tb, n.name...)
				t.stack = append(t.stack, xnode{kind: xEntity, off: int32(off), end: int32(len(t.tb))})
			}
		case nodeCDATA:
			off := len(t.tb)
			t.tb = append(t.tb, n.text...)
			t.stack = append(t.stack, xnode{kind: xCDATA, off: int32(off), end: int32(len(t.tb))})
		case nodePI:
			off := len(t.tb)
			t.tb = append(t.tb, n.name...)
			mid := len(t.tb)
			t.tb = append(t.tb, n.text...)
			t.stack = append(t.stack, xnode{kind: xPI, off: int32(off), elem: int32(mid), end: int32(len(t.tb))})
		case nodeTemplate:
			if err := r.resolve(n.inst.tmpl.nodes, n.inst.values, depth+1); err != nil {
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
				if err := r.resolve(sub, nil, depth+1); err != nil {
					return err
				}
			default:
				off := len(t.tb)
				t.tb = appendValue(t.tb, v.typ, r.c.data[v.off:v.off+v.size])
				r.pushText(off)
			}
		}
		if r.text > maxTextPerRecord {
			return errRenderBudget
		}
	}
	return nil
}

// pushText adds the text appended to the buffer since off as a text run.
// Adjacent runs are joined once the element is complete (close).
func (r *resolver) pushText(off int) {
	t := r.t
	if len(t.tb) == off {
		return
	}
	r.text += len(t.tb) - off
	t.stack = append(t.stack, xnode{kind: xText, off: int32(off), end: int32(len(t.tb))})
}

// open starts the element n: its attributes are resolved, its content goes
// on the stack above mark until close.
func (r *resolver) open(n *node, vals []value, depth int) (int32, int, error) {
	t := r.t
	e := int32(len(t.elems))
	t.elems = append(t.elems, xelem{name: n.name})
	a0 := int32(len(t.attrs))
	for _, a := range n.attrs {
		off, end, present, err := r.attrValue(a.value, vals, depth)
		if err != nil {
			return 0, 0, err
		}
		if present {
			t.attrs = append(t.attrs, xattr{name: a.name, off: off, end: end})
		}
	}
	t.elems[e].attr0, t.elems[e].attr1 = a0, int32(len(t.attrs))
	return e, len(t.stack), nil
}

// close completes the element e: its content, joined into single text
// runs where adjacent, moves from the stack to kids, and the element takes
// its place on the stack.
func (r *resolver) close(e int32, mark int) {
	t := r.t
	k0 := int32(len(t.kids))
	st := t.stack[mark:]
	for i := 0; i < len(st); {
		k := st[i]
		j := i + 1
		if k.kind == xText {
			for j < len(st) && st[j].kind == xText {
				j++
			}
			if j > i+1 {
				k.off, k.end = t.join(st[i:j])
			}
		}
		t.kids = append(t.kids, k)
		i = j
	}
	t.elems[e].kid0, t.elems[e].kid1 = k0, int32(len(t.kids))
	t.stack = append(t.stack[:mark], xnode{kind: xElement, elem: e})
}

// join makes one span of adjacent text runs. Runs usually follow each
// other in the buffer already; otherwise their text is copied to its end.
func (t *tree) join(run []xnode) (int32, int32) {
	contiguous := true
	for i := 1; i < len(run); i++ {
		if run[i].off != run[i-1].end {
			contiguous = false
			break
		}
	}
	if contiguous {
		return run[0].off, run[len(run)-1].end
	}
	off := len(t.tb)
	for _, k := range run {
		t.tb = append(t.tb, t.tb[k.off:k.end]...)
	}
	return int32(off), int32(len(t.tb))
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

// arrayContent returns the value when the element's content is a single
// array substitution.
func (r *resolver) arrayContent(n *node, vals []value) (value, bool) {
	if len(n.children) != 1 || n.children[0].kind != nodeSubst {
		return value{}, false
	}
	id := int(n.children[0].subID)
	if id >= len(vals) || vals[id].typ&typeArray == 0 {
		return value{}, false
	}
	return vals[id], true
}

// repeat renders an array substitution as Windows does: by repeating the
// element that holds it, once per item (once, empty, for no items).
func (r *resolver) repeat(n *node, v value, vals []value, depth int) error {
	t := r.t
	typ := v.typ &^ typeArray
	// The items are rendered first, their ends kept above base in t.ends:
	// resolving the attributes below may render other arrays.
	t.arr = splitArray(typ, r.c.data[v.off:v.off+v.size], t.arr[:0])
	start := len(t.tb)
	base := len(t.ends)
	for _, b := range t.arr {
		t.tb = appendValue(t.tb, typ, b)
		t.ends = append(t.ends, int32(len(t.tb)))
	}
	r.text += len(t.tb) - start
	count := len(t.ends) - base
	if count == 0 {
		count = 1
		t.ends = append(t.ends, int32(start))
	}
	off := int32(start)
	for i := 0; i < count; i++ {
		end := t.ends[base+i]
		e, mark, err := r.open(n, vals, depth)
		if err != nil {
			return err
		}
		if end > off {
			t.stack = append(t.stack, xnode{kind: xText, off: off, end: end})
		}
		r.close(e, mark)
		off = end
	}
	t.ends = t.ends[:base]
	return nil
}

func (r *resolver) parseNested(v value, depth int) ([]*node, error) {
	p := parser{c: r.c, pos: v.off, end: v.off + v.size, depth: depth + 1, tokens: r.tokens, slabs: &r.c.ps.record}
	ns, err := p.fragment()
	r.tokens = p.tokens
	return ns, err
}

// attrValue renders an attribute's value into the text buffer and returns
// its span. An attribute whose value is made only of NULL substitutions is
// left out (present is false), as Windows renders it.
func (r *resolver) attrValue(parts []*node, vals []value, depth int) (int32, int32, bool, error) {
	t := r.t
	a0 := len(t.tb)
	present := false
	for _, p := range parts {
		switch p.kind {
		case nodeText:
			t.tb = append(t.tb, p.text...)
			present = true
		case nodeCharRef:
			t.tb = utf8.AppendRune(t.tb, rune(p.subID))
			present = true
		case nodeEntityRef:
			if s, ok := predefinedEntity(p.name); ok {
				t.tb = append(t.tb, s...)
			} else {
				t.tb = append(t.tb, '&')
				t.tb = append(t.tb, p.name...)
				t.tb = append(t.tb, ';')
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
				// BinXML inside an attribute has no XML form; keep its
				// text. It is resolved above the value so far, its text
				// collected and the rest of it dropped again.
				sub, err := r.parseNested(v, depth)
				if err != nil {
					return 0, 0, false, err
				}
				m := t.mark()
				if err := r.resolve(sub, nil, depth+1); err != nil {
					return 0, 0, false, err
				}
				t.scratch = t.appendInner(t.scratch[:0], t.stack[m.stack:])
				t.truncate(m)
				t.tb = append(t.tb, t.scratch...)
				continue
			}
			t.tb = appendValue(t.tb, v.typ, r.c.data[v.off:v.off+v.size])
		}
	}
	if !present {
		t.tb = t.tb[:a0]
		return 0, 0, false, nil
	}
	if r.text += len(t.tb) - a0; r.text > maxTextPerRecord {
		return 0, 0, false, errRenderBudget
	}
	return int32(a0), int32(len(t.tb)), true, nil
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

// appendInner appends the text below the content ks, as an XML parser
// reports an element's character data.
func (t *tree) appendInner(dst []byte, ks []xnode) []byte {
	for _, k := range ks {
		switch k.kind {
		case xText, xCDATA:
			dst = append(dst, t.tb[k.off:k.end]...)
		case xEntity:
			dst = append(dst, '&')
			dst = append(dst, t.tb[k.off:k.end]...)
			dst = append(dst, ';')
		case xElement:
			dst = t.appendInner(dst, t.kidsOf(k.elem))
		}
	}
	return dst
}

// innerText is the text below the element e of a finished tree.
func (t *tree) innerText(e int32) string {
	ks := t.kidsOf(e)
	switch {
	case len(ks) == 0:
		return ""
	case len(ks) == 1 && ks[0].kind == xText:
		return t.text(ks[0].off, ks[0].end)
	}
	t.scratch = t.appendInner(t.scratch[:0], ks)
	return string(t.scratch)
}

func (t *tree) attr(e int32, name string) (string, bool) {
	el := &t.elems[e]
	for _, a := range t.attrs[el.attr0:el.attr1] {
		if a.name == name {
			return t.text(a.off, a.end), true
		}
	}
	return "", false
}

func (t *tree) child(e int32, name string) (int32, bool) {
	for _, k := range t.kidsOf(e) {
		if k.kind == xElement && t.elems[k.elem].name == name {
			return k.elem, true
		}
	}
	return 0, false
}

func (t *tree) hasElementKids(e int32) bool {
	for _, k := range t.kidsOf(e) {
		if k.kind == xElement {
			return true
		}
	}
	return false
}
