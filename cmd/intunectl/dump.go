package main

import (
	"bufio"
	"fmt"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/evtx"
)

// dump prints every EVTX record as Windows renders it: one <Event> XML
// document per record.
func (c *cli) dump(args []string) int {
	fs := c.newFlags("dump")
	carve := fs.Bool("carve", false, "also recover records left in chunk slack, such as intact records after a torn one")
	files, err := parse(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(files) == 0 {
		fmt.Fprintln(c.stderr, "intunectl dump: name at least one EVTX file")
		fs.Usage()
		return exitUsage
	}
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	totals, werr := c.eachEvent(files, eventfile.Options{Format: wineventlog.FormatEVTX, Carve: *carve}, func(rec *wineventlog.Record) error {
		return evtx.RenderXML(out, rec)
	})
	if err := out.Flush(); werr == nil {
		werr = err
	}
	if werr != nil {
		fmt.Fprintf(c.stderr, "intunectl dump: writing output: %v\n", werr)
		return exitOutput
	}
	return totals.exitCode()
}
