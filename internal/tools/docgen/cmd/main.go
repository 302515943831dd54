// Command docgen rewrites the generated tables in README.md:
//
//	go run ./internal/tools/docgen/cmd
package main

import (
	"fmt"
	"os"

	"github.com/otelcol-intune/otelcol-intune/internal/tools/docgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func main() {
	path := "README.md"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
	out, err := docgen.Apply(doc, docgen.Sections(mapping.MustDefault()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}
