// Command gensamples writes the sample exports in testdata/samples: the same
// catalog events in every format Windows tools export, both connector
// generations, in the encodings those tools use.
//
//	go run ./internal/tools/gensamples testdata/samples
//
// With -n and -export it writes a large input for benchmarks instead:
//
//	go run ./internal/tools/gensamples -n 200000 -export wevtutil -o /tmp/events.xml
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func main() {
	n := flag.Int("n", 0, "write this many events to -o instead of the sample set")
	export := flag.String("export", "wevtutil", "export shape for -n: wevtutil, rendered-events, eventviewer, ps51, ps7, compress")
	out := flag.String("o", "", "output file for -n")
	flag.Parse()
	cat := mapping.MustDefault()
	if *n > 0 {
		if err := writeLarge(cat, *n, *export, *out); err != nil {
			fmt.Fprintln(os.Stderr, "gensamples:", err)
			os.Exit(1)
		}
		return
	}
	dir := flag.Arg(0)
	if dir == "" {
		dir = "testdata/samples"
	}
	for _, s := range eventgen.Samples(cat) {
		path := filepath.Join(dir, s.File)
		if err := os.WriteFile(path, s.Data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gensamples:", err)
			os.Exit(1)
		}
	}
}

// writeLarge streams n events in batches so memory stays flat.
func writeLarge(cat *mapping.Catalog, n int, export, path string) error {
	if path == "" {
		return fmt.Errorf("-o is required with -n")
	}
	ex, err := eventgen.ExportByName(export)
	if err != nil {
		return err
	}
	if ex.Name != "wevtutil" && ex.Name != "compress" {
		return fmt.Errorf("large inputs are written as line formats: use -export wevtutil or compress")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	cases := eventgen.CatalogCases(cat)
	batch := make([]wineventlog.Event, 0, 1000)
	for i := 0; i < n; i++ {
		ev := eventgen.EventAt(cat, cases, i)
		if ex.Rendered {
			ev = eventgen.Rendered(cat, ev)
		}
		batch = append(batch, ev)
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := w.Write(ex.Write(batch)); err != nil {
				f.Close()
				return err
			}
			batch = batch[:0]
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
