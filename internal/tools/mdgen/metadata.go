// Package mdgen generates each component's internal/metadata package, its
// lifecycle tests and its README telemetry table from the component's
// metadata.yaml, so the type, the stability and every self-telemetry
// instrument (name, description, unit, kind, bucket boundaries) are declared
// once.
//
// metadata.yaml follows the schema of the collector's mdatagen (the subset
// our components use: status, attributes, telemetry.metrics, tests), and the
// generated code has mdatagen's shape (metadata.Type, metadata.ScopeName,
// metadata.<Signal>Stability, metadata.NewTelemetryBuilder, metric names
// prefixed with otelcol_). mdatagen itself is not used: the only version the
// module proxy serves is v0.130.0, whose output does not compile here
// without edits, and it cannot run inside `go test` to check for drift.
package mdgen

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Metadata is a component's metadata.yaml.
type Metadata struct {
	Type       string               `yaml:"type"`
	Status     Status               `yaml:"status"`
	Attributes map[string]Attribute `yaml:"attributes"`
	Telemetry  Telemetry            `yaml:"telemetry"`
	Tests      Tests                `yaml:"tests"`

	// Filled by Load, not read from the file.
	Dir        string `yaml:"-"`
	ImportPath string `yaml:"-"`
	Package    string `yaml:"-"`

	// The order of the metrics and attributes in the file, which the
	// generated code and tables keep.
	metricOrder, attributeOrder []string
}

// Status is the component's class and stability per signal.
type Status struct {
	Class         string              `yaml:"class"`
	Stability     map[string][]string `yaml:"stability"`
	Distributions []string            `yaml:"distributions"`
	Codeowners    *struct {
		Active   []string `yaml:"active"`
		Emeritus []string `yaml:"emeritus"`
	} `yaml:"codeowners"`
}

// Attribute is one attribute a metric may carry.
type Attribute struct {
	Description string `yaml:"description"`
	// NameOverride is the attribute key when two attributes share one key
	// with different values (the HEC exporter's retry and dead-letter
	// reasons, say).
	NameOverride string   `yaml:"name_override"`
	Type         string   `yaml:"type"`
	Enum         []string `yaml:"enum"`
}

// Telemetry is the component's own metrics.
type Telemetry struct {
	Metrics map[string]Metric `yaml:"metrics"`
}

// Metric is one instrument: a counter (sum, monotonic) or a histogram,
// the two kinds our components record. A gauge, an up-down counter or an
// asynchronous instrument is refused with a message, not half-generated:
// add it to the templates, with a component that uses it, when one needs it.
type Metric struct {
	Enabled               *bool          `yaml:"enabled"`
	Description           string         `yaml:"description"`
	ExtendedDocumentation string         `yaml:"extended_documentation"`
	Unit                  *string        `yaml:"unit"`
	Sum                   *Sum           `yaml:"sum"`
	Gauge                 map[string]any `yaml:"gauge"`
	Histogram             *Histogram     `yaml:"histogram"`
	Attributes            []string       `yaml:"attributes"`
}

// Sum is a counter.
type Sum struct {
	ValueType string `yaml:"value_type"`
	Monotonic bool   `yaml:"monotonic"`
	Async     bool   `yaml:"async"`
}

// Histogram is an explicit-bucket histogram.
type Histogram struct {
	ValueType        string    `yaml:"value_type"`
	BucketBoundaries []float64 `yaml:"bucket_boundaries"`
}

// Tests configures the generated lifecycle tests.
type Tests struct {
	// Config is merged over the default config, for components whose
	// default config cannot start (an exporter without an endpoint).
	Config              map[string]any `yaml:"config"`
	ExpectConsumerError bool           `yaml:"expect_consumer_error"`
}

// MetricPrefix is put before every metric key, as mdatagen does.
const MetricPrefix = "otelcol_"

var (
	classes    = []string{"receiver", "processor", "connector", "exporter", "extension"}
	levels     = []string{"development", "alpha", "beta", "stable", "deprecated", "unmaintained"}
	signals    = []string{"logs", "metrics", "traces"}
	keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// typePattern is the collector's rule for component types.
	typePattern = regexp.MustCompile(`^[a-zA-Z][0-9a-zA-Z_]{0,62}$`)
)

// Load reads and checks dir/metadata.yaml. module is the Go module path and
// root the directory of go.mod; they give the package's import path, which
// is the instrumentation scope name.
func Load(root, module, dir string) (*Metadata, error) {
	path := filepath.Join(dir, "metadata.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	md, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return nil, err
	}
	md.Dir = dir
	md.ImportPath = module + "/" + filepath.ToSlash(rel)
	md.Package = filepath.Base(dir)
	return md, nil
}

// Parse decodes metadata.yaml strictly (an unknown key is an error, so a
// misspelt field is not silently dropped) and checks that it is complete.
func Parse(b []byte) (*Metadata, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var md Metadata
	if err := dec.Decode(&md); err != nil {
		return nil, fmt.Errorf("%w (the keys are mdatagen's: type, status, attributes, telemetry.metrics, tests)", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	md.metricOrder = keysOf(&doc, "telemetry", "metrics")
	md.attributeOrder = keysOf(&doc, "attributes")
	if err := md.validate(); err != nil {
		return nil, err
	}
	return &md, nil
}

// keysOf lists, in file order, the keys of the mapping at path.
func keysOf(n *yaml.Node, path ...string) []string {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, p := range path {
		var next *yaml.Node
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	var keys []string
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	return keys
}

// Metrics lists the metric keys in file order.
func (md *Metadata) Metrics() []string { return inOrder(md.metricOrder, md.Telemetry.Metrics) }

// AttributeNames lists the attribute names in file order.
func (md *Metadata) AttributeNames() []string { return inOrder(md.attributeOrder, md.Attributes) }

// inOrder is order when it names exactly m's keys (a Metadata built in
// code has none), else m's keys sorted.
func inOrder[V any](order []string, m map[string]V) []string {
	if len(order) == len(m) {
		ok := true
		for _, k := range order {
			_, found := m[k]
			ok = ok && found
		}
		if ok {
			return order
		}
	}
	return sortedKeys(m)
}

func (md *Metadata) validate() error {
	errs := md.validateStatus()
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	used := map[string]bool{}
	for _, name := range md.Metrics() {
		m := md.Telemetry.Metrics[name]
		for _, err := range m.validate(name, md.Attributes) {
			errs = append(errs, fmt.Errorf("telemetry.metrics.%s: %w", name, err))
		}
		for _, a := range m.Attributes {
			used[a] = true
		}
	}
	keys := map[string]string{}
	for _, name := range md.AttributeNames() {
		a := md.Attributes[name]
		switch {
		case !keyPattern.MatchString(name):
			fail("attributes.%s: use lower-case letters, digits and _", name)
		case a.Description == "":
			fail("attributes.%s: description is missing", name)
		case strings.ContainsAny(a.Description, "\r\n|"):
			fail("attributes.%s: description must be one line without | (it fills a README table row)", name)
		case a.Type != "string":
			fail("attributes.%s: type %q is not supported; use string", name, a.Type)
		case !used[name]:
			fail("attributes.%s: no metric lists it; remove it or add it to a metric's attributes", name)
		}
		if hasDuplicate(a.Enum) {
			fail("attributes.%s: enum lists a value twice", name)
		}
		keys[name] = a.Key(name)
	}
	// Two attributes with one key are fine (name_override) unless one
	// metric carries both: its data points could not tell them apart.
	for _, name := range md.Metrics() {
		got := map[string]bool{}
		for _, a := range md.Telemetry.Metrics[name].Attributes {
			if k, ok := keys[a]; ok && got[k] {
				fail("telemetry.metrics.%s: two attributes share the key %q", name, k)
			}
			got[keys[a]] = true
		}
	}
	return errors.Join(errs...)
}

func (md *Metadata) validateStatus() []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !typePattern.MatchString(md.Type) {
		fail("type: %q is not a component type (a letter, then letters, digits or _)", md.Type)
	}
	if !slices.Contains(classes, md.Status.Class) {
		fail("status.class: %q is not one of %s", md.Status.Class, strings.Join(classes, ", "))
	}
	if len(md.Status.Stability) == 0 {
		fail("status.stability: missing; say the stability of each signal, e.g. alpha: [logs]")
	}
	want := signals
	switch md.Status.Class {
	case "extension":
		want = []string{"extension"}
	case "connector":
		// A connector's stability is per pair of pipelines, as in mdatagen.
		want = nil
		for _, in := range signals {
			for _, out := range signals {
				want = append(want, in+"_to_"+out)
			}
		}
	}
	seen := map[string]bool{}
	for level, sigs := range md.Status.Stability {
		if !slices.Contains(levels, level) {
			fail("status.stability: %q is not one of %s", level, strings.Join(levels, ", "))
		}
		for _, s := range sigs {
			if !slices.Contains(want, s) {
				fail("status.stability.%s: %q is not one of %s", level, s, strings.Join(want, ", "))
			}
			if seen[s] {
				fail("status.stability: %q is listed twice", s)
			}
			seen[s] = true
		}
	}
	if md.Status.Class == "extension" && md.Tests.ExpectConsumerError {
		fail("tests.expect_consumer_error: an extension consumes no data")
	}
	return errs
}

func (m Metric) validate(name string, attrs map[string]Attribute) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !keyPattern.MatchString(name) {
		fail("use lower-case letters, digits and _ in metric names")
	}
	if strings.HasPrefix(name, MetricPrefix) {
		fail("leave out the %q prefix: it is added to every metric, as mdatagen does", MetricPrefix)
	}
	if m.Enabled == nil || !*m.Enabled {
		fail("enabled: true is required (mdatagen requires the key; a disabled metric is removed instead)")
	}
	if strings.TrimSpace(m.Description) == "" {
		fail("description is missing")
	}
	if strings.ContainsAny(m.Description+m.ExtendedDocumentation, "\r\n|") {
		fail("description and extended_documentation must be one line without | (they fill a README table row)")
	}
	if m.Unit == nil {
		fail(`unit is missing (UCUM: s, By, {event}; "1" for a plain count)`)
	}
	kinds := 0
	for _, set := range []bool{m.Sum != nil, m.Gauge != nil, m.Histogram != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		fail("give exactly one of sum, gauge, histogram")
		return errs
	}
	switch {
	case m.Gauge != nil:
		fail("gauges are not supported by internal/tools/mdgen yet; extend its templates")
		return errs
	case m.Sum != nil && (m.Sum.Async || !m.Sum.Monotonic):
		fail("only monotonic, synchronous sums (counters) are supported by internal/tools/mdgen yet; extend its templates")
	case m.Histogram != nil:
		b := m.Histogram.BucketBoundaries
		if len(b) == 0 {
			fail("histogram.bucket_boundaries is missing; the SDK's defaults suit milliseconds, not our units")
		}
		for i := range b {
			if math.IsNaN(b[i]) || math.IsInf(b[i], 0) || (i > 0 && b[i] <= b[i-1]) {
				fail("histogram.bucket_boundaries must be finite and strictly increasing")
				break
			}
		}
	}
	if vt := m.valueType(); vt != "int" && vt != "double" {
		fail("value_type %q is not int or double", vt)
	}
	if hasDuplicate(m.Attributes) {
		fail("attributes lists one twice")
	}
	for _, a := range m.Attributes {
		if _, ok := attrs[a]; !ok {
			fail("attribute %q is not declared under attributes", a)
		}
	}
	return errs
}

func (m Metric) valueType() string {
	switch {
	case m.Sum != nil:
		return m.Sum.ValueType
	case m.Histogram != nil:
		return m.Histogram.ValueType
	}
	return ""
}

// Key is the attribute key recorded on data points.
func (a Attribute) Key(name string) string {
	if a.NameOverride != "" {
		return a.NameOverride
	}
	return name
}

func hasDuplicate(s []string) bool {
	c := slices.Clone(s)
	slices.Sort(c)
	return len(slices.Compact(c)) != len(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
