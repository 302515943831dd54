// Command contentgen rewrites the generated SOC content (Kibana saved
// objects and detection rules, the Splunk app, alert samples) from the
// catalog:
//
//	go run ./internal/tools/contentgen [content-dir]
package main

import (
	"fmt"
	"os"

	"github.com/otelcol-intune/otelcol-intune/internal/contentgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func main() {
	dir := "content"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, err := contentgen.Files(mapping.MustDefault())
	if err == nil {
		err = contentgen.Write(dir, files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "contentgen:", err)
		os.Exit(1)
	}
	fmt.Printf("contentgen: wrote %d files below %s\n", len(files), dir)
}
