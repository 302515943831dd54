package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// BinXML tokens (MS-EVEN6 2.2.12). The 0x40 bit on element, value,
// attribute, CDATA and reference tokens means "more of the same follow" and
// is masked off before dispatch.
const (
	tokEOF             = 0x00
	tokOpenStart       = 0x01
	tokCloseStart      = 0x02
	tokCloseEmpty      = 0x03
	tokEndElement      = 0x04
	tokValue           = 0x05
	tokAttribute       = 0x06
	tokCDATA           = 0x07
	tokCharRef         = 0x08
	tokEntityRef       = 0x09
	tokPITarget        = 0x0a
	tokPIData          = 0x0b
	tokTemplate        = 0x0c
	tokSubst           = 0x0d
	tokOptionalSubst   = 0x0e
	tokFragmentHeader  = 0x0f
	tokMoreBit         = 0x40
	maxDepth           = 64
	maxTokensPerRecord = 1 << 16
)

type nodeKind uint8

const (
	nodeElement nodeKind = iota
	nodeText
	nodeSubst
	nodeCharRef
	nodeEntityRef
	nodeCDATA
	nodePI
	nodeTemplate
)

// node is one parsed BinXML item. Templates are parsed once per chunk into a
// tree of nodes and then instantiated for every record that uses them.
type node struct {
	kind     nodeKind
	optional bool
	subType  byte
	subID    uint16
	name     string // element, entity or PI target name
	text     string // text, CDATA or PI data
	attrs    []attr
	children []*node
	inst     *instance // nodeTemplate
}

type attr struct {
	name  string
	value []*node
}

// template is a template definition, keyed in its chunk by offset.
type template struct {
	nodes []*node
	err   error
	busy  bool // being parsed: a reference to it now is a cycle
}

// instance is a template instance: a definition plus this record's values.
type instance struct {
	tmpl   *template
	values []value
}

// value is one substitution value; off and size locate its bytes in the
// chunk so that nested BinXML can be parsed with chunk-relative offsets.
type value struct {
	typ  byte
	off  int
	size int
}

var errTokenBudget = errors.New("too many BinXML tokens for one record")

// parser reads BinXML from a chunk. Offsets are chunk-relative because names
// and template definitions are referenced by their offset in the chunk.
type parser struct {
	c      *chunk
	pos    int
	end    int
	depth  int
	tokens int
	// slabs supply the nodes: the chunk's per-record slabs for a
	// record's own BinXML (its body and BinXML values), dead once the
	// record is resolved, or its per-chunk slabs for template
	// definitions, which are cached for the chunk's lifetime.
	slabs *nodeSlabs
}

// parseArena is where parsing allocates. Lists (an element's children,
// attributes, attribute values, a fragment's nodes) are gathered on stacks
// shared by all parsers of the chunk, which nest strictly, and copied out
// at their exact length when complete. Nodes and lists come from slabs
// that live as long as what they hold: a record, or the chunk.
type parseArena struct {
	ptrs  []*node
	attrs []attr

	record nodeSlabs // reset for every record
	chunk  nodeSlabs // reset for every chunk, with the template cache
}

// resetRecord readies the arena for the next record. The stacks may hold
// what an aborted parse left.
func (a *parseArena) resetRecord() {
	if cap(a.ptrs) > maxKeptSlab || cap(a.attrs) > maxKeptSlab {
		a.ptrs, a.attrs = nil, nil
	}
	clear(a.ptrs)
	a.ptrs = a.ptrs[:0]
	clear(a.attrs)
	a.attrs = a.attrs[:0]
	a.record.reset()
}

type nodeSlabs struct {
	nodes slab[node]
	lists slab[*node]
	attrs slab[attr]
	insts slab[instance]
	vals  slab[value]
}

func (s *nodeSlabs) reset() {
	s.nodes.reset()
	s.lists.reset()
	s.attrs.reset()
	s.insts.reset()
	s.vals.reset()
}

// slab hands out slices that stay valid until reset. Reset keeps the last
// block only, and blocks double, so once a reader has seen its largest
// record it allocates no more.
type slab[T any] struct{ buf []T }

// maxKeptSlab bounds the items a slab keeps when reset.
const maxKeptSlab = 1 << 12

func (s *slab[T]) take(n int) []T {
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]T, 0, max(2*cap(s.buf), n, 32))
	}
	l := len(s.buf)
	s.buf = s.buf[:l+n]
	return s.buf[l : l+n : l+n]
}

func (s *slab[T]) reset() {
	if cap(s.buf) > maxKeptSlab {
		s.buf = nil
		return
	}
	clear(s.buf) // what the last record referred to can be collected
	s.buf = s.buf[:0]
}

// newNode returns a node holding n.
func (p *parser) newNode(n node) *node {
	x := &p.slabs.nodes.take(1)[0]
	*x = n
	return x
}

// nodeList pops the nodes pushed on the list stack since from and returns
// them as a slice of their own.
func (p *parser) nodeList(from int) []*node {
	ps := &p.c.ps
	var out []*node
	if n := len(ps.ptrs) - from; n > 0 {
		out = p.slabs.lists.take(n)
		copy(out, ps.ptrs[from:])
	}
	ps.ptrs = ps.ptrs[:from]
	return out
}

// attrList is nodeList for attributes.
func (p *parser) attrList(from int) []attr {
	ps := &p.c.ps
	var out []attr
	if n := len(ps.attrs) - from; n > 0 {
		out = p.slabs.attrs.take(n)
		copy(out, ps.attrs[from:])
	}
	ps.attrs = ps.attrs[:from]
	return out
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("BinXML at chunk offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) need(n int) error {
	if n < 0 || p.pos+n > p.end {
		return p.errorf("needs %d bytes, %d left before the end of its record", n, p.end-p.pos)
	}
	return nil
}

func (p *parser) u8() byte { v := p.c.data[p.pos]; p.pos++; return v }
func (p *parser) u16() uint16 {
	v := binary.LittleEndian.Uint16(p.c.data[p.pos:])
	p.pos += 2
	return v
}
func (p *parser) u32() uint32 {
	v := binary.LittleEndian.Uint32(p.c.data[p.pos:])
	p.pos += 4
	return v
}

// fragment parses a BinXML fragment up to its end-of-stream token or the end
// of the region: the record body, a template definition, or a BinXML value.
func (p *parser) fragment() ([]*node, error) {
	ps := &p.c.ps
	from := len(ps.ptrs)
	for p.pos < p.end {
		if p.tokens++; p.tokens > maxTokensPerRecord {
			return p.nodeList(from), errTokenBudget
		}
		tok := p.c.data[p.pos]
		switch tok &^ tokMoreBit {
		case tokEOF:
			p.pos++
			return p.nodeList(from), nil
		case tokFragmentHeader:
			if err := p.need(4); err != nil {
				return p.nodeList(from), err
			}
			p.pos += 4
		case tokTemplate:
			n, err := p.templateInstance()
			if err != nil {
				return p.nodeList(from), err
			}
			ps.ptrs = append(ps.ptrs, n)
		case tokOpenStart:
			n, err := p.element()
			if err != nil {
				return p.nodeList(from), err
			}
			ps.ptrs = append(ps.ptrs, n)
		default:
			n, err := p.content(tok)
			if err != nil {
				return p.nodeList(from), err
			}
			if n != nil {
				ps.ptrs = append(ps.ptrs, n)
			}
		}
	}
	// A BinXML value may end without an end-of-stream token: its size
	// already bounds it.
	return p.nodeList(from), nil
}

// content parses one content token other than an element.
func (p *parser) content(tok byte) (*node, error) {
	switch tok &^ tokMoreBit {
	case tokValue:
		return p.valueText()
	case tokSubst, tokOptionalSubst:
		if err := p.need(4); err != nil {
			return nil, err
		}
		p.pos++
		id := p.u16()
		return p.newNode(node{kind: nodeSubst, optional: tok == tokOptionalSubst, subID: id, subType: p.u8()}), nil
	case tokCharRef:
		if err := p.need(3); err != nil {
			return nil, err
		}
		p.pos++
		return p.newNode(node{kind: nodeCharRef, subID: p.u16()}), nil
	case tokEntityRef:
		if err := p.need(5); err != nil {
			return nil, err
		}
		p.pos++
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		return p.newNode(node{kind: nodeEntityRef, name: name}), nil
	case tokCDATA:
		p.pos++
		s, err := p.lenString()
		if err != nil {
			return nil, err
		}
		return p.newNode(node{kind: nodeCDATA, text: s}), nil
	case tokPITarget:
		if err := p.need(5); err != nil {
			return nil, err
		}
		p.pos++
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		var text string
		if p.pos < p.end && p.c.data[p.pos] == tokPIData {
			p.pos++
			if text, err = p.lenString(); err != nil {
				return nil, err
			}
		}
		return p.newNode(node{kind: nodePI, name: name, text: text}), nil
	case tokTemplate:
		return p.templateInstance()
	}
	return nil, p.errorf("unexpected token 0x%02x", tok)
}

// valueText parses a Value token: literal content in a template or a
// template-less stream. Windows writes strings here; other types are
// accepted at their fixed width.
func (p *parser) valueText() (*node, error) {
	if err := p.need(2); err != nil {
		return nil, err
	}
	p.pos++
	t := p.u8()
	if t == typeString {
		s, err := p.lenString()
		if err != nil {
			return nil, err
		}
		return p.newNode(node{kind: nodeText, text: s}), nil
	}
	n := fixedSize(t)
	if n == 0 {
		return nil, p.errorf("value token of type 0x%02x has no known size", t)
	}
	if err := p.need(n); err != nil {
		return nil, err
	}
	s := string(appendValue(nil, t, p.c.data[p.pos:p.pos+n]))
	p.pos += n
	return p.newNode(node{kind: nodeText, text: s}), nil
}

// lenString reads a UTF-16 string prefixed by its length in characters.
func (p *parser) lenString() (string, error) {
	if err := p.need(2); err != nil {
		return "", err
	}
	n := int(p.u16()) * 2
	if err := p.need(n); err != nil {
		return "", err
	}
	p.c.scratch = appendUTF16(p.c.scratch[:0], p.c.data[p.pos:p.pos+n])
	s := p.c.intern(p.c.scratch)
	p.pos += n
	return s, nil
}

// name reads a name reference. When the name is defined right here (its
// offset is the current position) it is stored inline and skipped.
func (p *parser) name() (string, error) {
	off := int(p.u32())
	s, size, err := p.c.name(off)
	if err != nil {
		return "", p.errorf("%v", err)
	}
	if off == p.pos {
		if err := p.need(size); err != nil {
			return "", err
		}
		p.pos += size
	}
	return s, nil
}

func (p *parser) element() (*node, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf("elements nested deeper than %d", maxDepth)
	}
	defer func() { p.depth-- }()
	start := p.pos
	if err := p.need(11); err != nil {
		return nil, err
	}
	tok := p.u8()
	// The 2-byte dependency identifier is missing in some writers' output.
	// The name offset tells which layout this is: it either points at the
	// bytes right after the header (an inline name) or backwards at a name
	// already defined in the chunk.
	p.pos += 2
	p.pos += 4 // data size: the token stream is self-delimiting
	off := int(binary.LittleEndian.Uint32(p.c.data[p.pos:]))
	if !p.plausibleName(off, p.pos+4) {
		alt := int(binary.LittleEndian.Uint32(p.c.data[start+5:]))
		if p.plausibleName(alt, start+9) {
			p.pos = start + 5
		}
	}
	name, err := p.name()
	if err != nil {
		return nil, err
	}
	n := p.newNode(node{kind: nodeElement, name: name})
	if tok&tokMoreBit != 0 {
		if err := p.attributes(n); err != nil {
			return nil, err
		}
	}
	if err := p.need(1); err != nil {
		return nil, err
	}
	switch p.u8() {
	case tokCloseEmpty:
		return n, nil
	case tokCloseStart:
	default:
		p.pos--
		return nil, p.errorf("element <%s> not closed by a close-start or close-empty token (0x%02x)", name, p.c.data[p.pos])
	}
	// On error the list stack keeps what was pushed: the record is
	// abandoned, and the stack reset for the next one.
	ps := &p.c.ps
	from := len(ps.ptrs)
	for {
		if p.tokens++; p.tokens > maxTokensPerRecord {
			return nil, errTokenBudget
		}
		if err := p.need(1); err != nil {
			return nil, err
		}
		tok := p.c.data[p.pos]
		switch tok &^ tokMoreBit {
		case tokEndElement:
			p.pos++
			n.children = p.nodeList(from)
			return n, nil
		case tokOpenStart:
			c, err := p.element()
			if err != nil {
				return nil, err
			}
			ps.ptrs = append(ps.ptrs, c)
		case tokEOF:
			return nil, p.errorf("stream ends inside <%s>", name)
		default:
			c, err := p.content(tok)
			if err != nil {
				return nil, err
			}
			ps.ptrs = append(ps.ptrs, c)
		}
	}
}

// attributes reads the attribute list of the element n, whose header was
// just read.
func (p *parser) attributes(n *node) error {
	if err := p.need(4); err != nil {
		return err
	}
	p.pos += 4 // attribute list size
	ps := &p.c.ps
	from := len(ps.attrs)
	for p.pos < p.end && p.c.data[p.pos]&^tokMoreBit == tokAttribute {
		if p.tokens++; p.tokens > maxTokensPerRecord {
			return errTokenBudget
		}
		if err := p.need(5); err != nil {
			return err
		}
		p.pos++
		an, err := p.name()
		if err != nil {
			return err
		}
		vfrom := len(ps.ptrs)
		for p.pos < p.end {
			t := p.c.data[p.pos] &^ tokMoreBit
			if t != tokValue && t != tokSubst && t != tokOptionalSubst && t != tokCharRef && t != tokEntityRef {
				break
			}
			v, err := p.content(p.c.data[p.pos])
			if err != nil {
				return err
			}
			ps.ptrs = append(ps.ptrs, v)
		}
		ps.attrs = append(ps.attrs, attr{name: an, value: p.nodeList(vfrom)})
	}
	n.attrs = p.attrList(from)
	return nil
}

// plausibleName reports whether off can be the name offset of an element
// header ending at here: an inline name right there, or an earlier one.
func (p *parser) plausibleName(off, here int) bool {
	if off == here {
		return true
	}
	if off < chunkHeaderSize || off >= here || off+8 > len(p.c.data) {
		return false
	}
	_, _, err := p.c.name(off)
	return err == nil
}

func (p *parser) templateInstance() (*node, error) {
	if err := p.need(10); err != nil {
		return nil, err
	}
	p.pos += 2 // token and an unknown byte
	id := p.u32()
	defOff := int(p.u32())
	// The identifier repeats the first 4 bytes of the definition's GUID. A
	// mismatch means the offset points at something else, as happens in
	// stale records whose chunk was reused.
	if defOff >= chunkHeaderSize && defOff+8 <= p.c.avail && binary.LittleEndian.Uint32(p.c.data[defOff+4:]) != id {
		return nil, p.errorf("template instance names template 0x%08x but the definition at chunk offset %d is not it", id, defOff)
	}
	t, size, err := p.c.template(defOff, p.depth)
	if err != nil {
		return nil, p.errorf("template at chunk offset %d: %v", defOff, err)
	}
	if defOff == p.pos {
		if err := p.need(size); err != nil {
			return nil, err
		}
		p.pos += size
	}
	if err := p.need(4); err != nil {
		return nil, err
	}
	count := int(p.u32())
	if err := p.need(count * 4); err != nil {
		return nil, p.errorf("template instance declares %d values: %v", count, err)
	}
	inst := &p.slabs.insts.take(1)[0]
	inst.tmpl, inst.values = t, p.slabs.vals.take(count)
	desc := p.pos
	p.pos += count * 4
	for i := range inst.values {
		size := int(binary.LittleEndian.Uint16(p.c.data[desc+4*i:]))
		typ := p.c.data[desc+4*i+2]
		if err := p.need(size); err != nil {
			return nil, p.errorf("value %d of %d: %v", i, count, err)
		}
		inst.values[i] = value{typ: typ, off: p.pos, size: size}
		p.pos += size
	}
	return p.newNode(node{kind: nodeTemplate, inst: inst}), nil
}
