package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/internal/catalogfile"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// catalogFlagHelp is the help text of --catalog, the same for every command.
const catalogFlagHelp = "a site catalog `FILE` layered over the built-in catalog (repeat for several; later files win)"

// catalogFlag collects --catalog values in order.
type catalogFlag struct{ files *[]string }

func (f catalogFlag) String() string {
	if f.files == nil {
		return ""
	}
	return strings.Join(*f.files, ",")
}

func (f catalogFlag) Set(v string) error {
	*f.files = append(*f.files, v)
	return nil
}

// addCatalogFlag gives a command the --catalog flag.
func (c *cli) addCatalogFlag(fs *flag.FlagSet) {
	fs.Var(catalogFlag{&c.catalogFiles}, "catalog", catalogFlagHelp)
}

// takeGlobalCatalog removes --catalog FILE written before the command
// (intunectl --catalog site.yaml summarize ...), so that it applies as if
// written after it. ok is false when --catalog has no value.
func (c *cli) takeGlobalCatalog(args []string) (rest []string, ok bool) {
	for len(args) > 0 {
		a := args[0]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "catalog" {
			return args, true
		}
		if !hasValue {
			if len(args) < 2 {
				fmt.Fprintln(c.stderr, "intunectl: --catalog needs a file: intunectl --catalog site-catalog.yaml COMMAND ...")
				return nil, false
			}
			value, args = args[1], args[1:]
		}
		c.catalogFiles = append(c.catalogFiles, value)
		args = args[1:]
	}
	return args, true
}

// loadCatalog layers the --catalog files over the built-in catalog once.
// A file that cannot be read or is refused ends the command with every
// problem (file, line, what to fix) on stderr; ok is false then.
func (c *cli) loadCatalog(command string) bool {
	if c.cat != nil {
		return true
	}
	cat, err := catalogfile.Load(c.catalogFiles)
	if err != nil {
		fmt.Fprintf(c.stderr, "intunectl %s: the --catalog file cannot be used:\n", command)
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(c.stderr, "  %s\n", strings.TrimPrefix(line, "[0]: "))
		}
		fmt.Fprintln(c.stderr, "Correct the file (its schema is that of the built-in catalog; see config/catalog/example.yaml) or leave --catalog out.")
		return false
	}
	c.cat = cat
	return true
}

// catalog is the catalog the commands read: the built-in one with the
// --catalog files layered over it, once loadCatalog succeeded.
func (c *cli) catalog() *mapping.Catalog {
	if c.cat == nil {
		return mapping.MustDefault()
	}
	return c.cat
}

// enricher is the enricher of the CLI: the catalog, no overrides. Its
// config cannot be invalid, so an error is a build defect.
func (c *cli) enricher(cfg mapping.Config) *mapping.Enricher {
	en, err := mapping.NewEnricher(c.catalog(), cfg)
	if err != nil {
		panic("intunectl: default enrichment config rejected: " + err.Error())
	}
	return en
}

// annotations returns what a site catalog attached to an event and its
// code, as records carry it: the runbook link and labels written
// "team=pki, escalation=tier2".
func annotations(e *mapping.EventEntry, ce *mapping.CodeEntry) (runbook, labels string) {
	codeIsError := ce != nil && ce.Code != "0x00000000"
	rb, ls := mapping.Annotations(e, ce, codeIsError)
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Name + "=" + l.Value
	}
	return rb, strings.Join(parts, ", ")
}

// explainAnnotations prints an entry's runbook link and labels, which only
// a site catalog gives.
func (c *cli) explainAnnotations(runbook string, labels []wineventlog.Data) {
	if runbook != "" {
		fmt.Fprintf(c.stdout, "  Runbook:      %s\n", runbook)
	}
	if len(labels) > 0 {
		parts := make([]string, len(labels))
		for i, l := range labels {
			parts[i] = l.Name + "=" + l.Value
		}
		fmt.Fprintf(c.stdout, "  Labels:       %s\n", strings.Join(parts, ", "))
	}
}
