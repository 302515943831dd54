// Package layers checks the import rules that keep the code easy to find:
// layers point down only (cmd → components → mapping → wineventlog), and
// nothing that ships imports test support or tools.
package layers

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/otelcol-intune/otelcol-intune/"

type pkg struct {
	ImportPath string
	Imports    []string
}

// rules: packages under a prefix must not import packages under any of the
// listed prefixes.
var rules = []struct {
	from     string
	mustNot  []string
	whyNotOK string
}{
	{"wineventlog", []string{"mapping", "receiver", "processor", "exporter", "extension", "cmd", "internal"}, "wineventlog knows only Windows event formats"},
	{"mapping", []string{"receiver", "processor", "exporter", "extension", "cmd", "internal/testsupport", "internal/tools"}, "mapping is the pure domain layer below the components"},
	{"receiver", []string{"processor", "exporter", "extension", "cmd", "internal/testsupport", "internal/tools"}, "components do not import each other or test support"},
	{"processor", []string{"receiver", "exporter", "extension", "cmd", "internal/testsupport", "internal/tools"}, "components do not import each other or test support"},
	{"exporter", []string{"receiver", "processor", "extension", "cmd", "internal/testsupport", "internal/tools"}, "components do not import each other or test support"},
	{"extension", []string{"receiver", "processor", "exporter", "cmd", "internal/testsupport", "internal/tools"}, "components do not import each other or test support"},
	{"connector", []string{"receiver", "processor", "exporter", "extension", "cmd", "internal/testsupport", "internal/tools"}, "components do not import each other or test support"},
	// Connectors sit beside the other components: nothing below them, and
	// no other component, may import them.
	{"wineventlog", []string{"connector"}, "wineventlog knows only Windows event formats"},
	{"mapping", []string{"connector"}, "mapping is the pure domain layer below the components"},
	{"receiver", []string{"connector"}, "components do not import each other"},
	{"processor", []string{"connector"}, "components do not import each other"},
	{"exporter", []string{"connector"}, "components do not import each other"},
	{"extension", []string{"connector"}, "components do not import each other"},
	{"cmd", []string{"internal/testsupport", "internal/tools"}, "what ships never links test support or tools"},
	{"internal/deadletter", []string{"internal/testsupport", "internal/tools"}, "runtime packages never link test support or tools"},
	{"internal/sendqueue", []string{"internal/testsupport", "internal/tools"}, "runtime packages never link test support or tools"},
	{"internal/configcheck", []string{"mapping", "receiver", "processor", "exporter", "extension", "cmd", "internal/testsupport", "internal/tools"}, "configcheck knows config types only by reflection, so every layer can use it"},
	{"internal/catalogfile", []string{"receiver", "processor", "exporter", "extension", "cmd", "internal/testsupport", "internal/tools"}, "the catalog-file reader serves the components and intunectl and never links them or test support"},
	{"internal/delivery", []string{"exporter", "internal/testsupport", "internal/tools"}, "the exporter core serves the exporters and never links test support or tools"},
}

func TestLayers(t *testing.T) {
	// Non-test imports only: tests may use test support.
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, module)
		for _, r := range rules {
			if rel != r.from && !strings.HasPrefix(rel, r.from+"/") {
				continue
			}
			checked++
			for _, imp := range p.Imports {
				if !strings.HasPrefix(imp, module) {
					continue
				}
				irel := strings.TrimPrefix(imp, module)
				for _, bad := range r.mustNot {
					if irel == bad || strings.HasPrefix(irel, bad+"/") {
						t.Errorf("%s imports %s: %s", rel, irel, r.whyNotOK)
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages matched the rules; did the module path change?", checked)
	}
}
