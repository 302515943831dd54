package configcheck

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
)

type walker struct {
	conf     *confmap.Conf
	root     reflect.Type
	problems []Problem
	fixes    []fix
	allPaths []string // every key path of root's type, for suggestions
}

// fix changes the Conf before decoding: drop removes a refused setting
// (within a list, the whole element), otherwise value replaces it.
type fix struct {
	at    path
	drop  bool
	value any
}

func (w *walker) refuse(at path, format string, a ...any) {
	w.problems = append(w.problems, Problem{Path: at.String(), Msg: fmt.Sprintf(format, a...)})
	w.fixes = append(w.fixes, fix{at: at, drop: true})
}

func (w *walker) replace(at path, v any) { w.fixes = append(w.fixes, fix{at: at, value: v}) }

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[configopaque.String]()
	mapListType  = reflect.TypeFor[configopaque.MapList]()
	textType     = reflect.TypeFor[encoding.TextUnmarshaler]()
	confType     = reflect.TypeFor[confmap.Unmarshaler]()
	boolType     = reflect.TypeFor[bool]()
)

func (w *walker) value(at path, raw any, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if elem, ok := optionalElem(t); ok {
		w.optional(at, raw, elem)
		return
	}
	switch {
	case t == durationType:
		w.duration(at, raw)
		return
	case t == secretType:
		w.text(at, raw, secretText)
		return
	case reflect.PointerTo(t).Implements(textType):
		w.textUnmarshaler(at, raw, t)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		w.structure(at, raw, t)
	case reflect.Map:
		w.mapping(at, raw, t)
	case reflect.Slice, reflect.Array:
		w.list(at, raw, t)
	case reflect.String:
		w.text(at, raw, plainText)
	case reflect.Bool:
		w.boolean(at, raw)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.integer(at, raw, t)
	case reflect.Float32, reflect.Float64:
		if _, ok := number(raw); !ok && raw != nil {
			w.refuse(at, "expects a number, got %s", describe(raw))
		}
	}
}

func (w *walker) structure(at path, raw any, t reflect.Type) {
	if raw == nil {
		return
	}
	m, ok := raw.(map[string]any)
	if !ok {
		w.shape(at, raw, t, false)
		return
	}
	fs := fieldsOf(t)
	for _, k := range sortedKeys(m) {
		ft, known := fs.types[k]
		switch {
		case known:
			w.value(at.key(k), m[k], ft)
		case !fs.remain:
			w.unknown(at, k, fs)
		}
	}
}

// optional is configoptional.Optional[T]: T's settings plus enabled.
func (w *walker) optional(at path, raw any, elem reflect.Type) {
	m, ok := raw.(map[string]any)
	if !ok {
		if raw != nil {
			w.shape(at, raw, elem, true)
		}
		return
	}
	if v, set := m["enabled"]; set {
		if _, isBool := v.(bool); !isBool {
			w.refuse(at.key("enabled"), "expects true or false, got %s", describe(v))
		}
		m = withoutKey(m, "enabled")
	}
	w.structure(at, m, elem)
}

func (w *walker) mapping(at path, raw any, t reflect.Type) {
	if raw == nil {
		return
	}
	m, ok := raw.(map[string]any)
	if !ok {
		w.refuse(at, "expects key: value pairs under it, got %s", describe(raw))
		return
	}
	for _, k := range sortedKeys(m) {
		w.value(at.key(k), m[k], t.Elem())
	}
}

func (w *walker) list(at path, raw any, t reflect.Type) {
	switch v := raw.(type) {
	case nil:
	case []any:
		for i, e := range v {
			w.value(at.at(i), e, t.Elem())
		}
	case string:
		// The collector splits a string on commas into a list of strings.
		if t.Elem().Kind() != reflect.String {
			w.refuse(at, "expects a list, e.g. %s: [...], got %s", at.last(), describe(raw))
		}
	case map[string]any:
		switch {
		case t == mapListType:
			// The headers: name: value pairs, or a list of {name, value}.
			for _, k := range sortedKeys(v) {
				w.text(at.key(k), v[k], secretNotRequired)
			}
		case !reflect.PointerTo(t).Implements(confType):
			// A list type that reads a map itself takes either form.
			w.refuse(at, "expects a list (- item lines or [a, b]), not settings under it")
		}
	default:
		w.refuse(at, "expects a list, e.g. %s: [%v], got %s", at.last(), v, describe(raw))
	}
}

func (w *walker) boolean(at path, raw any) {
	switch raw.(type) {
	case nil, bool:
	default:
		w.refuse(at, "expects true or false, got %s", describe(raw))
	}
}

func (w *walker) integer(at path, raw any, t reflect.Type) {
	if raw == nil {
		return
	}
	f, ok := number(raw)
	switch {
	case !ok:
		w.refuse(at, "expects a whole number, got %s", describe(raw))
	case f != math.Trunc(f):
		w.refuse(at, "expects a whole number, got %v", raw)
	case f < 0 && t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		w.refuse(at, "must not be negative, got %v", raw)
	case overflows(f, t):
		// The decoder would wrap it around silently.
		w.refuse(at, "%v is too large", raw)
	}
}

// How text() treats a value: secrets never show it, and most must not be
// empty.
type textKind int

const (
	plainText textKind = iota
	secretText
	secretNotRequired
)

// text is a plain string setting.
func (w *walker) text(at path, raw any, kind textKind) {
	secret := kind != plainText
	switch v := raw.(type) {
	case nil:
		if kind == secretText {
			w.refuse(at, "%s", emptySecret)
		}
	case string:
		if kind == secretText && strings.TrimSpace(v) == "" {
			w.refuse(at, "%s", emptySecret)
		}
	case bool, int, int64, uint64, float64:
		if w.decodesAsText(at) {
			return // a ${env:...} value: the collector keeps its text
		}
		if secret {
			w.refuse(at, "YAML read the value as a %s, not text; put it in quotes", kindName(raw))
			return
		}
		w.refuse(at, "YAML read %v as a %s, not text; put it in quotes: %s: %q", v, kindName(raw), at.last(), fmt.Sprint(v))
	default:
		w.refuse(at, "expects a single value, got %s", describe(raw))
	}
}

const emptySecret = "the value is empty; if it comes from an environment variable (${env:NAME}), that variable is unset or empty where the collector runs"

// textUnmarshaler is a setting that parses its own text (a mode, a
// component ID, a severity): the check runs that parser on a fresh value.
func (w *walker) textUnmarshaler(at path, raw any, t reflect.Type) {
	fresh := func() encoding.TextUnmarshaler { return reflect.New(t).Interface().(encoding.TextUnmarshaler) }
	switch v := raw.(type) {
	case nil:
		// The decoder hands the parser "" for a key with no value.
		if err := fresh().UnmarshalText(nil); err != nil {
			w.refuse(at, "the value is empty: %v", err)
		}
	case string:
		if err := fresh().UnmarshalText([]byte(v)); err != nil {
			w.refuse(at, "%v", err)
		}
	case bool, int, int64, uint64, float64:
		u := fresh()
		text := fmt.Sprint(v)
		if nt, ok := u.(NumberText); ok {
			n, whole := wholeNumber(v)
			if !whole {
				w.refuse(at, "expects text, got %v", v)
				return
			}
			var err error
			if text, err = nt.TextForNumber(n); err != nil {
				w.refuse(at, "%v", err)
				return
			}
		}
		if err := u.UnmarshalText([]byte(text)); err != nil {
			w.refuse(at, "%v", err)
			return
		}
		// Decoding sees text only when given text.
		w.replace(at, text)
	default:
		w.refuse(at, "expects a single value, got %s", describe(raw))
	}
}

func (w *walker) duration(at path, raw any) {
	switch v := raw.(type) {
	case nil:
	case string:
		if _, err := ParseDuration(v, false); err != nil {
			w.refuse(at, "%v", err)
		}
	case int, int64, uint64, float64:
		if f, _ := number(v); f == 0 {
			return // 0 needs no unit
		}
		w.refuse(at, "%v has no unit, so it would mean %v nanoseconds; write the unit, e.g. %vs (units: ms, s, m, h)", v, v, v)
	default:
		w.refuse(at, "expects a duration such as 30s, got %s", describe(raw))
	}
}

// shape is a block (struct) given a single value or a list: say what to
// write, with the value moved into the setting it most likely meant.
// optional is true for a configoptional block, which takes enabled too.
func (w *walker) shape(at path, raw any, t reflect.Type, optional bool) {
	name := at.last()
	fs := fieldsOf(t)
	switch v := raw.(type) {
	case bool:
		if ft, ok := fs.types["enabled"]; optional || (ok && ft == boolType) {
			w.refuse(at, "is a block of settings, not %v; write %s: {enabled: %v}", v, name, v)
			return
		}
	case string:
		for _, k := range []string{"path", "endpoint", "server", "name"} {
			if ft, ok := fs.types[k]; ok && ft.Kind() == reflect.String {
				w.refuse(at, "is a block of settings, not a single value; write %s: {%s: %s}", name, k, v)
				return
			}
		}
	}
	what := "a single value"
	if _, isList := raw.([]any); isList {
		what = "a list"
	}
	w.refuse(at, "is a block of settings (key: value lines under it), not %s; it takes %s", what, fs.describe())
}

// unknown reports a key the config does not have, with the key the user
// most likely meant: the same word at this level, the same key at another
// level (delete_after at the top means bootstrap::delete_after), a near
// spelling here, a near spelling elsewhere; else what this level takes.
func (w *walker) unknown(at path, key string, fs fields) {
	self := at.key(key)
	if s := suggestSame(key, fs.names); s != "" {
		w.refuse(self, "unknown setting; did you mean %s?", at.key(s))
		return
	}
	if alts := w.elsewhere(self.String(), func(leaf string) bool { return suggestSame(key, []string{leaf}) != "" }); len(alts) > 0 {
		w.refuse(self, "unknown setting here; did you mean %s?", orList(alts))
		return
	}
	if s := suggestNear(key, fs.names); s != "" {
		w.refuse(self, "unknown setting; did you mean %s?", at.key(s))
		return
	}
	if alts := w.elsewhere(self.String(), func(leaf string) bool { return suggestNear(key, []string{leaf}) != "" }); len(alts) > 0 {
		w.refuse(self, "unknown setting here; did you mean %s?", orList(alts))
		return
	}
	if len(fs.names) > 12 {
		w.refuse(self, "unknown setting; the component's README lists the settings it takes")
		return
	}
	where := "this component"
	if len(at) > 0 {
		where = at.String()
	}
	w.refuse(self, "unknown setting; %s takes %s", where, fs.describe())
}

// elsewhere lists the key paths at other levels whose last key matches.
func (w *walker) elsewhere(self string, match func(leaf string) bool) []string {
	if w.allPaths == nil {
		w.allPaths = keyPaths(w.root, "", 0)
	}
	var out []string
	for _, p := range w.allPaths {
		leaf := p
		if i := strings.LastIndex(p, confmap.KeyDelimiter); i >= 0 {
			leaf = p[i+len(confmap.KeyDelimiter):]
		}
		if p != self && match(leaf) {
			out = append(out, p)
		}
	}
	if len(out) > 3 {
		return nil // too common a word to guess from
	}
	return out
}

// apply changes the Conf as the fixes say. A fix inside a list rewrites the
// whole list (the Conf cannot address list elements), so ${env:...} values
// in that list are decoded from their expanded form.

func withoutKey(m map[string]any, k string) map[string]any {
	out := make(map[string]any, len(m))
	for key, v := range m {
		if key != k {
			out[key] = v
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func number(raw any) (float64, bool) {
	switch v := raw.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func overflows(f float64, t reflect.Type) bool {
	v := reflect.New(t).Elem()
	if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64 {
		return f >= math.MaxUint64 || v.OverflowUint(uint64(f))
	}
	return f >= math.MaxInt64 || f < math.MinInt64 || v.OverflowInt(int64(f))
}

func wholeNumber(raw any) (int64, bool) {
	switch v := raw.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), true
		}
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), true
		}
	}
	return 0, false
}

func kindName(raw any) string {
	if _, ok := raw.(bool); ok {
		return "boolean"
	}
	return "number"
}

// describe names what YAML gave, for messages; lists and blocks by shape.
func describe(raw any) string {
	switch v := raw.(type) {
	case string:
		return strconv.Quote(v)
	case []any:
		return "a list"
	case map[string]any:
		return "a block of settings"
	case nil:
		return "nothing"
	}
	return fmt.Sprint(raw)
}

func orList(items []string) string {
	switch len(items) {
	case 1:
		return items[0]
	case 2:
		return items[0] + " or " + items[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
