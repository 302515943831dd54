// Command esbulkserver runs the Elasticsearch stand-in of package esbulktest
// as a program, so a built collector can be pointed at it:
//
//	go run ./internal/tools/esbulkserver -addr 127.0.0.1:0 -version 9.1.0 -api-key c2VjcmV0
//
// It prints "listening on http://ADDR" on stdout once it accepts
// connections. Faults are injected and results read through /_esbulktest/
// (see package esbulktest); it stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
)

func main() {
	var o esbulktest.Options
	addr := flag.String("addr", "127.0.0.1:9200", "listen address (port 0 picks a free port)")
	flag.StringVar(&o.Version, "version", "", "Elasticsearch version to report (default 8.19.0, or 8.11.0 with -serverless)")
	flag.StringVar(&o.APIKey, "api-key", "", "require this encoded API key")
	flag.StringVar(&o.Username, "user", "", "require basic authentication as this user")
	flag.StringVar(&o.Password, "password", "", "password for -user")
	flag.StringVar(&o.BearerToken, "bearer-token", "", "require this bearer token")
	flag.Int64Var(&o.MaxContentLength, "max-content-length", 0, "largest request in bytes (0: 100 MiB)")
	flag.BoolVar(&o.DiscardSources, "discard-sources", false, "keep only document _ids, not sources")
	flag.BoolVar(&o.TrustSources, "trust-sources", false, "skip the full JSON check of documents (for benchmarks)")
	flag.BoolVar(&o.Serverless, "serverless", false, "answer as Elasticsearch Serverless: no ILM")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "esbulkserver:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, announcing the address on out.
func run(ctx context.Context, addr string, o esbulktest.Options, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: esbulktest.New(o), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
