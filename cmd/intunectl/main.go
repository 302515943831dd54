// Command intunectl explains, converts, summarises and reports on Intune
// Certificate Connector events for admins who have an export and no SIEM,
// and sends dead-lettered records again once their cause is fixed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// Exit codes, documented in the README and in usage.
const (
	exitOK         = 0
	exitDamaged    = 1 // some events (or dead-letter lines) could not be read and were skipped
	exitUsage      = 2
	exitUnreadable = 3 // an input could not be opened or its format is unknown
	exitNotFound   = 4 // explain found nothing in the catalog; trace found no event naming the key
	exitOutput     = 5 // the output could not be written
	exitNotSent    = 6 // replay: the collector did not take the records
)

// command is one subcommand. A new one is a file with its run function
// and an entry in commands; usage is built from the table.
type command struct {
	name    string
	aliases []string
	args    string // synopsis after the name
	summary string
	run     func(c *cli, args []string) int
}

// commands lists the subcommands in the order help shows them. (A function,
// not a variable: the commands' own code reads the table.)
func commands() []command {
	return []command{
		{"explain", nil, "<event-id | event-name | diagnostic-code>...",
			"what an event or a diagnostic code means and what to do", (*cli).explain},
		{"convert", nil, "[--to ecs|hec|otlp-json] [--original] [--format F] [--carve] FILE...",
			"events as the documents the exporters send, one JSON line each", (*cli).convert},
		{"summarize", []string{"summarise"}, "[--format F] [--carve] FILE...",
			"counts by event, outcome, code and host; failures first", (*cli).summarize},
		{"report", nil, "[-o report.html] [--title TEXT] [--format F] [--carve] FILE...",
			"a self-contained HTML page: timeline, failures, hosts, devices with failures", (*cli).report},
		{"trace", nil, "[--json] [--format F] [--carve] <device-id | request-id | thumbprint | serial> FILE...",
			"a device's or certificate's journey through the events, first failing step", (*cli).trace},
		{"dump", nil, "[--carve] FILE.evtx...",
			"EVTX records as Windows renders them", (*cli).dump},
		{"replay", nil, "--endpoint HOST:PORT [--insecure] [--ca-file F] [--exporter ID] [--dry-run] DEAD-LETTER-FILE...",
			"send dead-lettered records again through a collector's OTLP receiver", (*cli).replay},
		{"content", nil, "[--catalog FILE]... -o DIR",
			"Kibana and Splunk content for the catalog with site catalog files layered over it", (*cli).content},
		{"version", []string{"--version", "-version"}, "",
			"the release version, the same as the collector's in one package", (*cli).printVersion},
	}
}

func usageText() string {
	var b strings.Builder
	b.WriteString("intunectl: Intune Certificate Connector events, explained.\n\nCommands:\n")
	for _, cmd := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	b.WriteString("\nUsage:\n")
	for _, cmd := range commands() {
		fmt.Fprintf(&b, "  intunectl %s %s\n", cmd.name, cmd.args)
	}
	b.WriteString(`
FILE is an exported event log: EVTX, XML (wevtutil qe /f:xml, Event Viewer
"Save as XML", /f:RenderedXml) or JSON (Get-WinEvent | ConvertTo-Json, or
one object per line), in UTF-8 or UTF-16. The format is detected from the
content; --format xml|json|evtx forces it. --carve also recovers EVTX
records left in chunk slack. Use - for standard input. Run
intunectl COMMAND -h for a command's options.

--catalog FILE (every command but dump and replay, before or after it,
repeatable) layers a site catalog over the built-in one: new events and
codes, your own remediation, runbook links and labels (see
config/catalog/example.yaml).

Exit codes:
  0  success
  1  some events (or dead-letter lines) were damaged and skipped; everything else was processed
  2  usage error, or a --catalog file that cannot be read or is refused
  3  an input could not be read or is not a supported format
  4  explain: nothing in the catalog matches; trace: no event names the key
  5  the output could not be written
  6  replay: the collector could not be reached or did not take the records
`)
	return b.String()
}

type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	// interactive enables the progress display on stderr.
	interactive bool
	// getenv reads the environment (replay's headers); tests replace it.
	getenv func(string) string
	// catalogFiles are the --catalog files; cat is the catalog with them
	// layered over the built-in one, once loaded (see catalog.go).
	catalogFiles []string
	cat          *mapping.Catalog
}

func main() {
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, interactive: stderrIsTerminal(), getenv: os.Getenv}
	os.Exit(c.run(os.Args[1:]))
}

func (c *cli) run(args []string) int {
	args, ok := c.takeGlobalCatalog(args)
	if !ok {
		return exitUsage
	}
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usageText())
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usageText())
		return exitOK
	}
	for _, cmd := range commands() {
		if name == cmd.name || slices.Contains(cmd.aliases, name) {
			return cmd.run(c, rest)
		}
	}
	fmt.Fprintf(c.stderr, "intunectl: unknown command %q\n\n%s", name, usageText())
	return exitUsage
}

// newFlags makes a flag set that reports errors the same way for every
// subcommand, with the synopsis from the command table.
func (c *cli) newFlags(name string) *flag.FlagSet {
	args := ""
	for _, cmd := range commands() {
		if cmd.name == name {
			args = cmd.args
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: intunectl %s %s\n", name, args)
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
