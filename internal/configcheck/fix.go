package configcheck

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// step is one element of a key path: a map key, or an index into a list.
type step struct {
	key   string
	index int // -1 for a map key
}

type path []step

func (p path) key(k string) path { return append(slices.Clip(p), step{key: k, index: -1}) }
func (p path) at(i int) path     { return append(slices.Clip(p), step{index: i}) }

func (p path) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteString(confmap.KeyDelimiter)
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// last is the name the user wrote for the setting at p.
func (p path) last() string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i].index < 0 {
			return p[i].key
		}
	}
	return ""
}

func (w *walker) apply() error {
	lists := map[string][]fix{}
	var order []string
	for _, f := range w.fixes {
		i := slices.IndexFunc(f.at, func(s step) bool { return s.index >= 0 })
		if i < 0 {
			if f.drop {
				w.conf.Delete(f.at.String())
				continue
			}
			if err := w.conf.Merge(confmap.NewFromStringMap(nest(f.at, f.value))); err != nil {
				return err
			}
			continue
		}
		k := f.at[:i].String()
		if _, seen := lists[k]; !seen {
			order = append(order, k)
		}
		lists[k] = append(lists[k], fix{at: f.at[i:], drop: f.drop, value: f.value})
	}
	for _, k := range order {
		list, ok := w.conf.Get(k).([]any)
		if !ok {
			continue
		}
		drop := map[int]bool{}
		for _, f := range lists[k] {
			idx := f.at[0].index
			if f.drop || !setIn(list[idx], f.at[1:], f.value, func(v any) { list[idx] = v }) {
				drop[idx] = true
			}
		}
		kept := make([]any, 0, len(list))
		for i, e := range list {
			if !drop[i] {
				kept = append(kept, e)
			}
		}
		w.conf.Delete(k)
		if err := w.conf.Merge(confmap.NewFromStringMap(nest(pathOf(k), kept))); err != nil {
			return err
		}
	}
	return nil
}

// setIn sets v at rest inside e (a list element), through maps only.
func setIn(e any, rest path, v any, setSelf func(any)) bool {
	if len(rest) == 0 {
		setSelf(v)
		return true
	}
	m, ok := e.(map[string]any)
	if !ok || rest[0].index >= 0 {
		return false
	}
	return setIn(m[rest[0].key], rest[1:], v, func(x any) { m[rest[0].key] = x })
}

// decodesAsText reports whether the collector would decode the value at
// `at` into a string: true for a ${env:...} value, whose text it keeps
// although YAML read a number.
func (w *walker) decodesAsText(at path) bool {
	if slices.ContainsFunc(at, func(s step) bool { return s.index >= 0 }) {
		return false
	}
	sub := w.conf
	if len(at) > 1 {
		var err error
		if sub, err = w.conf.Sub(at[:len(at)-1].String()); err != nil {
			return false
		}
	}
	probe := reflect.New(reflect.StructOf([]reflect.StructField{{
		Name: "V", Type: reflect.TypeFor[string](),
		Tag: reflect.StructTag(`mapstructure:` + strconv.Quote(at.last())),
	}}))
	return sub.Unmarshal(probe.Interface(), confmap.WithIgnoreUnused()) == nil
}

func nest(at path, v any) map[string]any {
	m := map[string]any{at[len(at)-1].key: v}
	for i := len(at) - 2; i >= 0; i-- {
		m = map[string]any{at[i].key: m}
	}
	return m
}

func pathOf(k string) path {
	var p path
	for _, s := range strings.Split(k, confmap.KeyDelimiter) {
		p = p.key(s)
	}
	return p
}
