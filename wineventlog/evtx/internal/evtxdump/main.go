// Command evtxdump prints an EVTX file's records as XML, one document per
// record, for comparing the reader with other parsers by hand. Damage goes
// to standard error.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/otelcol-intune/otelcol-intune/wineventlog/evtx"
)

func main() {
	carve := flag.Bool("carve", false, "also read records left in chunk slack")
	stats := flag.Bool("stats", false, "print counts to standard error at the end")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: evtxdump [-carve] [-stats] FILE.evtx")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r, err := evtx.NewReader(f, fi.Size(), evtx.Options{Carve: *carve})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			var de interface{ Unwrap() error }
			if !errors.As(err, &de) {
				os.Exit(1)
			}
			continue
		}
		if err := evtx.RenderXML(w, &rec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *stats {
		fmt.Fprintf(os.Stderr, "%+v\n", r.Stats())
	}
}
