package intuneelasticsearchexporter

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// cluster is where the integration tests send documents: the bulk test
// server always, and a real Elasticsearch when ELASTICSEARCH_URL is set
// (with ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and
// ELASTICSEARCH_PASSWORD, and ELASTICSEARCH_CA_FILE for a private CA).
type cluster struct {
	name    string
	url     string
	apiKey  string
	user    string
	pass    string
	caFile  string
	srv     *esbulktest.Server // nil for a real cluster
	client  *http.Client
	cleanup []string // data streams to delete afterwards
}

func clusters(t *testing.T) []*cluster {
	out := []*cluster{{name: "test server", srv: startServer(t, esbulktest.Options{Version: "9.1.0"}), client: http.DefaultClient}}
	out[0].url = out[0].srv.URL()
	if u := os.Getenv("ELASTICSEARCH_URL"); u != "" {
		c := &cluster{
			name: "real cluster", url: strings.TrimRight(u, "/"),
			apiKey: os.Getenv("ELASTICSEARCH_API_KEY"),
			user:   os.Getenv("ELASTICSEARCH_USERNAME"), pass: os.Getenv("ELASTICSEARCH_PASSWORD"),
			caFile: os.Getenv("ELASTICSEARCH_CA_FILE"),
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if c.caFile != "" {
			pem, err := os.ReadFile(c.caFile)
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		c.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
		t.Cleanup(func() {
			for _, ds := range c.cleanup {
				c.do(t, "DELETE", "/_data_stream/"+ds, "")
			}
			tr.CloseIdleConnections()
		})
		out = append(out, c)
	} else {
		t.Log("ELASTICSEARCH_URL is not set: running against the bulk test server only")
	}
	return out
}

func (c *cluster) config(namespace string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoints = []string{c.url}
	cfg.ClientConfig.Timeout = 30 * time.Second
	cfg.ClientConfig.TLS.CAFile = c.caFile
	cfg.APIKey = configopaque.String(c.apiKey)
	cfg.User, cfg.Password = c.user, configopaque.String(c.pass)
	cfg.DataStream.Namespace = namespace
	cfg.BackOffConfig.InitialInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 20 * time.Second
	return cfg
}

func (c *cluster) do(t *testing.T, method, path, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	switch {
	case c.apiKey != "":
		req.Header.Set("Authorization", "ApiKey "+(&Config{APIKey: configopaque.String(c.apiKey)}).encodedAPIKey())
	case c.user != "":
		req.SetBasicAuth(c.user, c.pass)
	}
	res, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return b
}

// count is how many of ids the data stream holds, after a refresh.
func (c *cluster) count(t *testing.T, target string, ids []string) int {
	t.Helper()
	c.do(t, "POST", "/"+target+"/_refresh", "")
	q, _ := json.Marshal(map[string]any{"query": map[string]any{"ids": map[string]any{"values": ids}}})
	var r struct {
		Count *int `json:"count"`
	}
	body := c.do(t, "POST", "/"+target+"/_count", string(q))
	if err := json.Unmarshal(body, &r); err != nil || r.Count == nil {
		t.Fatalf("count in %s: %s", target, body)
	}
	return *r.Count
}

func runID() string { return fmt.Sprintf("it%d", time.Now().UnixNano()%1_000_000_000) }

func TestIntegrationDeliverAndDeduplicate(t *testing.T) {
	for _, c := range clusters(t) {
		t.Run(c.name, func(t *testing.T) {
			ns := runID()
			target := "logs-intune_connector.events-" + ns
			c.cleanup = append(c.cleanup, target)
			cfg := c.config(ns)
			cfg.QueueBatchConfig.Get().Batch.Get().FlushTimeout = 50 * time.Millisecond
			h := startExporter(t, cfg)
			idList := ids(records(t, 0, 200))
			for range 2 {
				// A fresh copy each time: the queue owns what it is given.
				if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 200)); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "200 delivered and 200 duplicates", func() bool {
				return h.counter(t, "documents_delivered") == 200 && h.counter(t, "documents_duplicate") == 200
			})
			if got := c.count(t, target, idList); got != 200 {
				t.Fatalf("%s holds %d of the 200 documents", target, got)
			}
		})
	}
}

// A document whose field contradicts the mapping (an object where a keyword
// is mapped) is refused by Elasticsearch and kept in the dead-letter file;
// the documents around it go in.
func TestIntegrationMappingConflictDeadLettered(t *testing.T) {
	for _, c := range clusters(t) {
		t.Run(c.name, func(t *testing.T) {
			ns := runID()
			target := "logs-intune_connector.events-" + ns
			c.cleanup = append(c.cleanup, target)
			if c.srv != nil {
				// The test server does not check mappings; it refuses the
				// same document as Elasticsearch would.
				c.srv.FailItems(esbulktest.ItemFault{Status: 400, Type: esbulktest.TypeDocumentParsing,
					Reason: "[1:2] failed to parse field [host.name] of type [keyword]",
					Match:  func(it esbulktest.Item) bool { return bytes.Contains(it.Source, []byte(`"host":{"name":{`)) }})
			}
			cfg := c.config(ns)
			cfg.QueueBatchConfig.Get().Batch.Get().FlushTimeout = 50 * time.Millisecond
			cfg.DeadLetter.File.Path = filepath.Join(t.TempDir(), "refused.jsonl")
			h := startExporter(t, cfg)
			ld := records(t, 1000, 5)
			bad := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(2)
			bad.Attributes().Remove(mapping.AttrHostName)
			bad.Attributes().PutEmptyMap(mapping.AttrHostName).PutStr("fqdn", "ndes01")
			if err := h.exp.ConsumeLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "4 delivered and 1 dead-lettered", func() bool {
				return h.counter(t, "documents_delivered") == 4 && h.counter(t, "documents_dead_lettered") == 1
			})
			entries := readDeadLetters(t, cfg.DeadLetter.File.Path)
			idList := ids(ld)
			if len(entries) != 1 || entries[0].ID != idList[2] || entries[0].Status != 400 || !strings.Contains(entries[0].Reason, "host.name") {
				t.Fatalf("dead letters %+v", entries)
			}
			if got := c.count(t, target, idList); got != 4 {
				t.Errorf("%s holds %d documents, want 4", target, got)
			}
		})
	}
}

// The collector stops while Elasticsearch is unreachable, with documents in
// the persistent queue; the next run delivers each exactly once.
func TestIntegrationPersistentQueueAcrossOutage(t *testing.T) {
	for _, c := range clusters(t) {
		t.Run(c.name, func(t *testing.T) {
			ns := runID()
			target := "logs-intune_connector.events-" + ns
			c.cleanup = append(c.cleanup, target)
			dir := t.TempDir()
			// Nothing listens on this address: the outage.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			dead := "http://" + ln.Addr().String()
			ln.Close()

			cfg := c.config(ns)
			cfg.Endpoints = []string{dead}
			run := func(cfg *Config) *persistentExporter {
				return startPersistentWith(t, cfg, dir)
			}
			cfg.BackOffConfig.MaxElapsedTime = 0
			first := run(cfg)
			ld := records(t, 2000, 120)
			if err := first.exp.ConsumeLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // let it try and fail
			first.stop(t)

			cfg = c.config(ns)
			cfg.BackOffConfig.MaxElapsedTime = 0
			second := run(cfg)
			t.Cleanup(func() { second.stop(t) })
			waitFor(t, "the queued documents", func() bool { return second.h.counter(t, "documents_delivered") == 120 })
			if got := c.count(t, target, ids(ld)); got != 120 {
				t.Fatalf("%s holds %d of 120", target, got)
			}
		})
	}
}
