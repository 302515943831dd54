package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/internal/contentgen"
)

// content writes the Kibana and Splunk content for the catalog with the
// --catalog files layered over it, so that a site's own events, wording
// and runbook links reach the lookups, alert texts and rules.
func (c *cli) content(args []string) int {
	fs := c.newFlags("content", "[--catalog FILE]... -o DIR")
	c.addCatalogFlag(fs)
	out := fs.String("o", "", "write the content below this `DIR` (kibana/ and splunk/intune_connector/ inside it)")
	rest, err := parse(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(rest) > 0 {
		fmt.Fprintf(c.stderr, "intunectl content: reads no event files (got %s); name the output folder with -o DIR\n", rest[0])
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(c.stderr, "intunectl content: name the output folder with -o DIR, e.g. intunectl content --catalog site-catalog.yaml -o site-content")
		return exitUsage
	}
	if !c.loadCatalog("content") {
		return exitUsage
	}
	files, err := contentgen.Files(c.catalog())
	if err != nil {
		// Only a catalog that lost an event the alerts rely on gets here,
		// and catalog files cannot remove events.
		fmt.Fprintln(c.stderr, "intunectl content:", err)
		return exitUsage
	}
	n, err := writeContent(*out, files)
	if err != nil {
		fmt.Fprintf(c.stderr, "intunectl content: writing %s: %v\n", *out, err)
		return exitUnreadable
	}
	fmt.Fprintf(c.stdout, "Wrote %s below %s:\n", plural(n, "file", "files"), *out)
	fmt.Fprintf(c.stdout, "  %s  Kibana saved objects and detection rules (Stack Management > Saved objects > Import; Security > Rules > Import)\n",
		filepath.Join(*out, "kibana"))
	fmt.Fprintf(c.stdout, "  %s  the Splunk app (copy it to $SPLUNK_HOME/etc/apps/ and restart Splunk)\n",
		filepath.Join(*out, "splunk", contentgen.SplunkApp))
	return exitOK
}

// writeContent writes the content a site imports: the Kibana and Splunk
// files, not the alert samples the repository's tests use. Unlike make
// content it removes nothing, as the folder may hold the site's own files.
func writeContent(dir string, files map[string][]byte) (int, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		if strings.HasPrefix(p, "kibana/") || strings.HasPrefix(p, "splunk/") {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return 0, err
		}
	}
	return len(paths), nil
}
