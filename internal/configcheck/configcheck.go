// Package configcheck reads a component's YAML settings strictly. Before the
// collector decodes them, it compares the raw settings with what the
// component's config type declares (its mapstructure keys, including squashed
// and nested structs and the collector's own embedded configs) and refuses, by
// key path and with what to write instead:
//   - keys the config does not have, naming a near spelling when there is one
//     (enable → enabled, apikey → api_key, hec_token → token);
//   - durations written as bare numbers (30 would be 30 ns) or that do not parse;
//   - a block written as a single value (bootstrap: false), a list where a
//     single value belongs, and the reverse;
//   - text settings given a number or a boolean YAML did not keep as text, and
//     names a setting's own UnmarshalText refuses;
//   - secrets (configopaque.String) written but empty, as an unset
//     ${env:...} leaves them.
//
// What it refuses is taken out before decoding and handed back as Problems.
// A component keeps them and returns them from Validate: the collector then
// prints them at `validate` and at start with the component's ID in front,
// together with every other configuration error, instead of stopping at the
// first decoding error of the first component.
package configcheck

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"go.opentelemetry.io/collector/confmap"
)

// Problem is one refused setting.
type Problem struct {
	// Path is the key path below the component, as written in YAML:
	// bootstrap::enable, enrichment::severity_overrides[0]::severity.
	Path string
	Msg  string
}

func (p Problem) Error() string { return p.Path + ": " + p.Msg }

// Problems are what Unmarshal refused. The zero value and nil hold none.
type Problems struct {
	list []Problem
}

// Err joins the problems, one per line; nil when there are none.
func (p *Problems) Err() error {
	if p == nil || len(p.list) == 0 {
		return nil
	}
	errs := make([]error, len(p.list))
	for i, pr := range p.list {
		errs[i] = pr
	}
	return errors.Join(errs...)
}

// Has reports whether a problem was found at path, so Validate need not
// report the same setting twice.
func (p *Problems) Has(path string) bool {
	if p == nil {
		return false
	}
	return slices.ContainsFunc(p.list, func(pr Problem) bool { return pr.Path == path })
}

// List returns the problems in the order they were found.
func (p *Problems) List() []Problem {
	if p == nil {
		return nil
	}
	return slices.Clone(p.list)
}

// NumberText is implemented by a text setting that may also be written as
// a bare YAML number and needs to know it was one: a diagnostic code such as
// 0x00000400, which YAML reads as the integer 1024. TextForNumber returns the
// text UnmarshalText is then given, or why the number is refused. Types
// without it get the number's decimal text.
type NumberText interface {
	TextForNumber(n int64) (string, error)
}

// Unmarshal checks conf against the settings cfg (a pointer to a config
// struct) declares, removes what it refuses and decodes the rest into cfg
// over the defaults cfg already holds. The returned Problems are for
// Validate; err is a decoding error the checks did not foresee, joined with
// the problems found. Call it from the config's confmap.Unmarshaler method
// with the Conf that method receives.
func Unmarshal(conf *confmap.Conf, cfg any) (*Problems, error) {
	t := reflect.TypeOf(cfg)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("configcheck: %T is not a pointer to a config struct", cfg)
	}
	w := &walker{conf: conf, root: t.Elem()}
	w.structure(nil, conf.ToStringMap(), t.Elem())
	if err := w.apply(); err != nil {
		return nil, err
	}
	var problems *Problems
	if len(w.problems) > 0 {
		problems = &Problems{list: w.problems}
	}
	if err := conf.Unmarshal(cfg); err != nil {
		return nil, errors.Join(problems.Err(), err)
	}
	return problems, nil
}

// AtLeast refuses a duration below min, for settings where a tiny value
// breaks things (a request that always times out, a loop that never
// pauses); why says what.
func AtLeast(key string, d, minimum time.Duration, why string) error {
	if d >= minimum {
		return nil
	}
	return fmt.Errorf("%s: %s is below the minimum of %s: %s", key, d, minimum, why)
}
