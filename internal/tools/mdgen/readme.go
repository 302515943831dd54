package mdgen

import (
	"fmt"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/internal/tools/docgen"
)

// ReadmeSection is the README block mdgen owns, between
// <!-- BEGIN GENERATED: telemetry --> and <!-- END GENERATED: telemetry -->.
const ReadmeSection = "telemetry"

// Readme returns the component's README with its telemetry tables
// rewritten from md. A component without metrics keeps its README.
func Readme(md *Metadata, readme []byte) ([]byte, error) {
	if len(md.Telemetry.Metrics) == 0 {
		return readme, nil
	}
	out, err := docgen.Apply(readme, map[string]string{ReadmeSection: telemetryTables(md)})
	if err != nil {
		return nil, fmt.Errorf("%w: add the markers to the README's Telemetry section", err)
	}
	return out, nil
}

func telemetryTables(md *Metadata) string {
	var b strings.Builder
	v := newView(md)
	b.WriteString("| Metric | Instrument | Unit | Attributes | Description |\n|---|---|---|---|---|\n")
	for _, m := range v.Metrics {
		var attrs []string
		for _, a := range m.Attrs {
			attrs = append(attrs, "`"+a.Key+"`")
		}
		desc := m.Description
		if m.Documentation != "" {
			desc += " " + m.Documentation
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s |\n", m.Name, m.Doctype, m.Unit, strings.Join(attrs, ", "), desc)
	}
	if len(md.Attributes) == 0 {
		return b.String()
	}
	b.WriteString("\n| Attribute | Values | Meaning |\n|---|---|---|\n")
	for _, name := range md.AttributeNames() {
		a := md.Attributes[name]
		values := "any"
		if len(a.Enum) > 0 {
			values = "`" + strings.Join(a.Enum, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", a.Key(name), values, a.Description)
	}
	return b.String()
}
