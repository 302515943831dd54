package mdgen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
)

// Unrecorded returns the metrics md declares that the component's code
// never records. Generated instruments make an undeclared metric
// impossible; this catches the other way round: a metadata.yaml entry (and
// its README row) that nothing feeds.
//
// It reads the component's non-test, non-generated Go files and counts an
// instrument as recorded when Add or Record is called on its
// TelemetryBuilder field, or on a field or variable the field was assigned
// to (the components keep short names: t.read = tb.IntuneReceiverEventsRead).
// It matches names, not types: enough to catch a metric left behind.
func Unrecorded(md *Metadata) ([]string, error) {
	fields := map[string]string{} // Go field → metric name
	for _, m := range newView(md).Metrics {
		fields[m.Field] = m.Name
	}
	if len(fields) == 0 {
		return nil, nil
	}
	aliases := map[string][]string{} // Go field → names it was assigned to
	called := map[string]bool{}      // names Add or Record was called on
	alias := func(target ast.Expr, value ast.Expr) {
		sel, ok := value.(*ast.SelectorExpr)
		if !ok || fields[sel.Sel.Name] == "" {
			return
		}
		if name := lastName(target); name != "" {
			aliases[sel.Sel.Name] = append(aliases[sel.Sel.Name], name)
		}
	}
	err := walkSources(md.Dir, func(_ *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if len(n.Lhs) == len(n.Rhs) {
					for i := range n.Rhs {
						alias(n.Lhs[i], n.Rhs[i])
					}
				}
			case *ast.ValueSpec:
				if len(n.Names) == len(n.Values) {
					for i := range n.Values {
						alias(n.Names[i], n.Values[i])
					}
				}
			case *ast.KeyValueExpr:
				alias(n.Key, n.Value)
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Add" || sel.Sel.Name == "Record") {
					if name := lastName(sel.X); name != "" {
						called[name] = true
					}
				}
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, field := range sortedKeys(fields) {
		used := called[field]
		for _, a := range aliases[field] {
			used = used || called[a]
		}
		if !used {
			missing = append(missing, fields[field])
		}
	}
	return missing, nil
}

// lastName is x for x and a.b.x, else "".
func lastName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// instrumentConstructors are the metric.Meter methods that create
// instruments.
var instrumentConstructors = map[string]bool{}

func init() {
	for _, n := range []string{"Int64", "Float64"} {
		for _, k := range []string{"Counter", "UpDownCounter", "Histogram", "Gauge",
			"ObservableCounter", "ObservableUpDownCounter", "ObservableGauge"} {
			instrumentConstructors[n+k] = true
		}
	}
}

// HandMadeInstruments returns the places where the component's own code
// gets a meter or creates an instrument instead of using the generated
// TelemetryBuilder: a metric made there would be missing from
// metadata.yaml and the README.
func HandMadeInstruments(md *Metadata) ([]string, error) {
	var found []string
	err := walkSources(md.Dir, func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Meter" || instrumentConstructors[sel.Sel.Name]) {
				found = append(found, fset.Position(call.Pos()).String()+": "+sel.Sel.Name)
			}
			return true
		})
	})
	return found, err
}

// walkSources parses the component's non-test, non-generated Go files,
// its subpackages' too, leaving out testdata and the generated metadata
// packages.
func walkSources(dir string, visit func(*token.FileSet, *ast.File)) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "metadata" || d.Name() == "metadatatest") {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "generated_") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		visit(fset, f)
		return nil
	})
}
