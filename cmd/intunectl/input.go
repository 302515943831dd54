package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/evtx"
)

// maxReportedErrors bounds the damage lines printed per file; the total is
// always printed.
const maxReportedErrors = 10

type inputTotals struct {
	files, events, damaged, unreadable int
}

func (t inputTotals) exitCode() int {
	switch {
	case t.unreadable > 0:
		return exitUnreadable
	case t.damaged > 0:
		return exitDamaged
	}
	return exitOK
}

// readFlags are the flags every command that reads exports takes.
type readFlags struct {
	format *string
	carve  *bool
	f      wineventlog.Format
}

func addReadFlags(fs *flag.FlagSet) *readFlags {
	return &readFlags{
		format: fs.String("format", "", "input format: xml, json or evtx (default: detect from content)"),
		carve:  fs.Bool("carve", false, "EVTX: also recover records left in chunk slack, such as intact records after a torn one"),
	}
}

// options are the eventfile options the flags ask for.
func (r *readFlags) options(noOriginal bool) eventfile.Options {
	return eventfile.Options{Format: r.f, Carve: *r.carve, NoOriginal: noOriginal}
}

// inputs parses a reading command's flags and files and loads the
// --catalog files. ok is false when the command should stop with code:
// help asked for, a bad flag, no file, an unknown --format or a bad
// catalog file.
func (c *cli) inputs(fs *flag.FlagSet, args []string, rf *readFlags) (files []string, code int, ok bool) {
	c.addCatalogFlag(fs)
	files, err := parse(fs, args)
	if err != nil {
		return nil, flagErr(err), false
	}
	if len(files) == 0 {
		fmt.Fprintf(c.stderr, "intunectl %s: name at least one exported log file, or - for standard input\n", fs.Name())
		fs.Usage()
		return nil, exitUsage, false
	}
	if rf.f, err = parseFormat(*rf.format); err != nil {
		fmt.Fprintf(c.stderr, "intunectl %s: %v\n", fs.Name(), err)
		return nil, exitUsage, false
	}
	if !c.loadCatalog(fs.Name()) {
		return nil, exitUsage, false
	}
	return files, exitOK, true
}

func parseFormat(s string) (wineventlog.Format, error) {
	switch s {
	case "", "auto":
		return wineventlog.FormatUnknown, nil
	case "xml":
		return wineventlog.FormatXML, nil
	case "json":
		return wineventlog.FormatJSON, nil
	case "evtx":
		return wineventlog.FormatEVTX, nil
	}
	return "", fmt.Errorf("unknown --format %q: use xml, json or evtx (or leave it out to detect)", s)
}

// eachEvent decodes every file in turn and calls fn for every good event.
// Damaged events are reported on stderr with their position and skipped;
// an unreadable file is reported and the next one is read.
func (c *cli) eachEvent(files []string, opts eventfile.Options, fn func(rec *wineventlog.Record) error) (inputTotals, error) {
	var t inputTotals
	for _, name := range files {
		f, err := eventfile.Open(name, opts)
		if err != nil {
			t.unreadable++
			c.reportOpenError(name, err)
			continue
		}
		t.files++
		n, damaged, err := c.readFile(f, fn)
		c.carveHint(f, opts.Carve)
		f.Close()
		t.events += n
		t.damaged += damaged
		if err != nil {
			var out *outputError
			if errors.As(err, &out) {
				return t, out.err
			}
			t.unreadable++
			fmt.Fprintf(c.stderr, "intunectl: %s: reading stopped after %s: %v\n", displayName(name), plural(n, "event", "events"), err)
		}
	}
	return t, nil
}

// outputError marks a failure to write results (a closed pipe, a full
// disk), which ends the run rather than moving to the next file.
type outputError struct{ err error }

func (e *outputError) Error() string { return e.err.Error() }

func (c *cli) readFile(f *eventfile.File, fn func(rec *wineventlog.Record) error) (events, damaged int, err error) {
	prog := c.newProgress(f)
	defer prog.done()
	for {
		rec, err := f.Next()
		if err == io.EOF {
			break
		}
		var de *wineventlog.DecodeError
		if errors.As(err, &de) {
			damaged++
			if damaged <= maxReportedErrors {
				prog.clear()
				fmt.Fprintf(c.stderr, "intunectl: %s: skipped damaged input: %v\n", displayName(f.Name), de)
			}
			continue
		}
		if err != nil {
			return events, damaged, err
		}
		events++
		if err := fn(&rec); err != nil {
			return events, damaged, &outputError{err}
		}
		prog.update(rec.Position, events)
	}
	if damaged > maxReportedErrors {
		fmt.Fprintf(c.stderr, "intunectl: %s: %d more damaged places skipped (%d in all)\n", displayName(f.Name), damaged-maxReportedErrors, damaged)
	}
	return events, damaged, nil
}

func (c *cli) reportOpenError(name string, err error) {
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(c.stderr, "intunectl: %s: no such file\n", displayName(name))
	case errors.Is(err, os.ErrPermission):
		fmt.Fprintf(c.stderr, "intunectl: %s: permission denied; copy the export somewhere readable or run with rights to read it\n", displayName(name))
	default:
		// The decoders' messages say what the input is and what to do.
		fmt.Fprintf(c.stderr, "intunectl: %v\n", err)
		if errors.Is(err, wineventlog.ErrUnknownFormat) && isDeadLetterFile(name) {
			fmt.Fprintf(c.stderr, "  %s is a dead-letter file of an otelcol-intune exporter: send its records again with intunectl replay.\n", displayName(name))
		}
	}
}

// isDeadLetterFile reports whether the file's first line is a dead-letter
// entry.
func isDeadLetterFile(name string) bool {
	if name == "-" {
		return false
	}
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReaderSize(f, 64<<10).ReadSlice('\n')
	return deadletter.LooksLikeEntry(line)
}

// carveHint points at --carve when an EVTX file had torn records, after
// which intact ones may still be recovered.
func (c *cli) carveHint(f *eventfile.File, carving bool) {
	r, ok := f.Decoder.(*evtx.Reader)
	if !ok || carving {
		return
	}
	if n := r.Stats().Damaged[evtx.DamageTornRecord]; n > 0 {
		fmt.Fprintf(c.stderr, "intunectl: %s: %s; run again with --carve to recover intact records after them\n",
			displayName(f.Name), plural(n, "torn record", "torn records"))
	}
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// progress draws a one-line progress display on stderr for large inputs
// when stderr is a terminal; otherwise it does nothing.
type progress struct {
	c     *cli
	name  string
	size  int64
	on    bool
	last  time.Time
	drawn bool
}

const progressMinSize = 8 << 20

func (c *cli) newProgress(f *eventfile.File) *progress {
	return &progress{c: c, name: displayName(f.Name), size: f.Size, on: c.interactive && f.Size >= progressMinSize}
}

func (p *progress) update(pos wineventlog.Position, events int) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	at := pos.End
	if at == 0 {
		at = pos.Offset
	}
	pct := float64(at) * 100 / float64(p.size)
	const width = 30
	filled := int(pct / 100 * width)
	filled = max(0, min(width, filled))
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(p.c.stderr, "\r%s [%s] %3.0f%%  %d events", p.name, bar, pct, events)
	p.drawn = true
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.c.stderr, "\r\033[K")
		p.drawn = false
	}
}

func (p *progress) done() { p.clear() }

func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }
