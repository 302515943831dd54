package intuneelasticsearchexporter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func TestDeliverDocuments(t *testing.T) {
	for _, version := range []string{"8.19.0", "9.1.0"} {
		t.Run(version, func(t *testing.T) {
			srv := startServer(t, esbulktest.Options{Version: version})
			srv.RecordRequests()
			h := startExporter(t, testConfig(srv))
			ld := records(t, 0, 40)
			if err := h.exp.ConsumeLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
			docs := srv.Docs(defaultStream)
			if len(docs) != 40 {
				t.Fatalf("%d documents stored, want 40", len(docs))
			}
			// The document is exactly the ECS projection, _id the fingerprint.
			lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			res := ld.ResourceLogs().At(0).Resource()
			for i, d := range docs {
				want := mapping.AppendECS(nil, res, lrs.At(i), mapping.ECSOptions{DataStream: true, Dataset: "intune_connector.events", Namespace: "default"})
				if !bytes.Equal(d.Source, want) {
					t.Fatalf("document %d:\n got %s\nwant %s", i, d.Source, want)
				}
				if id, _ := lrs.At(i).Attributes().Get(mapping.AttrEventID); d.ID != id.Str() {
					t.Fatalf("_id %s, want the fingerprint %s", d.ID, id.Str())
				}
			}
			if got := h.counter(t, "documents_delivered"); got != 40 {
				t.Errorf("delivered counter %d", got)
			}
			if h.histogramCount(t, "bulk_request_duration") == 0 || h.histogramCount(t, "bulk_request_size") == 0 || h.histogramCount(t, "bulk_request_documents") == 0 {
				t.Error("bulk request histograms not recorded")
			}
			var bulk *esbulktest.Request
			for _, r := range srv.Requests() {
				if r.Path == "/_bulk" {
					bulk = &r
				}
			}
			if bulk == nil {
				t.Fatal("no bulk request")
			}
			if !strings.Contains(bulk.Header.Get("Accept"), "compatible-with=8") || bulk.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("bulk headers: %v", bulk.Header)
			}
			if !strings.Contains(bulk.Query, "filter_path=") {
				t.Errorf("bulk query %q asks for the whole answer", bulk.Query)
			}
		})
	}
}

func TestItemOutcomes(t *testing.T) {
	const n = 30
	tests := []struct {
		name    string
		setup   func(t *testing.T, srv *esbulktest.Server, cfg *Config, idList []string)
		wantErr string
		// stored documents, server attempts for the first three ids and
		// for the fourth, counters
		stored                                               int
		attemptsFaulty, attemptsOther                        int
		delivered, duplicates, retried, deadLettered, failed int64
		check                                                func(t *testing.T, srv *esbulktest.Server, cfg *Config, idList []string)
	}{
		{
			name: "429 items retried alone",
			setup: func(t *testing.T, s *esbulktest.Server, _ *Config, id []string) {
				s.FailItems(esbulktest.ItemFault{IDs: id[:3], Status: 429, Times: 3})
			},
			stored:         n,
			attemptsFaulty: 2, attemptsOther: 1,
			delivered: n, retried: 3,
		},
		{
			name: "5xx and rejected execution items retried",
			setup: func(t *testing.T, s *esbulktest.Server, _ *Config, id []string) {
				s.FailItems(esbulktest.ItemFault{IDs: id[:2], Status: 503, Times: 2})
				s.FailItems(esbulktest.ItemFault{IDs: id[2:3], Status: 500, Type: esbulktest.TypeRejectedExecution, Times: 1})
			},
			stored:         n,
			attemptsFaulty: 2, attemptsOther: 1,
			delivered: n, retried: 3,
		},
		{
			name: "409 is delivered as a duplicate",
			setup: func(t *testing.T, s *esbulktest.Server, cfg *Config, _ []string) {
				h := startExporter(t, testConfig(s))
				if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 10)); err != nil {
					t.Fatal(err)
				}
			},
			stored:         n,
			attemptsFaulty: 2, attemptsOther: 2,
			delivered: n - 10, duplicates: 10,
		},
		{
			name: "400 goes to the dead-letter file",
			setup: func(t *testing.T, s *esbulktest.Server, cfg *Config, id []string) {
				cfg.DeadLetter.File = deadletter.Config{Path: filepath.Join(t.TempDir(), "refused.jsonl")}
				s.FailItems(esbulktest.ItemFault{IDs: id[:3], Status: 400, Type: esbulktest.TypeMapperParsing, Reason: "failed to parse field [winlog.event_data]"})
			},
			stored:         n - 3,
			attemptsFaulty: 1, attemptsOther: 1,
			delivered: n - 3, deadLettered: 3,
			check: func(t *testing.T, _ *esbulktest.Server, cfg *Config, id []string) {
				entries := readDeadLetters(t, cfg.DeadLetter.File.Path)
				if len(entries) != 3 {
					t.Fatalf("%d dead-letter entries", len(entries))
				}
				for i, e := range entries {
					if e.ID != id[i] || e.Status != 400 || !strings.Contains(e.Reason, "mapper_parsing_exception: failed to parse field") {
						t.Errorf("entry %d: %+v", i, e)
					}
					var doc map[string]any
					if err := json.Unmarshal(e.Document, &doc); err != nil || doc["event"].(map[string]any)["id"] != id[i] {
						t.Errorf("entry %d document %s", i, e.Document)
					}
				}
			},
		},
		{
			name: "400 goes to the dead-letter index",
			setup: func(t *testing.T, s *esbulktest.Server, cfg *Config, id []string) {
				cfg.DeadLetter.Index = "intune-dead-letter"
				s.FailItems(esbulktest.ItemFault{IDs: id[:3], Status: 400, Type: esbulktest.TypeDocumentParsing, Match: func(it esbulktest.Item) bool { return it.Target == defaultStream }})
			},
			stored:         n, // 27 + 3 in the dead-letter index
			attemptsFaulty: 2, attemptsOther: 1,
			delivered: n - 3, deadLettered: 3,
			check: func(t *testing.T, s *esbulktest.Server, _ *Config, id []string) {
				docs := s.Docs("intune-dead-letter")
				if len(docs) != 3 {
					t.Fatalf("%d documents in the dead-letter index", len(docs))
				}
				var d struct {
					Status     int    `json:"status"`
					Reason     string `json:"reason"`
					Target     string `json:"target"`
					DocumentID string `json:"document_id"`
					Document   string `json:"document"`
				}
				if err := json.Unmarshal(docs[0].Source, &d); err != nil {
					t.Fatal(err)
				}
				if d.Status != 400 || d.Target != defaultStream || d.DocumentID != id[0] || !strings.Contains(d.Document, id[0]) || !strings.HasPrefix(d.Reason, esbulktest.TypeDocumentParsing) {
					t.Errorf("dead-letter document %+v", d)
				}
				if s.IndexTemplate("logs-intune_connector-dead-letter") == nil {
					t.Error("no template for the dead-letter index")
				}
			},
		},
		{
			name: "400 without a dead-letter destination fails loudly",
			setup: func(t *testing.T, s *esbulktest.Server, _ *Config, id []string) {
				s.FailItems(esbulktest.ItemFault{IDs: id[:3], Status: 400})
			},
			wantErr:        "set dead_letter::path or dead_letter::index",
			stored:         n - 3,
			attemptsFaulty: 1, attemptsOther: 1,
			delivered: n - 3, failed: 3,
		},
		{
			name: "retries stop at the limit",
			setup: func(t *testing.T, s *esbulktest.Server, cfg *Config, id []string) {
				cfg.BackOffConfig.MaxElapsedTime = 150 * time.Millisecond
				s.FailItems(esbulktest.ItemFault{IDs: id[:3], Status: 429})
			},
			wantErr:        "no more retries left",
			stored:         n - 3,
			attemptsOther:  1,
			delivered:      n - 3,
			retried:        3,
			attemptsFaulty: -1, // several
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, esbulktest.Options{})
			cfg := testConfig(srv)
			ld := records(t, 0, n)
			idList := ids(ld)
			tt.setup(t, srv, cfg, idList)
			h := startExporter(t, cfg)
			err := h.exp.ConsumeLogs(context.Background(), ld)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ConsumeLogs: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ConsumeLogs error %v, want %q", err, tt.wantErr)
			}
			if got := srv.Count(); got != tt.stored {
				t.Errorf("stored %d, want %d", got, tt.stored)
			}
			if got := srv.Attempts(idList[0]); tt.attemptsFaulty >= 0 && got != tt.attemptsFaulty {
				t.Errorf("attempts for a faulty item %d, want %d", got, tt.attemptsFaulty)
			} else if tt.attemptsFaulty < 0 && got < 2 {
				t.Errorf("attempts for a faulty item %d, want several", got)
			}
			if got := srv.Attempts(idList[5]); got != tt.attemptsOther {
				t.Errorf("attempts for a good item %d, want %d", got, tt.attemptsOther)
			}
			for name, want := range map[string]int64{"documents_delivered": tt.delivered, "documents_duplicate": tt.duplicates, "documents_dead_lettered": tt.deadLettered, "documents_failed": tt.failed} {
				if got := h.counter(t, name); got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			if got := h.counter(t, "documents_retried"); (tt.retried == 0) != (got == 0) || (tt.retried > 0 && got < tt.retried) {
				t.Errorf("documents_retried = %d, want %d", got, tt.retried)
			}
			if tt.check != nil {
				tt.check(t, srv, cfg, idList)
			}
		})
	}
}

func readDeadLetters(t *testing.T, path string) []deadletter.Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []deadletter.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e deadletter.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestRequestOutcomes(t *testing.T) {
	const n = 20
	tests := []struct {
		name      string
		opts      esbulktest.Options
		fault     *esbulktest.RequestFault
		mutate    func(cfg *Config)
		wantErr   string
		permanent bool
		stored    int
		minBulks  int64
		minTime   time.Duration
	}{
		{name: "413 splits the batch", opts: esbulktest.Options{MaxContentLength: 12 << 10}, stored: n, minBulks: 4},
		{name: "429 honours Retry-After", fault: &esbulktest.RequestFault{Path: "/_bulk", Status: 429, RetryAfter: "1", Times: 1}, stored: n, minBulks: 1, minTime: 900 * time.Millisecond},
		{name: "503 throttles and retries", fault: &esbulktest.RequestFault{Path: "/_bulk", Status: 503, Times: 2}, stored: n},
		{name: "500 retries", fault: &esbulktest.RequestFault{Path: "/_bulk", Status: 500, Times: 2}, stored: n},
		{name: "dropped connection retries", fault: &esbulktest.RequestFault{Path: "/_bulk", Drop: true, Times: 2}, stored: n},
		{name: "slow answer past the timeout retries", fault: &esbulktest.RequestFault{Path: "/_bulk", Delay: 400 * time.Millisecond, Times: 1}, mutate: func(c *Config) { c.ClientConfig.Timeout = 150 * time.Millisecond }, stored: n},
		// Refused credentials are the configuration, not the data: the
		// records wait for the fix (TestCredentialsRefused has the rest).
		{name: "401 keeps the records until the credentials work", fault: &esbulktest.RequestFault{Path: "/_bulk", Status: 401, Times: 2}, stored: n, minBulks: 1},
		{name: "403 keeps the records until the privilege is granted", fault: &esbulktest.RequestFault{Path: "/_bulk", Status: 403, Times: 2}, stored: n, minBulks: 1},
		{name: "a bad request is dead-lettered, not retried", fault: &esbulktest.RequestFault{Path: "/_bulk", Status: 400, Times: 1}, mutate: func(c *Config) { c.DeadLetter.Index = "" }, wantErr: "set dead_letter::path or dead_letter::index", permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.opts)
			cfg := testConfig(srv)
			if tt.mutate != nil {
				tt.mutate(cfg)
			}
			h := startExporter(t, cfg)
			if tt.fault != nil {
				srv.FailRequests(*tt.fault)
			}
			start := time.Now()
			err := h.exp.ConsumeLogs(context.Background(), records(t, 0, n))
			elapsed := time.Since(start)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ConsumeLogs: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ConsumeLogs error %v, want %q", err, tt.wantErr)
			}
			if tt.permanent && !consumererror.IsPermanent(err) {
				t.Errorf("error is not permanent: %v", err)
			}
			if got := srv.Count(); got != tt.stored {
				t.Errorf("stored %d, want %d", got, tt.stored)
			}
			if got := srv.Stats().BulkRequests; got < tt.minBulks {
				t.Errorf("%d bulk requests answered, want at least %d", got, tt.minBulks)
			}
			if elapsed < tt.minTime {
				t.Errorf("took %v, want at least %v", elapsed, tt.minTime)
			}
			if tt.permanent {
				if got := h.counter(t, "documents_failed"); got != n {
					t.Errorf("documents_failed = %d", got)
				}
				if got := srv.Stats().Faults; got != 1 {
					t.Errorf("a permanent failure was retried: %d bulk requests", got)
				}
			}
		})
	}
}

func TestOversizeDocumentDeadLettered(t *testing.T) {
	srv := startServer(t, esbulktest.Options{MaxContentLength: 600})
	cfg := testConfig(srv)
	cfg.DeadLetter.File.Path = filepath.Join(t.TempDir(), "dlq.jsonl")
	cfg.Bootstrap.Enabled = false // the templates alone are larger than 600 bytes
	h := startExporter(t, cfg)
	if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 2)); err != nil {
		t.Fatal(err)
	}
	entries := readDeadLetters(t, cfg.DeadLetter.File.Path)
	if len(entries) != 2 || entries[0].Status != 413 || !strings.Contains(entries[0].Reason, "http.max_content_length") {
		t.Fatalf("entries %+v", entries)
	}
}

func TestRoutingAndForeignRecords(t *testing.T) {
	srv := startServer(t, esbulktest.Options{})
	h := startExporter(t, testConfig(srv))
	ld := records(t, 0, 4)
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	lrs.At(0).Attributes().PutStr(mapping.AttrDataStreamDataset, "intune_connector.ndes02")
	lrs.At(1).Attributes().PutStr(mapping.AttrDataStreamNamespace, "lab")
	// A record from another receiver: no fingerprint.
	foreign := lrs.AppendEmpty()
	foreign.Body().SetStr("something else happened")
	foreign.SetTimestamp(1_700_000_000_000_000_000)
	for range 2 {
		if err := h.exp.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"logs-intune_connector.ndes02-default": 1, "logs-intune_connector.events-lab": 1, defaultStream: 3}
	for target, n := range want {
		docs := srv.Docs(target)
		if len(docs) != n {
			t.Errorf("%s holds %d documents, want %d", target, len(docs), n)
		}
		for _, d := range docs {
			var doc struct {
				DataStream struct{ Dataset, Namespace string } `json:"data_stream"`
			}
			_ = json.Unmarshal(d.Source, &doc)
			if "logs-"+doc.DataStream.Dataset+"-"+doc.DataStream.Namespace != target {
				t.Errorf("document in %s says data stream %+v", target, doc.DataStream)
			}
		}
	}
	// The foreign record has a content-derived _id: the resend was a
	// duplicate, not a second document.
	if got := h.counter(t, "documents_duplicate"); got != 5 {
		t.Errorf("duplicates %d, want 5", got)
	}
}

func TestIndexMode(t *testing.T) {
	srv := startServer(t, esbulktest.Options{})
	cfg := testConfig(srv)
	cfg.Index = "intune-events"
	h := startExporter(t, cfg)
	if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 5)); err != nil {
		t.Fatal(err)
	}
	docs := srv.Docs("intune-events")
	if len(docs) != 5 || bytes.Contains(docs[0].Source, []byte(`"data_stream"`)) {
		t.Fatalf("%d documents; first %s", len(docs), docs[0].Source)
	}
	var tpl map[string]any
	_ = json.Unmarshal(srv.IndexTemplate("logs-intune_connector"), &tpl)
	if _, ds := tpl["data_stream"]; ds || !slices.Equal(toStrings(tpl["index_patterns"]), []string{"intune-events"}) {
		t.Errorf("index template %v", tpl)
	}
	if srv.Policy("logs-intune_connector") != nil {
		t.Error("an ILM policy was installed for a plain index")
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestAuthenticationAndTLS(t *testing.T) {
	tests := []struct {
		name   string
		opts   esbulktest.Options
		tls    bool
		mutate func(c *Config, caFile string)
		wantOK bool
	}{
		{"api key encoded", esbulktest.Options{APIKey: "aWQ6a2V5"}, false, func(c *Config, _ string) { c.APIKey = "aWQ6a2V5" }, true},
		{"api key as id:key", esbulktest.Options{APIKey: "aWQ6a2V5"}, false, func(c *Config, _ string) { c.APIKey = "id:key" }, true},
		{"basic", esbulktest.Options{Username: "writer", Password: "pw"}, false, func(c *Config, _ string) { c.User, c.Password = "writer", "pw" }, true},
		{"bearer", esbulktest.Options{BearerToken: "svc-token"}, false, func(c *Config, _ string) { c.BearerToken = "svc-token" }, true},
		{"wrong key", esbulktest.Options{APIKey: "aWQ6a2V5"}, false, func(c *Config, _ string) { c.APIKey = "bm9wZQ==" }, false},
		{"tls with the CA", esbulktest.Options{}, true, func(c *Config, ca string) { c.ClientConfig.TLS.CAFile = ca }, true},
		{"tls without the CA", esbulktest.Options{}, true, func(*Config, string) {}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *esbulktest.Server
			if tt.tls {
				srv = esbulktest.StartTLS(tt.opts)
				t.Cleanup(srv.Close)
			} else {
				srv = startServer(t, tt.opts)
			}
			ca := filepath.Join(t.TempDir(), "ca.pem")
			if tt.tls {
				if err := os.WriteFile(ca, srv.CertificatePEM(), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg := testConfig(srv)
			cfg.BackOffConfig.MaxElapsedTime = 100 * time.Millisecond
			tt.mutate(cfg, ca)
			h, err := tryStart(t, cfg, testHost{})
			if err == nil {
				err = h.exp.ConsumeLogs(context.Background(), records(t, 0, 3))
			}
			if tt.wantOK != (err == nil) {
				t.Fatalf("error %v", err)
			}
			if tt.wantOK && srv.Count() != 3 {
				t.Errorf("stored %d", srv.Count())
			}
		})
	}
}

// A writer-only key may not read GET /; that must not stop it writing.
func TestVersionForbiddenIsNotFatal(t *testing.T) {
	srv := startServer(t, esbulktest.Options{})
	srv.FailRequests(esbulktest.RequestFault{Path: "/", Method: "GET", Status: 403, Times: 1})
	cfg := testConfig(srv)
	cfg.Bootstrap.Enabled = false
	h := startExporter(t, cfg)
	if err := h.exp.ConsumeLogs(context.Background(), records(t, 0, 3)); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 3 {
		t.Fatalf("stored %d", srv.Count())
	}
}

func TestNotElasticsearch(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":{"number":"8.19.0"}}`))
	}))
	t.Cleanup(other.Close)
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoints = []string{other.URL}
	_, err := tryStart(t, cfg, testHost{})
	if err == nil || !strings.Contains(err.Error(), "X-Elastic-Product") {
		t.Fatalf("start error %v, want the product check to name the header", err)
	}
}

func TestShutdownIsIdempotentAndNilSafe(t *testing.T) {
	var e *esExporter
	if err := e.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Never started.
	exp, err := NewFactory().CreateLogs(context.Background(), exporterSettings(), createDefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Started, then shut down twice.
	srv := startServer(t, esbulktest.Options{})
	e, err = newExporter(testConfig(srv), exporterSettings())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.start(context.Background(), testHost{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestParseBulkResponse(t *testing.T) {
	tests := []struct {
		name, body string
		n          int
		wantErr    bool
		statuses   []int
	}{
		{"no errors", `{"errors":false,"items":[{"create":{"status":201}}]}`, 1, false, nil},
		{"took first", `{"took":3,"errors":true,"items":[{"create":{"status":201}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"x"}}}]}`, 2, false, []int{201, 429}},
		{"count mismatch", `{"errors":true,"items":[{"create":{"status":201}}]}`, 2, true, nil},
		{"not json", `<html>`, 1, true, nil},
		{"no errors member", `{"items":[]}`, 0, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseBulkResponse([]byte(tt.body), tt.n)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			for i, s := range tt.statuses {
				if r.items[i].Status != s {
					t.Errorf("item %d status %d", i, r.items[i].Status)
				}
			}
		})
	}
}
