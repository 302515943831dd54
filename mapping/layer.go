package mapping

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// CatalogLayer is one catalog file a site layers over the embedded catalog:
// its name for messages (the path as configured) and its content. mapping
// reads no files; the component or command that was given the path does.
type CatalogLayer struct {
	Name string
	Data []byte
}

// MaxLayerSize bounds one catalog file. The embedded catalog is about
// 60 KiB; a file a thousand times that is a mistake, not a catalog.
const MaxLayerSize = 4 << 20

// Layered returns the catalog with each layer applied in order. A layer is
// written in the schema of the embedded catalog (catalog.yaml):
//   - an entry under events: names an event by id or name (aliases
//     included); for an event the catalog has, the keys it writes replace
//     the catalog's (description, remediation, runbook_url, severity,
//     data_fields), add to it (name_aliases, id_aliases, codes) or are
//     merged key by key (labels); an event the catalog lacks is added and
//     needs everything the embedded catalog requires of an event;
//   - codes: likewise, by code (any spelling the catalog accepts);
//   - categories: new categories only.
//
// A later layer is applied over the earlier ones. The result is checked as
// the embedded catalog is, and every problem is reported with the file and
// line to fix; unknown keys are refused. The receiver is not changed.
func (c *Catalog) Layered(layers ...CatalogLayer) (*Catalog, error) {
	if len(layers) == 0 {
		return c, nil
	}
	cur := c
	var errs []error
	for _, l := range layers {
		next := cur.clone()
		if err := next.apply(l); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := next.index(); err != nil {
			errs = append(errs, stripCatalogPrefix(err))
			continue
		}
		cur = next
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cur, nil
}

// stripCatalogPrefix drops index's "catalog: " in front of problems that
// name their file and line, which say enough.
func stripCatalogPrefix(err error) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]error, len(list))
	for i, e := range list {
		out[i] = errors.New(oneLine(strings.TrimPrefix(e.Error(), "catalog: ")))
	}
	return errors.Join(out...)
}

// clone copies the entry lists, so a layer can change entries without
// touching the catalog it was layered over; slices and maps inside an
// entry are copied by the layer before it changes them.
func (c *Catalog) clone() *Catalog {
	out := &Catalog{
		Version:    c.Version,
		Sources:    slices.Clone(c.Sources),
		Categories: slices.Clone(c.Categories),
		Events:     slices.Clone(c.Events),
		Codes:      slices.Clone(c.Codes),
	}
	// index needs the tables before apply looks entries up.
	_ = out.index()
	return out
}

// layerFile is one layer being applied: its name, the problems found, and
// which entries it already changed.
type layerFile struct {
	name     string
	errs     []error
	events   map[int]int    // index in Events -> line of the entry that changed it
	codes    map[string]int // code -> line
	newIDs   map[uint32]int // IDs and names of events this file adds -> line
	newNames map[string]int
	// added are the events this file adds. They join the catalog's list
	// after the whole file is read, as appending would move the entries
	// the lookup tables point to.
	added []EventEntry
}

func (l *layerFile) bad(line int, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s:%d: %s", l.name, line, oneLine(fmt.Sprintf(format, args...))))
}

// oneLine keeps a problem on one line whatever text from the file it
// quotes, so that each line of the joined error is one problem.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`).Replace(s)
}

var (
	topKeys      = []string{"version", "events", "codes", "categories"}
	eventKeys    = yamlKeys(reflect.TypeFor[EventEntry]())
	codeKeys     = yamlKeys(reflect.TypeFor[CodeEntry]())
	categoryKeys = yamlKeys(reflect.TypeFor[Category]())
)

// apply reads one layer into c. Problems are collected so that one run
// reports every mistake in the file.
func (c *Catalog) apply(l CatalogLayer) error {
	lf := &layerFile{name: l.Name, events: map[int]int{}, codes: map[string]int{}, newIDs: map[uint32]int{}, newNames: map[string]int{}}
	if len(l.Data) > MaxLayerSize {
		return fmt.Errorf("%s: %d bytes is more than a catalog file may hold (%d); is it the right file?", l.Name, len(l.Data), MaxLayerSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(l.Data, &doc); err != nil {
		return fmt.Errorf("%s: not valid YAML: %s", l.Name, oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return fmt.Errorf("%s: the file is empty; write version: 1 and the events or codes to add or change", l.Name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: the file must be a mapping with version, events, codes or categories, as in the catalog", l.Name, root.Line)
	}
	version := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			version = true
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				lf.bad(v.Line, "version %q is not supported: write version: 1", v.Value)
			}
		case "events":
			eachItem(lf, v, "events", func(n *yaml.Node) { c.applyEvent(lf, n) })
		case "codes":
			eachItem(lf, v, "codes", func(n *yaml.Node) { c.applyCode(lf, n) })
		case "categories":
			eachItem(lf, v, "categories", func(n *yaml.Node) { c.applyCategory(lf, n) })
		case "sources":
			lf.bad(k.Line, "sources cannot be changed by a catalog file: they decide which events are the connector's; leave the key out")
		default:
			lf.bad(k.Line, "unknown key %q%s; a catalog file takes %s", k.Value, suggest(k.Value, topKeys), strings.Join(topKeys, ", "))
		}
	}
	if !version {
		lf.bad(root.Line, "version is missing: start the file with version: 1")
	}
	c.Events = append(c.Events, lf.added...)
	return errors.Join(lf.errs...)
}

func eachItem(lf *layerFile, list *yaml.Node, key string, fn func(*yaml.Node)) {
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return
	}
	if list.Kind != yaml.SequenceNode {
		lf.bad(list.Line, "%s must be a list of entries (each starting with -)", key)
		return
	}
	for _, n := range list.Content {
		if n.Kind != yaml.MappingNode {
			lf.bad(n.Line, "each entry under %s must be a mapping of keys such as id, name, description", key)
			continue
		}
		fn(n)
	}
}

// entryKeys checks an entry's keys and returns the line of each. Unknown
// keys are refused with the nearest known one.
func entryKeys(lf *layerFile, n *yaml.Node, what string, known []string) map[string]int {
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(known, k.Value) {
			lf.bad(k.Line, "%s: unknown key %q%s", what, k.Value, suggest(k.Value, known))
			continue
		}
		if _, dup := lines[k.Value]; dup {
			lf.bad(k.Line, "%s: key %q is written twice", what, k.Value)
			continue
		}
		lines[k.Value] = k.Line
	}
	return lines
}

// decodeEntry decodes the entry's keys one by one into out, so that a
// value of the wrong kind is reported with its key and line; label names
// the entry from what could be decoded.
func decodeEntry(lf *layerFile, n *yaml.Node, out any, label func() string) bool {
	type problem struct {
		line     int
		key, msg string
	}
	var problems []problem
	v := reflect.ValueOf(out).Elem()
	fields := yamlFieldIndex(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, known := fields[k.Value]
		if !known {
			continue // reported by entryKeys
		}
		f := v.Field(idx)
		if err := val.Decode(f.Addr().Interface()); err != nil {
			problems = append(problems, problem{val.Line, k.Value, valueHint(f.Type(), val, err)})
		}
	}
	for _, p := range problems {
		lf.bad(p.line, "%s: %s: %s", label(), p.key, p.msg)
	}
	return len(problems) == 0
}

func valueHint(t reflect.Type, val *yaml.Node, err error) string {
	switch {
	case t == reflect.TypeFor[Severity]():
		return fmt.Sprintf("%q is not a severity: use verbose, information, warning, error or critical", val.Value)
	case t.Kind() == reflect.Uint32:
		return fmt.Sprintf("%q is not an event ID: write a whole number such as 1060", val.Value)
	case t.Kind() == reflect.Slice:
		return "write a list, such as [a, b]"
	case t.Kind() == reflect.Map:
		return "write a mapping of names to text, such as {team: pki, escalation: tier2}"
	case t.Kind() == reflect.String:
		return "write text"
	}
	msg := err.Error()
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	return msg
}

// Keys an entry of a catalog file may write for an event the catalog
// already has. The others say what the event is; changing them would make
// it another event.
var (
	eventIdentityKeys = []string{"generation", "channel", "category", "outcome"}
	codeIdentityKeys  = []string{"name"}
)

func (c *Catalog) applyEvent(lf *layerFile, n *yaml.Node) {
	var e EventEntry
	decoded := decodeEntry(lf, n, &e, func() string { return describeEntry(e.ID, e.Name) })
	lines := entryKeys(lf, n, describeEntry(e.ID, e.Name), eventKeys)
	if !decoded {
		return
	}
	_, hasID := lines["id"]
	_, hasName := lines["name"]
	if !hasID && !hasName {
		lf.bad(n.Line, "event: name the event to change with id (or name), or give a new event an id and a name")
		return
	}
	for i, code := range e.Codes {
		if canon, ok := c.NormalizeCode(code); ok {
			e.Codes[i] = canon
		}
	}
	if prev, ok := lf.newIDs[e.ID]; ok && hasID {
		lf.bad(n.Line, "%s is added at line %d of this file; merge the two entries into one", describeEntry(e.ID, e.Name), prev)
		return
	}
	if prev, ok := lf.newNames[strings.ToLower(e.Name)]; ok && hasName {
		lf.bad(n.Line, "%s is added at line %d of this file; merge the two entries into one", describeEntry(e.ID, e.Name), prev)
		return
	}
	byID, byName := -1, -1
	if hasID {
		byID = c.eventIndex(c.Event(e.ID))
	}
	if hasName {
		byName = c.eventIndex(c.EventByName(e.Name))
	}
	label := describeEntry(e.ID, e.Name)
	switch {
	case byID >= 0 && byName >= 0 && byID != byName:
		lf.bad(lines["name"], "%s: id %d is %s in the catalog but name %s is event %d; an entry changes one event: correct the id or the name",
			label, e.ID, c.Events[byID].Name, e.Name, c.Events[byName].ID)
	case hasID && hasName && byID >= 0 && byName < 0:
		lf.bad(lines["name"], "%s: event %d is called %s in the catalog and cannot be renamed; leave name out, or add %s under name_aliases",
			label, e.ID, c.Events[byID].Name, e.Name)
	case hasID && hasName && byID < 0 && byName >= 0:
		lf.bad(lines["id"], "%s: the name %s already belongs to event %d; give the new event a name of its own, or write id: %d to change that event",
			label, e.Name, c.Events[byName].ID, c.Events[byName].ID)
	case byID >= 0 || byName >= 0:
		c.changeEvent(lf, max(byID, byName), &e, lines, n.Line)
	case !hasName:
		lf.bad(lines["id"], "%s: event %d is not in the catalog; to add it, give it a name, generation, channel, outcome, severity and description (and a remediation if it reports a failure)", label, e.ID)
	case !hasID:
		lf.bad(lines["name"], "%s: no event is called %s; to add it, give it an id, generation, channel, outcome, severity and description", label, e.Name)
	default:
		c.addEvent(lf, &e, lines, n.Line)
	}
}

func describeEntry(id uint32, name string) string {
	switch {
	case id != 0 && name != "":
		return fmt.Sprintf("event %d (%s)", id, name)
	case id != 0:
		return fmt.Sprintf("event %d", id)
	}
	return strings.TrimSpace("event " + name)
}

func (c *Catalog) eventIndex(e *EventEntry) int {
	if e == nil {
		return -1
	}
	for i := range c.Events {
		if &c.Events[i] == e {
			return i
		}
	}
	return -1
}

func (c *Catalog) changeEvent(lf *layerFile, i int, e *EventEntry, lines map[string]int, line int) {
	t := &c.Events[i]
	label := describeEntry(t.ID, t.Name)
	if prev, dup := lf.events[i]; dup {
		lf.bad(line, "%s is changed twice in this file (also at line %d); merge the two entries into one", label, prev)
		return
	}
	lf.events[i] = line
	for _, k := range eventIdentityKeys {
		l, set := lines[k]
		if !set {
			continue
		}
		was, now := eventKeyValue(t, k), eventKeyValue(e, k)
		if was != now {
			lf.bad(l, "%s: %s is %q in the catalog and a catalog file cannot change it (only description, remediation, runbook_url, labels, severity, codes, data_fields and aliases); leave %s out", label, k, was, k)
		}
	}
	for _, a := range e.IDAliases {
		if other := c.Event(a); other != nil && other != t {
			lf.bad(lines["id_aliases"], "%s: id alias %d is already event %d (%s)", label, a, other.ID, other.Name)
		}
	}
	for _, a := range e.NameAliases {
		if other := c.EventByName(a); other != nil && other != t {
			lf.bad(lines["name_aliases"], "%s: name alias %s is already event %d (%s)", label, a, other.ID, other.Name)
		}
	}
	set := func(k string) bool { _, ok := lines[k]; return ok }
	if set("description") {
		t.Description = e.Description
	}
	if set("remediation") {
		t.Remediation = e.Remediation
	}
	if set("runbook_url") {
		t.RunbookURL = e.RunbookURL
	}
	if set("severity") {
		t.Severity = e.Severity
	}
	if set("data_fields") {
		t.DataFields = slices.Clone(e.DataFields)
	}
	t.NameAliases = appendNew(t.NameAliases, e.NameAliases...)
	t.IDAliases = appendNew(t.IDAliases, e.IDAliases...)
	t.Codes = appendNew(t.Codes, e.Codes...)
	if len(e.Labels) > 0 {
		m := maps.Clone(t.Labels)
		if m == nil {
			m = map[string]string{}
		}
		maps.Copy(m, e.Labels)
		t.Labels = m
	}
	t.origin = &origin{file: lf.name, line: line, keys: lines}
}

func eventKeyValue(e *EventEntry, k string) string {
	switch k {
	case "generation":
		return string(e.Generation)
	case "channel":
		return e.Channel
	case "category":
		return e.Category
	case "outcome":
		return string(e.Outcome)
	}
	return ""
}

func (c *Catalog) addEvent(lf *layerFile, e *EventEntry, lines map[string]int, line int) {
	label := describeEntry(e.ID, e.Name)
	ids := append([]uint32{e.ID}, e.IDAliases...)
	for _, id := range ids {
		if other := c.Event(id); other != nil {
			lf.bad(lines["id_aliases"], "%s: ID %d is already event %s", label, id, other.Name)
		} else if prev, dup := lf.newIDs[id]; dup && id != e.ID {
			lf.bad(line, "%s: ID %d is also given to the event added at line %d; merge the two entries into one", label, id, prev)
		}
		lf.newIDs[id] = line
	}
	for _, n := range append([]string{e.Name}, e.NameAliases...) {
		k := strings.ToLower(n)
		if other := c.EventByName(n); other != nil {
			lf.bad(lines["name_aliases"], "%s: the name %s already belongs to event %d", label, n, other.ID)
		} else if prev, dup := lf.newNames[k]; dup && k != strings.ToLower(e.Name) {
			lf.bad(line, "%s: the name %s is also given to the event added at line %d", label, n, prev)
		}
		lf.newNames[k] = line
	}
	var missing []string
	for _, k := range []string{"generation", "channel", "outcome", "severity", "description"} {
		if _, ok := lines[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		lf.bad(line, "%s is not in the catalog, so it is added, and a new event needs %s; if you meant to change an event the catalog has, check its ID with intunectl explain",
			label, strings.Join(missing, ", "))
		return
	}
	e.origin = &origin{file: lf.name, line: line, keys: lines}
	lf.added = append(lf.added, *e)
}

func (c *Catalog) applyCode(lf *layerFile, n *yaml.Node) {
	var ce CodeEntry
	decoded := decodeEntry(lf, n, &ce, func() string { return strings.TrimSpace("code " + ce.Code) })
	lines := entryKeys(lf, n, strings.TrimSpace("code "+ce.Code), codeKeys)
	if !decoded {
		return
	}
	if _, ok := lines["code"]; !ok {
		lf.bad(n.Line, "code: write the diagnostic code (code: \"0x00000400\") of the code to change or add")
		return
	}
	canon, hex := c.NormalizeCode(ce.Code)
	if !hex {
		lf.bad(lines["code"], "code %q is not a diagnostic code: write 0x and 8 hex digits, such as \"0x00000400\"", ce.Code)
		return
	}
	if prev, dup := lf.codes[canon]; dup {
		lf.bad(n.Line, "code %s is changed twice in this file (also at line %d); merge the two entries into one", canon, prev)
		return
	}
	lf.codes[canon] = n.Line
	o := &origin{file: lf.name, line: n.Line, keys: lines}
	t, _, known := c.Code(canon)
	if !known {
		if _, ok := lines["name"]; !ok {
			lf.bad(n.Line, "code %s is not in the catalog, so it is added, and a new code needs a name and a message", canon)
		}
		ce.origin = o
		c.Codes = append(c.Codes, ce)
		return
	}
	i := slices.IndexFunc(c.Codes, func(x CodeEntry) bool { return x.Code == t.Code })
	t = &c.Codes[i]
	for _, k := range codeIdentityKeys {
		if l, set := lines[k]; set && ce.Name != t.Name {
			lf.bad(l, "code %s: %s is %q in the catalog and a catalog file cannot change it; leave %s out", t.Code, k, t.Name, k)
		}
	}
	set := func(k string) bool { _, ok := lines[k]; return ok }
	if set("message") {
		t.Message = ce.Message
	}
	if set("remediation") {
		t.Remediation = ce.Remediation
	}
	if set("runbook_url") {
		t.RunbookURL = ce.RunbookURL
	}
	if set("severity") {
		t.Severity = ce.Severity
	}
	t.Aliases = appendNew(t.Aliases, ce.Aliases...)
	if len(ce.Labels) > 0 {
		m := maps.Clone(t.Labels)
		if m == nil {
			m = map[string]string{}
		}
		maps.Copy(m, ce.Labels)
		t.Labels = m
	}
	t.origin = o
}

func (c *Catalog) applyCategory(lf *layerFile, n *yaml.Node) {
	var cat Category
	decoded := decodeEntry(lf, n, &cat, func() string { return strings.TrimSpace("category " + cat.Slug) })
	lines := entryKeys(lf, n, strings.TrimSpace("category "+cat.Slug), categoryKeys)
	if !decoded {
		return
	}
	if c.Category(cat.Slug) != nil {
		lf.bad(lines["slug"], "category %q is already in the catalog; a catalog file can add categories, not change them", cat.Slug)
		return
	}
	cat.origin = &origin{file: lf.name, line: n.Line, keys: lines}
	c.Categories = append(c.Categories, cat)
}

// appendNew returns list with the values it lacks appended, in a new slice
// so that the list of the catalog underneath stays as it was.
func appendNew[T comparable](list []T, add ...T) []T {
	if len(add) == 0 {
		return list
	}
	out := slices.Clone(list)
	for _, a := range add {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
