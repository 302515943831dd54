// Command hecserver runs the Splunk HEC stand-in of package hectest as a
// program, so a built collector can be pointed at it:
//
//	go run ./internal/tools/hecserver -token 00000000-0000-0000-0000-000000000000
//
// It prints "listening on http://ADDR" on stdout once it accepts
// connections and stops on SIGINT or SIGTERM. With -count-only it keeps no
// events, only their number (GET /_hectest/stats), for benchmarks.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
)

func main() {
	token := flag.String("token", "", "require this HEC token (Authorization: Splunk TOKEN)")
	countOnly := flag.Bool("count-only", false, "keep only the number of accepted events (for benchmarks)")
	ack := flag.Bool("ack", false, "indexer acknowledgement: acknowledge each request on the first poll")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := hectest.New()
	defer r.Close()
	if *token != "" {
		r.RequireToken(*token)
	}
	if *countOnly {
		r.CountOnly()
	}
	if *ack {
		r.EnableAck(1)
	}
	fmt.Printf("listening on %s\n", r.URL)
	<-ctx.Done()
}
