package mdgen

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"quote": strconv.Quote,
}).ParseFS(templateFS, "templates/*.tmpl"))

// File is one generated file, its path relative to the component.
type File struct {
	Path    string
	Content []byte
}

// view is what the templates see: metadata.yaml resolved into Go names.
type view struct {
	*Metadata
	Signals  []signal
	Metrics  []metricView
	Settings string // receivertest, processortest, ...
}

type signal struct {
	Name  string // logs, or logs_to_metrics for a connector
	In    string // logs: what the component consumes
	Const string // LogsStability
	Level string // StabilityLevelAlpha
	Title string // Logs
	Pdata string // plog, of In
}

type metricView struct {
	Key, Name, Field       string
	Description, Unit      string
	Instrument             string // Int64Counter
	Kind                   string // Sum, Histogram
	Go                     string // int64, float64
	Bounds                 []string
	Attrs                  []attrView
	Record                 string // Add or Record
	Documentation, Doctype string
}

type attrView struct {
	Key, Description string
	Enum             []string
}

// Consumes reports whether the component takes data from a pipeline.
func (v view) Consumes() bool {
	return v.Status.Class == "processor" || v.Status.Class == "connector" || v.Status.Class == "exporter"
}

// HasNext reports whether the component hands data to a next consumer.
func (v view) HasNext() bool {
	return v.Status.Class == "receiver" || v.Status.Class == "processor" || v.Status.Class == "connector"
}

// PdataImports lists the pdata packages of the signals consumed, once each
// (a connector may take logs into two pipelines).
func (v view) PdataImports() []string {
	var out []string
	for _, s := range v.Signals {
		if !slices.Contains(out, s.Pdata) {
			out = append(out, s.Pdata)
		}
	}
	return out
}

// HasHistogram reports whether a metric is a histogram.
func (v view) HasHistogram() bool {
	for _, m := range v.Metrics {
		if m.Kind == "Histogram" {
			return true
		}
	}
	return false
}

// Generate returns the files mdgen writes for md.
func Generate(md *Metadata) ([]File, error) {
	v := newView(md)
	type out struct{ tmpl, path string }
	outs := []out{
		{"status.go.tmpl", "internal/metadata/generated_status.go"},
		{"component_test.go.tmpl", "generated_component_test.go"},
	}
	if len(v.Metrics) > 0 {
		outs = append(outs,
			out{"telemetry.go.tmpl", "internal/metadata/generated_telemetry.go"},
			out{"telemetry_test.go.tmpl", "internal/metadata/generated_telemetry_test.go"},
			out{"telemetrytest.go.tmpl", "internal/metadatatest/generated_telemetrytest.go"},
		)
	}
	files := make([]File, 0, len(outs))
	for _, o := range outs {
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, o.tmpl, v); err != nil {
			return nil, fmt.Errorf("%s: %w", o.tmpl, err)
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: generated code does not parse: %w", o.path, err)
		}
		files = append(files, File{Path: filepath.FromSlash(o.path), Content: src})
	}
	return files, nil
}

func newView(md *Metadata) view {
	v := view{Metadata: md, Settings: md.Status.Class + "test"}
	for _, level := range sortedKeys(md.Status.Stability) {
		for _, s := range md.Status.Stability[level] {
			title := identifier(s)
			in, _, _ := strings.Cut(s, "_to_")
			v.Signals = append(v.Signals, signal{Name: s, In: in, Const: title + "Stability", Level: "StabilityLevel" + identifier(level), Title: title,
				Pdata: "p" + strings.TrimSuffix(in, "s")})
		}
	}
	for _, key := range md.Metrics() {
		m := md.Telemetry.Metrics[key]
		mv := metricView{
			Key: key, Name: MetricPrefix + key, Field: identifier(key),
			Description: m.Description, Unit: *m.Unit, Documentation: m.ExtendedDocumentation,
		}
		mv.Go = "int64"
		if m.valueType() == "double" {
			mv.Go = "float64"
		}
		prefix := strings.ToUpper(mv.Go[:1]) + mv.Go[1:]
		// validate admits counters and histograms only.
		if m.Sum != nil {
			mv.Kind, mv.Instrument, mv.Record, mv.Doctype = "Sum", prefix+"Counter", "Add", "counter"
		} else {
			mv.Kind, mv.Instrument, mv.Record, mv.Doctype = "Histogram", prefix+"Histogram", "Record", "histogram"
			for _, b := range m.Histogram.BucketBoundaries {
				mv.Bounds = append(mv.Bounds, strconv.FormatFloat(b, 'f', -1, 64))
			}
		}
		for _, a := range m.Attributes {
			attr := md.Attributes[a]
			mv.Attrs = append(mv.Attrs, attrView{Key: attr.Key(a), Enum: attr.Enum, Description: attr.Description})
		}
		v.Metrics = append(v.Metrics, mv)
	}
	return v
}

// identifier turns snake_case into an exported Go name, as mdatagen does:
// intune_receiver_events_read → IntuneReceiverEventsRead.
func identifier(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '.' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
