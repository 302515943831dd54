package configcheck

import (
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/confmap"
)

// fields are the keys a struct type takes, as the collector's decoder
// matches them: mapstructure tag names (case-sensitive), the field name
// where the tag has none, squashed structs' keys in their parent's.
type fields struct {
	types  map[string]reflect.Type
	names  []string // sorted
	remain bool     // a ,remain field takes any other key
}

// describe lists the keys, or points at the README when there are too many
// to read in one line.
func (fs fields) describe() string {
	switch {
	case len(fs.names) == 0:
		return "no settings"
	case len(fs.names) > 12:
		return "the settings listed in the component's README"
	}
	return orList(fs.names)
}

var fieldCache sync.Map // reflect.Type -> fields

func fieldsOf(t reflect.Type) fields {
	if v, ok := fieldCache.Load(t); ok {
		return v.(fields)
	}
	fs := fields{types: map[string]reflect.Type{}}
	collectFields(t, &fs)
	for k := range fs.types {
		fs.names = append(fs.names, k)
	}
	slices.Sort(fs.names)
	fieldCache.Store(t, fs)
	return fs
}

func collectFields(t reflect.Type, fs *fields) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get(confmap.MapstructureTag), ",")
		if name == "-" {
			continue
		}
		flags := strings.Split(opts, ",")
		switch {
		case slices.Contains(flags, "squash"):
			collectFields(f.Type, fs)
			continue
		case slices.Contains(flags, "remain"):
			fs.remain = true
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs.types[name] = f.Type
	}
}

// optionalElem returns T for configoptional.Optional[T], whose settings
// are T's plus enabled.
func optionalElem(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct || t.PkgPath() != "go.opentelemetry.io/collector/config/configoptional" ||
		!strings.HasPrefix(t.Name(), "Optional[") {
		return nil, false
	}
	get, ok := reflect.PointerTo(t).MethodByName("Get")
	if !ok || get.Type.NumOut() != 1 || get.Type.Out(0).Kind() != reflect.Pointer {
		return nil, false
	}
	return get.Type.Out(0).Elem(), true
}

// keyPaths lists every key path of t's blocks (not inside lists or maps),
// for suggesting where a key the user put at the wrong level belongs.
func keyPaths(t reflect.Type, prefix string, depth int) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if elem, ok := optionalElem(t); ok {
		t = elem
	}
	if t.Kind() != reflect.Struct || depth > 6 || reflect.PointerTo(t).Implements(textType) {
		return nil
	}
	fs := fieldsOf(t)
	var out []string
	for _, k := range fs.names {
		p := k
		if prefix != "" {
			p = prefix + confmap.KeyDelimiter + k
		}
		out = append(out, p)
		out = append(out, keyPaths(fs.types[k], p, depth+1)...)
	}
	return out
}
