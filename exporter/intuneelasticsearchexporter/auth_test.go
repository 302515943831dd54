package intuneelasticsearchexporter

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"
)

// Refused credentials are a configuration problem, not bad data: with the
// cluster answering 401 or 403 (to the request, or to each item for an
// index the key may not write), the records are retried well past
// max_elapsed_time, survive a restart in the persistent queue, are never
// dead-lettered, and every one is delivered once the credentials work;
// the component is unhealthy meanwhile and healthy after.
func TestCredentialsRefusedKeepsRecords(t *testing.T) {
	tests := []struct {
		name  string
		fault func(s *esbulktest.Server)
	}{
		{"request 401", func(s *esbulktest.Server) { s.FailRequests(esbulktest.RequestFault{Path: "/_bulk", Status: 401}) }},
		{"request 403", func(s *esbulktest.Server) { s.FailRequests(esbulktest.RequestFault{Path: "/_bulk", Status: 403}) }},
		{"item 403", func(s *esbulktest.Server) {
			s.FailItems(esbulktest.ItemFault{Status: 403, Type: esbulktest.TypeSecurity, Reason: "action [indices:data/write/bulk[s]] is unauthorized"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 150
			srv := startServer(t, esbulktest.Options{})
			dir := t.TempDir()
			dead := filepath.Join(t.TempDir(), "dead.jsonl")
			cfg := func() *Config {
				c := testConfig(srv)
				c.BackOffConfig.InitialInterval = 10 * time.Millisecond
				c.BackOffConfig.MaxInterval = 20 * time.Millisecond
				// Far shorter than the wait for the fix.
				c.BackOffConfig.MaxElapsedTime = 100 * time.Millisecond
				c.DeadLetter.File.Path = dead
				return c
			}

			// Start (and bootstrap) with a working key; then it is
			// revoked.
			host := &testutil.StatusHost{}
			run := startPersistentOn(t, cfg(), dir, host)
			tt.fault(srv)
			for i := 0; i < n; i += 50 {
				if err := run.exp.ConsumeLogs(context.Background(), records(t, i, 50)); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			waitFor(t, "retries past max_elapsed_time, reported as a recoverable error", func() bool {
				return srv.Stats().Faults > 20 && time.Since(start) > 300*time.Millisecond &&
					slices.Contains(host.Statuses(), componentstatus.StatusRecoverableError)
			})
			if got := run.h.counter(t, "documents_failed"); got != 0 {
				t.Errorf("documents_failed %d while the credentials are refused", got)
			}
			run.stop(t)

			// The next run still meets refused credentials, then they are
			// fixed.
			host = &testutil.StatusHost{}
			run = startPersistentOn(t, cfg(), dir, host)
			faults := srv.Stats().Faults
			waitFor(t, "retries after the restart", func() bool { return srv.Stats().Faults > faults+3 })
			srv.ClearFaults()
			waitFor(t, "every record delivered", func() bool { return srv.Count() == n })
			waitFor(t, "healthy again", func() bool {
				st := host.Statuses()
				return len(st) > 0 && st[len(st)-1] == componentstatus.StatusOK
			})
			run.stop(t)

			if b, err := os.ReadFile(dead); err != nil || len(b) != 0 {
				t.Errorf("dead-letter file: %d bytes, %v", len(b), err)
			}
			for _, id := range ids(records(t, 0, n)) {
				if srv.Attempts(id) < 1 {
					t.Fatalf("%s never sent", id)
				}
			}
			if got := srv.Count(); got != n {
				t.Errorf("stored %d, want %d", got, n)
			}
		})
	}
}

// startPersistentOn is startPersistentWith with a host of the test's.
func startPersistentOn(t *testing.T, cfg *Config, dir string, host *testutil.StatusHost) *persistentExporter {
	t.Helper()
	return startPersistentWithHost(t, cfg, dir, func(ext map[component.ID]component.Component) component.Host {
		host.Extensions = ext
		return host
	})
}
