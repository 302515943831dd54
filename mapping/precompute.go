package mapping

import (
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// What the catalog lets us do once instead of per event: the record bodies
// built from catalog text, and the JSON form of the catalog's long texts,
// which are most of the bytes the projections escape.

// derived is what a catalog's texts give, built on first use.
type derived struct {
	once sync.Once
	// bodies[e] is the body of a record of entry e without error text.
	bodies map[*EventEntry]string
	// ids holds the catalog's event IDs (and their aliases) as text.
	ids map[uint32]string
	// withCode holds bodies of entry + code message, filled on first use:
	// at most entries × codes strings, far fewer in practice.
	withCode sync.Map // bodyKey -> string
}

type bodyKey struct {
	e *EventEntry
	c *CodeEntry
}

// derived returns the catalog's derived texts, building them on the first
// call. The long texts are registered for pre-escaped JSON output.
func (c *Catalog) derived() *derived {
	d := &c.pre
	d.once.Do(func() {
		d.bodies = make(map[*EventEntry]string, len(c.Events))
		d.ids = make(map[uint32]string, len(c.Events))
		var texts []string
		for i := range c.Events {
			e := &c.Events[i]
			for _, id := range append([]uint32{e.ID}, e.IDAliases...) {
				d.ids[id] = strconv.FormatUint(uint64(id), 10)
			}
			body := e.Name + ": " + e.Description
			d.bodies[e] = body
			texts = append(texts, body, e.Description, e.Remediation)
		}
		for i := range c.Codes {
			ce := &c.Codes[i]
			texts = append(texts, ce.Message, ce.Remediation)
		}
		registerEscaped(texts)
	})
	return d
}

// idText is id as decimal text, without allocating for the catalog's IDs.
func (d *derived) idText(id uint32) string {
	if s, ok := d.ids[id]; ok {
		return s
	}
	return strconv.FormatUint(uint64(id), 10)
}

// body returns the record body for entry e (non-nil) with the error text
// errMsg, sharing one string per combination the catalog decides; "" when
// errMsg is not the catalog's (the caller builds it).
func (d *derived) body(e *EventEntry, code *CodeEntry, errMsg string) string {
	if errMsg == "" {
		return d.bodies[e]
	}
	if code == nil || errMsg != code.Message {
		return ""
	}
	k := bodyKey{e, code}
	if s, ok := d.withCode.Load(k); ok {
		return s.(string)
	}
	s := d.bodies[e] + " Error: " + errMsg
	registerEscaped([]string{s})
	d.withCode.Store(k, s)
	return s
}

// minPreEscaped is the shortest text worth a lookup: below it, escaping
// costs about what the lookup does.
const minPreEscaped = 64

// maxPreEscaped bounds the registry, so that a process that parses many
// catalogs (tests, reloads) does not grow it for ever; texts past the bound
// are escaped as they are written.
const maxPreEscaped = 1 << 14

// escapedText is one registered text and its JSON form, quotes included.
type escapedText struct {
	s    string
	json []byte
}

// preEscaped maps the address of a registered text's bytes to its JSON
// form. It is keyed by address, not content, so that a lookup costs no
// hashing of the text: a record's attribute shares the catalog string's
// bytes, and a string with the same address and length has the same bytes,
// because strings are immutable and the entry keeps them alive. A record
// that arrived over OTLP holds copies and misses, and is escaped as before.
// Copy on write: lookups never lock.
var (
	preEscaped   atomic.Pointer[map[*byte]escapedText]
	preEscapedMu sync.Mutex
)

func registerEscaped(texts []string) {
	preEscapedMu.Lock()
	defer preEscapedMu.Unlock()
	var old map[*byte]escapedText
	if p := preEscaped.Load(); p != nil {
		old = *p
	}
	m := make(map[*byte]escapedText, len(old)+len(texts))
	for k, v := range old {
		m[k] = v
	}
	for _, s := range texts {
		if len(s) < minPreEscaped || len(m) >= maxPreEscaped {
			continue
		}
		m[unsafe.StringData(s)] = escapedText{s: s, json: appendJSONStringScan(nil, s)}
	}
	preEscaped.Store(&m)
}

// lookupEscaped returns the JSON form of s when s is a registered text.
func lookupEscaped(s string) ([]byte, bool) {
	p := preEscaped.Load()
	if p == nil {
		return nil, false
	}
	e, ok := (*p)[unsafe.StringData(s)]
	if !ok || len(e.s) != len(s) {
		return nil, false
	}
	return e.json, true
}
