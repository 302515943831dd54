// Package schemacheck holds, as data, the ECS and Winlogbeat field
// definitions the collector's documents rely on (ecs-8.17.yaml,
// winlogbeat-8.17.yaml), and checks documents and index templates against
// them. Tests of the mapping, the processor and the Elasticsearch exporter
// use it, so a field whose name, type or values drift from Elastic's
// definitions fails the build.
package schemacheck

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed ecs-8.17.yaml winlogbeat-8.17.yaml
var files embed.FS

// Field is one field definition.
type Field struct {
	Type string `yaml:"type"`
	// MultiFields maps a multi-field's name to its type.
	MultiFields map[string]string `yaml:"multi_fields"`
	Index       *bool             `yaml:"index"`
	DocValues   *bool             `yaml:"doc_values"`
	// Allowed lists the only values the field may take, when set.
	Allowed []string `yaml:"allowed"`
	// Leaves is the type of every key below an object field.
	Leaves string `yaml:"leaves"`
	// Lowercase: values are written in lower case.
	Lowercase bool `yaml:"lowercase"`
}

// Schema is one source of definitions.
type Schema struct {
	Source string `yaml:"source"`
	// Namespaces are the top-level names the source owns: every field
	// written below one of them must be defined.
	Namespaces []string         `yaml:"namespaces"`
	Fields     map[string]Field `yaml:"fields"`
}

// Facts are all the definitions.
type Facts struct{ Schemas []*Schema }

var knownTypes = []string{"keyword", "constant_keyword", "wildcard", "match_only_text", "text", "long", "boolean", "date", "object"}

// Load reads the embedded definitions.
func Load() (*Facts, error) {
	var f Facts
	for _, name := range []string{"ecs-8.17.yaml", "winlogbeat-8.17.yaml"} {
		raw, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		var s Schema
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for path, fd := range s.Fields {
			if !slices.Contains(knownTypes, fd.Type) {
				return nil, fmt.Errorf("%s: %s has type %q, which the checker does not know", name, path, fd.Type)
			}
			if fd.Type == "object" && fd.Leaves == "" {
				return nil, fmt.Errorf("%s: object %s needs the type of its leaves", name, path)
			}
		}
		f.Schemas = append(f.Schemas, &s)
	}
	return &f, nil
}

// MustLoad is Load for tests.
func MustLoad() *Facts {
	f, err := Load()
	if err != nil {
		panic(err)
	}
	return f
}

// lookup finds the definition of path: the field itself, or the object
// whose leaf it is (leaf is true then).
func (f *Facts) lookup(path string) (s *Schema, name string, fd Field, leaf bool, ok bool) {
	for _, s := range f.Schemas {
		if fd, ok := s.Fields[path]; ok {
			return s, path, fd, false, true
		}
	}
	for _, s := range f.Schemas {
		for name, fd := range s.Fields {
			if fd.Leaves != "" && strings.HasPrefix(path, name+".") {
				return s, name, fd, true, true
			}
		}
	}
	return nil, "", Field{}, false, false
}

// owner is the schema whose namespace path is in.
func (f *Facts) owner(path string) *Schema {
	top, _, _ := strings.Cut(path, ".")
	for _, s := range f.Schemas {
		if slices.Contains(s.Namespaces, top) {
			return s
		}
	}
	return nil
}

// CheckDocument returns what in an ECS document disagrees with the
// definitions: a value of the wrong type or outside the allowed values, an
// object where a field is defined, or a field in a namespace that a source
// owns but does not define.
func (f *Facts) CheckDocument(doc map[string]any) []string {
	var problems []string
	f.walkDocument("", doc, &problems)
	sort.Strings(problems)
	return problems
}

func (f *Facts) walkDocument(prefix string, obj map[string]any, problems *[]string) {
	for k, v := range obj {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		s, name, fd, leaf, ok := f.lookup(path)
		switch {
		case ok && leaf:
			if child, isObj := v.(map[string]any); isObj {
				// {"A":{"B":"x"}} is the key A.B.
				f.walkDocument(path, child, problems)
				continue
			}
			if p := checkValue(fd.Leaves, v); p != "" {
				*problems = append(*problems, fmt.Sprintf("%s: %s (%s defines every key of %s as %s)", path, p, s.Source, name, fd.Leaves))
			}
		case ok:
			for _, p := range checkField(fd, v) {
				*problems = append(*problems, fmt.Sprintf("%s: %s (%s: %s)", path, p, s.Source, describe(fd)))
			}
			if child, isObj := v.(map[string]any); isObj && fd.Type == "object" {
				f.walkDocument(path, child, problems)
			}
		default:
			if child, isObj := v.(map[string]any); isObj {
				f.walkDocument(path, child, problems)
				continue
			}
			if s := f.owner(path); s != nil {
				*problems = append(*problems, fmt.Sprintf("%s: %s does not define this field in its namespace", path, s.Source))
			}
		}
	}
}

func describe(fd Field) string {
	d := fd.Type
	if fd.Leaves != "" {
		d += " of " + fd.Leaves
	}
	if len(fd.Allowed) > 0 {
		d += " " + strings.Join(fd.Allowed, "|")
	}
	if fd.Lowercase {
		d += ", lower case"
	}
	return d
}

func checkField(fd Field, v any) []string {
	if fd.Type == "object" {
		if _, ok := v.(map[string]any); !ok {
			return []string{fmt.Sprintf("a %T, not an object", v)}
		}
		return nil
	}
	values := []any{v}
	if list, ok := v.([]any); ok {
		values = list
	}
	var out []string
	for _, x := range values {
		if p := checkValue(fd.Type, x); p != "" {
			out = append(out, p)
			continue
		}
		s, isStr := x.(string)
		if isStr && len(fd.Allowed) > 0 && !slices.Contains(fd.Allowed, s) {
			out = append(out, fmt.Sprintf("value %q is not one of the allowed values", s))
		}
		if isStr && fd.Lowercase && strings.ToLower(s) != s {
			out = append(out, fmt.Sprintf("value %q is not lower case", s))
		}
	}
	return out
}

// checkValue checks one JSON value (as encoding/json decodes it) against
// an Elasticsearch type.
func checkValue(typ string, v any) string {
	switch typ {
	case "keyword", "constant_keyword", "wildcard", "match_only_text", "text":
		if _, ok := v.(string); !ok {
			return fmt.Sprintf("a %s value must be a string, not %T %v", typ, v, v)
		}
	case "long":
		whole := false
		switch n := v.(type) {
		case float64:
			whole = n == math.Trunc(n)
		case json.Number:
			_, err := n.Int64()
			whole = err == nil
		}
		if !whole {
			return fmt.Sprintf("a long value must be a whole number, not %T %v", v, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("a boolean value must be true or false, not %T %v", v, v)
		}
	case "date":
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("a date must be an RFC 3339 string, not %T %v", v, v)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Sprintf("a date must be an RFC 3339 string: %v", err)
		}
	}
	return ""
}

// CheckTemplate returns what in the mappings of an index or component
// template ({"properties": ..., "dynamic_templates": ...}) disagrees with
// the definitions: a defined field mapped with another type, other
// multi-fields or other index options; an object of keywords without the
// dynamic template that makes its keys keywords; a field mapped in a
// namespace a source owns but does not define.
func (f *Facts) CheckTemplate(mappings map[string]any) []string {
	mapped := map[string]map[string]any{}
	props, _ := mappings["properties"].(map[string]any)
	flattenProperties("", props, mapped)
	dynamic, _ := mappings["dynamic_templates"].([]any)

	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for path, def := range mapped {
		s, name, fd, leaf, ok := f.lookup(path)
		switch {
		case ok && leaf:
			add("%s: mapped explicitly below %s, whose keys %s leaves to dynamic mapping", path, name, s.Source)
		case ok:
			for _, p := range compareMapping(fd, def) {
				add("%s: %s (%s: %s)", path, p, s.Source, describe(fd))
			}
			if fd.Leaves != "" {
				if p := checkLeafTemplate(path, fd.Leaves, dynamic); p != "" {
					add("%s: %s", path, p)
				}
			}
		default:
			if s := f.owner(path); s != nil {
				add("%s: mapped in %s's namespace, but %s does not define it", path, s.Source, s.Source)
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// flattenProperties collects every mapped field by its dotted path. An
// object with properties is walked; an object without them (or with
// subobjects: false and no properties) is a field of type object.
func flattenProperties(prefix string, props map[string]any, out map[string]map[string]any) {
	for name, v := range props {
		def, ok := v.(map[string]any)
		if !ok {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		if sub, ok := def["properties"].(map[string]any); ok && len(sub) > 0 {
			flattenProperties(path, sub, out)
			continue
		}
		out[path] = def
	}
}

func compareMapping(fd Field, def map[string]any) []string {
	var out []string
	typ, _ := def["type"].(string)
	if typ == "" {
		typ = "object"
	}
	if typ != fd.Type {
		out = append(out, "mapped as "+typ)
	}
	got := map[string]string{}
	if fields, ok := def["fields"].(map[string]any); ok {
		for name, v := range fields {
			sub, _ := v.(map[string]any)
			t, _ := sub["type"].(string)
			got[name] = t
		}
	}
	want := fd.MultiFields
	if want == nil {
		want = map[string]string{}
	}
	for name, t := range want {
		if got[name] != t {
			out = append(out, fmt.Sprintf("multi-field %s is %q, want %q", name, got[name], t))
		}
	}
	for name, t := range got {
		if _, ok := want[name]; !ok {
			out = append(out, fmt.Sprintf("has a multi-field %s (%s) the definition does not have", name, t))
		}
	}
	for _, opt := range []struct {
		key  string
		want *bool
	}{{"index", fd.Index}, {"doc_values", fd.DocValues}} {
		if opt.want == nil {
			continue
		}
		v, set := def[opt.key].(bool)
		if !set {
			v = true // Elasticsearch's default
		}
		if v != *opt.want {
			out = append(out, fmt.Sprintf("%s is %v, want %v", opt.key, v, *opt.want))
		}
	}
	return out
}

// checkLeafTemplate finds the dynamic template that maps every key below
// path as leafType. It must match any detected type (a string that looks
// like a date is still a keyword) and come before any template that would
// match those keys first.
func checkLeafTemplate(path, leafType string, dynamic []any) string {
	for _, item := range dynamic {
		named, _ := item.(map[string]any)
		for name, v := range named {
			tpl, _ := v.(map[string]any)
			pm, _ := tpl["path_match"].(string)
			mapping, _ := tpl["mapping"].(map[string]any)
			switch {
			case pm == path+".*":
				if mmt, set := tpl["match_mapping_type"]; set && mmt != "*" {
					return fmt.Sprintf("dynamic template %s matches only %v values", name, mmt)
				}
				if mapping["type"] != leafType {
					return fmt.Sprintf("dynamic template %s maps the keys as %v, want %s", name, mapping["type"], leafType)
				}
				return ""
			case pm == "" && tpl["match"] == nil && tpl["path_unmatch"] == nil && tpl["unmatch"] == nil:
				return fmt.Sprintf("dynamic template %s matches the keys before any template for %s.*", name, path)
			}
		}
	}
	return "no dynamic template maps the keys below it as " + leafType
}
