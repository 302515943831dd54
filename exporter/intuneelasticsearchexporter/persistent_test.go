package intuneelasticsearchexporter

import (
	"context"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"
)

var storageID = component.MustNewID("file_storage")

// persistentExporter is one run of the collector: a storage extension and
// the exporter with a persistent queue in it, under a fixed component ID so
// the next run finds the same queue.
type persistentExporter struct {
	stopStorage func()
	exp         exporter.Logs
	h           *harness
}

func startPersistent(t *testing.T, srv *esbulktest.Server, dir string) *persistentExporter {
	t.Helper()
	cfg := testConfig(srv)
	// Retry without a time limit: an outage must not drop anything.
	cfg.BackOffConfig.MaxElapsedTime = 0
	cfg.BackOffConfig.InitialInterval = 10 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 50 * time.Millisecond
	return startPersistentWith(t, cfg, dir)
}

// startPersistentWith gives cfg a persistent queue in dir and starts it.
func startPersistentWith(t *testing.T, cfg *Config, dir string) *persistentExporter {
	t.Helper()
	return startPersistentWithHost(t, cfg, dir, func(ext map[component.ID]component.Component) component.Host {
		return testHost{ext: ext}
	})
}

// startPersistentWithHost is startPersistentWith on the host newHost
// makes around the extensions.
func startPersistentWithHost(t *testing.T, cfg *Config, dir string, newHost func(map[component.ID]component.Component) component.Host) *persistentExporter {
	t.Helper()
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.StorageID = &storageID
	queue.Sizer = exporterhelper.RequestSizerTypeItems
	queue.QueueSize = 10_000
	queue.NumConsumers = 2
	batch := exporterhelper.NewDefaultBatchConfig()
	batch.FlushTimeout = 20 * time.Millisecond
	batch.MinSize, batch.MaxSize = 40, 60
	queue.Batch = configoptional.Some(batch)
	cfg.QueueBatchConfig = configoptional.Some(queue)

	_, storage, stopStorage := testutil.StartFileStorage(t, storageID, dir)
	tel := componenttest.NewTelemetry()
	set := exportertest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, "persistent")
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), newHost(map[component.ID]component.Component{storageID: storage})); err != nil {
		t.Fatal(err)
	}
	return &persistentExporter{stopStorage: stopStorage, exp: exp, h: &harness{exp: exp, tel: tel}}
}

func (p *persistentExporter) stop(t *testing.T) {
	t.Helper()
	if err := p.exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.stopStorage()
	_ = p.h.tel.Shutdown(context.Background())
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, what, cond)
}

// The exporter is stopped during an outage with documents queued and in
// retry; the next run delivers every one of them, and each document is in
// Elasticsearch exactly once.
func TestPersistentQueueExactlyOnce(t *testing.T) {
	const total = 300
	srv := startServer(t, esbulktest.Options{})
	dir := t.TempDir()
	all := records(t, 0, total)
	want := ids(all)

	first := startPersistent(t, srv, dir)
	// Some items need a retry of their own on the way.
	srv.FailItems(esbulktest.ItemFault{Every: 7, Status: 429, Times: 10})
	for i := 0; i < 150; i += 30 {
		if err := first.exp.ConsumeLogs(context.Background(), records(t, i, 30)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the first half to arrive", func() bool { return srv.Count() == 150 })

	// Outage: every bulk request fails from now on.
	srv.FailRequests(esbulktest.RequestFault{Path: "/_bulk", Status: 503})
	for i := 150; i < total; i += 30 {
		if err := first.exp.ConsumeLogs(context.Background(), records(t, i, 30)); err != nil {
			t.Fatal(err)
		}
	}
	// A resend of documents already delivered, as after a receiver restart.
	if err := first.exp.ConsumeLogs(context.Background(), records(t, 0, 30)); err != nil {
		t.Fatal(err)
	}
	faults := srv.Stats().Faults
	waitFor(t, "bulk requests to fail during the outage", func() bool { return srv.Stats().Faults > faults+2 })
	first.stop(t)
	if got := srv.Count(); got != 150 {
		t.Fatalf("%d documents stored during the outage", got)
	}

	// The cluster is back; the next run empties the queue.
	srv.ClearFaults()
	second := startPersistent(t, srv, dir)
	t.Cleanup(func() { second.stop(t) })
	waitFor(t, "every document", func() bool { return srv.Count() == total })
	waitFor(t, "the resent documents to be answered as duplicates", func() bool {
		return second.h.counter(t, "documents_duplicate") >= 30
	})

	docs := srv.Docs(defaultStream)
	got := make([]string, 0, len(docs))
	for _, d := range docs {
		got = append(got, d.ID)
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("%d documents stored, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("stored _id %s, want %s", got[i], want[i])
		}
	}
	// The server stores a document before the exporter has read the answer
	// and counted it: wait for the count rather than read it once.
	waitFor(t, "the second run to count its deliveries", func() bool {
		return second.h.counter(t, "documents_delivered") >= total-150
	})
	if d := second.h.counter(t, "documents_delivered"); d != total-150 {
		t.Errorf("second run delivered %d, want %d", d, total-150)
	}
}
