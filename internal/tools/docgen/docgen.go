// Package docgen writes the README's reference tables from the catalog and
// the record contract, so the documentation cannot drift from the code.
package docgen

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// Sections maps a README marker name to its generated content.
func Sections(cat *mapping.Catalog) map[string]string {
	return map[string]string{
		"severity": severityTable(),
		"fields":   fieldsTable(),
		"cim":      cimTable(),
		"events":   eventsTable(cat),
		"codes":    codesTable(cat),
	}
}

func severityTable() string {
	var b strings.Builder
	b.WriteString("| Severity | Windows level (fallback for unknown events) | OTel SeverityNumber / Text | ECS `log.level` | `event.severity` | Splunk `severity` / `severity_id` | Kibana rule severity / risk score |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for i := len(mapping.SeverityTable) - 1; i >= 0; i-- {
		s := mapping.SeverityTable[i]
		var lv []string
		for _, l := range s.WindowsLevels {
			lv = append(lv, fmt.Sprint(l))
		}
		fmt.Fprintf(&b, "| %s | %s | %d / %s | `%s` | %d | `%s` / %d | %s / %d |\n",
			s.Name, strings.Join(lv, ", "), s.Number, s.Text, s.Name, s.SplunkSeverityID, s.SplunkSeverity, s.SplunkSeverityID, s.KibanaSeverity, s.KibanaRiskScore)
	}
	return b.String()
}

func fieldsTable() string {
	var b strings.Builder
	b.WriteString("| Attribute | Type | Always | Meaning |\n|---|---|---|---|\n")
	for _, f := range mapping.Fields {
		always := ""
		if f.Always {
			always = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, f.Type, always, escape(f.Description))
	}
	return b.String()
}

func cimTable() string {
	var b strings.Builder
	b.WriteString("| HEC `fields` key | From |\n|---|---|\n")
	for _, f := range mapping.CIMFields {
		fmt.Fprintf(&b, "| `%s` | %s |\n", f.Name, escape(f.From))
	}
	return b.String()
}

func eventsTable(cat *mapping.Catalog) string {
	var b strings.Builder
	b.WriteString("| ID | Name | Connector | Channel | Category | Outcome | Severity | Codes |\n|---|---|---|---|---|---|---|---|\n")
	for _, e := range cat.EventsSorted() {
		id := fmt.Sprint(e.ID)
		for _, a := range e.IDAliases {
			id += fmt.Sprintf(" (also %d)", a)
		}
		name := e.Name
		for _, a := range e.NameAliases {
			name += " (also " + a + ")"
		}
		ch := e.Channel
		if i := strings.LastIndexByte(ch, '/'); i >= 0 {
			ch = ch[i+1:]
		}
		catTitle := ""
		if c := cat.CategoryOf(e); c != nil {
			catTitle = c.Title
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", id, name, e.Generation, ch, catTitle, e.Outcome, e.Severity, strings.Join(e.Codes, ", "))
	}
	return b.String()
}

func codesTable(cat *mapping.Catalog) string {
	var b strings.Builder
	b.WriteString("| Code | Name | Raises severity to | Meaning |\n|---|---|---|---|\n")
	for _, c := range cat.Codes {
		code := c.Code
		for _, a := range c.Aliases {
			code += " (also " + a + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code, c.Name, c.Severity, escape(c.Message))
	}
	return b.String()
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Apply replaces every <!-- BEGIN GENERATED: name --> ... <!-- END
// GENERATED: name --> block of doc with its section. A marker without a
// section, or a section without markers, is an error.
func Apply(doc []byte, sections map[string]string) ([]byte, error) {
	out := doc
	for name, content := range sections {
		begin := []byte("<!-- BEGIN GENERATED: " + name + " -->\n")
		end := []byte("<!-- END GENERATED: " + name + " -->")
		i := bytes.Index(out, begin)
		j := bytes.Index(out, end)
		if i < 0 || j < i {
			return nil, fmt.Errorf("README has no %q section markers", name)
		}
		var nb bytes.Buffer
		nb.Write(out[:i+len(begin)])
		nb.WriteString(content)
		nb.Write(out[j:])
		out = nb.Bytes()
	}
	return out, nil
}
