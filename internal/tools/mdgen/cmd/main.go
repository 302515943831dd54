// Command mdgen rewrites every component's generated files (internal/metadata,
// internal/metadatatest, generated_component_test.go, the README telemetry
// tables) from its metadata.yaml. Run it from the repository root:
//
//	go run ./internal/tools/mdgen/cmd          # write (make generate)
//	go run ./internal/tools/mdgen/cmd -check   # list what is out of date, exit 1 (make lint)
//	go run ./internal/tools/mdgen/cmd receiver/intuneconnectorreceiver   # one component
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/otelcol-intune/otelcol-intune/internal/tools/mdgen"
)

func main() {
	check := flag.Bool("check", false, "do not write; exit 1 when a generated file is out of date")
	root := flag.String("root", ".", "the directory of go.mod")
	flag.Parse()
	if err := run(*root, *check, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mdgen:", err)
		os.Exit(1)
	}
}

func run(root string, check bool, dirs []string) error {
	mds, err := mdgen.Components(root, dirs...)
	if err != nil {
		return err
	}
	stale := 0
	for _, md := range mds {
		changes, err := mdgen.Changes(md)
		if err != nil {
			return err
		}
		for _, c := range changes {
			switch {
			case check && c.Content == nil:
				fmt.Printf("mdgen: %s is no longer generated\n", c.Path)
			case check:
				fmt.Printf("mdgen: %s is out of date\n", c.Path)
			case c.Content == nil:
				fmt.Printf("mdgen removes %s\n", c.Path)
			default:
				fmt.Printf("mdgen writes %s\n", c.Path)
			}
		}
		stale += len(changes)
		if !check {
			if err := mdgen.Apply(changes); err != nil {
				return err
			}
		}
	}
	if check && stale > 0 {
		return fmt.Errorf("%d generated files are out of date with metadata.yaml: run make generate and commit the result", stale)
	}
	return nil
}
