package mapping

import (
	"slices"
	"strings"
)

// Elasticsearch field types the document mappings use.
const (
	ESKeyword         = "keyword"
	ESText            = "text"
	ESMatchOnlyText   = "match_only_text"
	ESWildcard        = "wildcard"
	ESLong            = "long"
	ESBoolean         = "boolean"
	ESDate            = "date"
	ESFlattened       = "flattened"
	ESConstantKeyword = "constant_keyword"
	ESObject          = "object"
)

// esIgnoreAbove is the longest keyword value indexed, as in ECS; longer
// values stay in _source but are not searchable as a keyword.
const esIgnoreAbove = 1024

// ESMapping is the Elasticsearch mapping of one field of the ECS document
// (AppendECS), so index templates and the content that queries the fields are
// built from the same table.
type ESMapping struct {
	// Path is the dotted field name.
	Path string
	Type string
	// Sub are multi-fields: the same value indexed another way, queried
	// as Path + "." + Name.
	Sub []ESSubField
	// NotIndexed keeps the value in _source only (event.original).
	NotIndexed bool
	// KeywordLeaves is for objects: every key below the object, whatever
	// its name, is a keyword leaf, dotted names included (see
	// ESDynamicTemplates).
	KeywordLeaves bool
}

// ESSubField is a multi-field of a mapped field.
type ESSubField struct{ Name, Type string }

// Fields of the ECS document that are not record attributes: the envelope
// AppendECS writes around them.
var esEnvelope = []ESMapping{
	{Path: "@timestamp", Type: ESDate},
	{Path: "message", Type: ESMatchOnlyText},
	// Structured bodies from other receivers: any shape, never a conflict.
	{Path: "body", Type: ESFlattened},
	{Path: "ecs.version", Type: ESKeyword},
	{Path: "data_stream.type", Type: ESConstantKeyword},
	{Path: "data_stream.dataset", Type: ESConstantKeyword},
	{Path: "data_stream.namespace", Type: ESConstantKeyword},
	{Path: "trace.id", Type: ESKeyword},
	{Path: "span.id", Type: ESKeyword},
}

// esECSText are the ECS fields whose ECS type is not keyword, mapped as ECS
// maps them so that our indices and others' agree in a shared data view.
var esECSText = map[string]ESMapping{
	AttrErrorMessage: {Type: ESMatchOnlyText},
	AttrErrorStack:   {Type: ESWildcard, Sub: []ESSubField{{"text", ESMatchOnlyText}}},
}

// esProse are our own free-text fields: searched by words, and still
// matched exactly through the keyword sub-field.
var esProse = []string{
	AttrIntuneDescription,
	AttrIntuneRemediation,
	AttrIntuneDiagMessage,
	AttrIntuneDiagText,
}

// esKeywordObjects are the maps Winlogbeat also writes, and ECS labels.
// Winlogbeat's and the Windows integration's templates map them as objects
// with a keyword per key, as ECS defines labels, so ours do too: a data
// view over both then has one type for each winlog.event_data.* field, and
// every key is a field of its own in Discover, Lens and ES|QL. Our own maps
// stay flattened.
var esKeywordObjects = []string{AttrLabels, AttrWinlogEventData, AttrWinlogUserData}

// ESMappings returns the mapping of every contract field and of the
// envelope, sorted by path. ECS fields take ECS's types; other strings are
// keywords (IDs, codes, names), our prose is text with a keyword sub-field,
// the maps Winlogbeat shares are objects of keywords and our own maps are
// flattened, and the original event text is kept but not indexed.
func ESMappings() []ESMapping {
	out := make([]ESMapping, 0, len(Fields)+len(esEnvelope))
	out = append(out, esEnvelope...)
	for _, f := range Fields {
		m := ESMapping{Path: f.Name}
		switch f.Type {
		case TypeInt:
			m.Type = ESLong
		case TypeBool:
			m.Type = ESBoolean
		case TypeMap:
			m.Type = ESFlattened
		default: // strings and string lists
			m.Type = ESKeyword
		}
		if ecs, ok := esECSText[f.Name]; ok {
			m.Type, m.Sub = ecs.Type, ecs.Sub
		}
		switch {
		case slices.Contains(esProse, f.Name):
			m.Type, m.Sub = ESText, []ESSubField{{"keyword", ESKeyword}}
		case slices.Contains(esKeywordObjects, f.Name):
			m.Type, m.KeywordLeaves = ESObject, true
		case f.Name == AttrEventOriginal:
			m.NotIndexed = true
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b ESMapping) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Definition is the field's mapping as Elasticsearch takes it in a
// template's properties.
func (m ESMapping) Definition() map[string]any {
	d := map[string]any{"type": m.Type}
	switch m.Type {
	case ESKeyword:
		if m.NotIndexed {
			// As ECS maps event.original: stored, never searched, so no
			// length limit either.
			d["index"] = false
			d["doc_values"] = false
		} else {
			d["ignore_above"] = esIgnoreAbove
		}
	case ESDate:
		// A document without a valid time must be refused, not stored
		// without one, even where an index ignores malformed values.
		d["ignore_malformed"] = false
	case ESFlattened:
		d["ignore_above"] = esIgnoreAbove
	case ESObject:
		if m.KeywordLeaves {
			// A key with a dot in it ("A.B", a UserData path) stays one
			// leaf instead of an object that would clash with a key "A"
			// of another event.
			d["subobjects"] = false
		}
	}
	if len(m.Sub) > 0 {
		fields := map[string]any{}
		for _, s := range m.Sub {
			sd := map[string]any{"type": s.Type}
			if s.Type == ESKeyword {
				sd["ignore_above"] = esIgnoreAbove
			}
			fields[s.Name] = sd
		}
		d["fields"] = fields
	}
	return d
}

// ESProperties returns the mappings as the nested "properties" object of an
// index or component template.
func ESProperties() map[string]any {
	root := map[string]any{}
	for _, m := range ESMappings() {
		props := root
		parts := strings.Split(m.Path, ".")
		for _, p := range parts[:len(parts)-1] {
			obj, ok := props[p].(map[string]any)
			if !ok {
				obj = map[string]any{"properties": map[string]any{}}
				props[p] = obj
			}
			props = obj["properties"].(map[string]any)
		}
		props[parts[len(parts)-1]] = m.Definition()
	}
	return root
}

// ESDynamicTemplates returns the dynamic templates the mappings need, in
// the order they must come before any other: the keyword leaves of the
// objects Winlogbeat shares. They match whatever type Elasticsearch would
// detect, so a value that looks like a date or a number is still a keyword,
// as it is in Winlogbeat's indices.
func ESDynamicTemplates() []map[string]any {
	var out []map[string]any
	for _, m := range ESMappings() {
		if !m.KeywordLeaves {
			continue
		}
		name := strings.ReplaceAll(m.Path, ".", "_") + "_keywords"
		out = append(out, map[string]any{name: map[string]any{
			"path_match": m.Path + ".*",
			"mapping":    map[string]any{"type": ESKeyword, "ignore_above": esIgnoreAbove},
		}})
	}
	return out
}

// ESFieldType returns the type a query sees for path: a mapped field, a
// multi-field, a key below a flattened field (queried as a keyword) or a
// keyword leaf of an object. ok is false for a path nothing maps, and for
// an object, which is not a field.
func ESFieldType(path string) (typ string, ok bool) {
	ms := ESMappings()
	i, found := slices.BinarySearchFunc(ms, path, func(m ESMapping, p string) int { return strings.Compare(m.Path, p) })
	if found {
		if ms[i].Type == ESObject {
			return "", false
		}
		return ms[i].Type, true
	}
	for _, m := range ms {
		rest, below := strings.CutPrefix(path, m.Path+".")
		switch {
		case !below:
		case m.Type == ESFlattened:
			return ESFlattened, true
		case m.KeywordLeaves:
			return ESKeyword, true
		default:
			for _, s := range m.Sub {
				if s.Name == rest {
					return s.Type, true
				}
			}
		}
	}
	return "", false
}

// ESAggregatable tells whether a field of the type can be aggregated on
// and sorted by: text types have no doc values.
func ESAggregatable(typ string) bool {
	return typ != ESText && typ != ESMatchOnlyText
}
