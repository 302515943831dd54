package mapping

import (
	"slices"
	"strings"
)

// Elasticsearch field types the document mappings use.
const (
	ESKeyword         = "keyword"
	ESText            = "text"
	ESLong            = "long"
	ESBoolean         = "boolean"
	ESDate            = "date"
	ESFlattened       = "flattened"
	ESConstantKeyword = "constant_keyword"
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
	// KeywordSubfield adds Path+".keyword" to a text field, for exact
	// matches, sorting and aggregations.
	KeywordSubfield bool
	// NotIndexed keeps the value in _source only (event.original).
	NotIndexed bool
}

// Fields of the ECS document that are not record attributes: the envelope
// AppendECS writes around them.
var esEnvelope = []ESMapping{
	{Path: "@timestamp", Type: ESDate},
	{Path: "message", Type: ESText, KeywordSubfield: true},
	// Structured bodies from other receivers: any shape, never a conflict.
	{Path: "body", Type: ESFlattened},
	{Path: "ecs.version", Type: ESKeyword},
	{Path: "data_stream.type", Type: ESConstantKeyword},
	{Path: "data_stream.dataset", Type: ESConstantKeyword},
	{Path: "data_stream.namespace", Type: ESConstantKeyword},
	{Path: "trace.id", Type: ESKeyword},
	{Path: "span.id", Type: ESKeyword},
}

// esProse are the contract's free-text fields: searched by words, and still
// matched exactly through the keyword sub-field.
var esProse = []string{
	AttrErrorMessage,
	AttrErrorStack,
	AttrIntuneDescription,
	AttrIntuneRemediation,
	AttrIntuneDiagMessage,
	AttrIntuneDiagText,
}

// ESMappings returns the mapping of every contract field and of the
// envelope, sorted by path. Strings are keywords (IDs, codes, names), prose
// is text with a keyword sub-field, maps are flattened so that whatever an
// event carries in them cannot cause a mapping conflict, and the original
// event text is kept but not indexed.
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
		switch {
		case slices.Contains(esProse, f.Name):
			m.Type, m.KeywordSubfield = ESText, true
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
		d["ignore_above"] = esIgnoreAbove
		if m.NotIndexed {
			d["index"] = false
			d["doc_values"] = false
		}
	case ESText:
		if m.KeywordSubfield {
			d["fields"] = map[string]any{"keyword": map[string]any{"type": ESKeyword, "ignore_above": esIgnoreAbove}}
		}
	case ESDate:
		// A document without a valid time must be refused, not stored
		// without one, even where an index ignores malformed values.
		d["ignore_malformed"] = false
	case ESFlattened:
		d["ignore_above"] = esIgnoreAbove
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

// ESFieldType returns the type a query sees for path: a mapped field, the
// keyword sub-field of a text field, or a key below a flattened field
// (queried as a keyword). ok is false for a path nothing maps.
func ESFieldType(path string) (typ string, ok bool) {
	ms := ESMappings()
	i, found := slices.BinarySearchFunc(ms, path, func(m ESMapping, p string) int { return strings.Compare(m.Path, p) })
	if found {
		return ms[i].Type, true
	}
	if base, ok := strings.CutSuffix(path, ".keyword"); ok {
		for _, m := range ms {
			if m.Path == base && m.KeywordSubfield {
				return ESKeyword, true
			}
		}
	}
	for _, m := range ms {
		if m.Type == ESFlattened && strings.HasPrefix(path, m.Path+".") {
			return ESFlattened, true
		}
	}
	return "", false
}
