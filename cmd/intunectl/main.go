// Command intunectl explains, converts and summarises Intune Certificate
// Connector events for admins who have an export and no SIEM.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// Exit codes, documented in the README and in usage.
const (
	exitOK         = 0
	exitDamaged    = 1 // some events could not be decoded and were skipped
	exitUsage      = 2
	exitUnreadable = 3 // an input could not be opened or its format is unknown
	exitNotFound   = 4 // explain found nothing in the catalog
)

const usage = `intunectl: explain, convert, summarise and trace Intune Certificate Connector events.

Usage:
  intunectl explain <event-id | event-name | diagnostic-code>...
  intunectl convert [--to ecs|hec|otlp-json] [--original] [--format F] FILE...
  intunectl summarize [--format F] FILE...
  intunectl dump [--carve] FILE...
  intunectl report [-o report.html] [--title TEXT] [--format F] FILE...
  intunectl trace [--json] [--format F] <device-id | request-id | thumbprint | serial> FILE...
  intunectl content [--catalog FILE] -o DIR

FILE is an exported event log: EVTX, XML (wevtutil qe /f:xml, Event Viewer
"Save as XML", /f:RenderedXml) or JSON (Get-WinEvent | ConvertTo-Json, or
one object per line), in UTF-8 or UTF-16. The format is detected from the
content; --format xml|json|evtx forces it. Use - for standard input.

--catalog FILE (every command but dump, before or after it, repeatable)
layers a site catalog over the built-in one: new events and codes, your
own remediation, runbook links and labels (see config/catalog/example.yaml).

Exit codes:
  0  success
  1  some events were damaged and skipped; everything else was processed
  2  usage error, or a --catalog file that cannot be read or is refused
  3  an input could not be read or is not a supported format
  4  explain: nothing in the catalog matches; trace: no event names the key
`

type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	// interactive enables the progress display on stderr.
	interactive bool
	// catalogFiles are the --catalog files; cat is the catalog with them
	// layered over the built-in one, once loaded (see catalog.go).
	catalogFiles []string
	cat          *mapping.Catalog
}

func main() {
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, interactive: stderrIsTerminal()}
	os.Exit(c.run(os.Args[1:]))
}

func (c *cli) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	args, ok := c.takeGlobalCatalog(args)
	if !ok {
		return exitUsage
	}
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "explain":
		return c.explain(rest)
	case "convert":
		return c.convert(rest)
	case "summarize", "summarise":
		return c.summarize(rest)
	case "dump":
		return c.dump(rest)
	case "report":
		return c.report(rest)
	case "content":
		return c.content(rest)
	case "trace":
		return c.trace(rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(c.stderr, "intunectl: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// newFlags makes a flag set that reports errors the same way for every
// subcommand.
func (c *cli) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: intunectl %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags placed anywhere among the arguments, as admins tend to
// type them after the file names.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return files, nil
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
}

func flagErr(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func wrapText(s string, width int, indent string) string {
	words := strings.Fields(s)
	var b strings.Builder
	line := 0
	for _, w := range words {
		if line > 0 && line+1+len(w) > width {
			b.WriteString("\n")
			b.WriteString(indent)
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}
