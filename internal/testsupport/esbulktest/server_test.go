package esbulktest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d %q is not a JSON object: %v", a.status, a.body, err)
	}
	return m
}

func do(t *testing.T, s *Server, method, path, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header, b}
}

func startServer(t *testing.T, o Options) *Server {
	t.Helper()
	s := Start(o)
	t.Cleanup(func() {
		s.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	return s
}

func TestProductCheckAndCompatibility(t *testing.T) {
	for _, version := range []string{"8.19.0", "9.1.0"} {
		t.Run(version, func(t *testing.T) {
			s := startServer(t, Options{Version: version})
			c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{s.URL()}, EnableCompatibilityMode: true, DisableRetry: true})
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Info()
			if err != nil {
				t.Fatalf("product check: %v", err)
			}
			defer res.Body.Close()
			var info struct {
				Version struct{ Number string } `json:"version"`
			}
			if err := json.NewDecoder(res.Body).Decode(&info); err != nil || info.Version.Number != version {
				t.Fatalf("info version %q, %v", info.Version.Number, err)
			}
			if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "compatible-with=8") {
				t.Errorf("content type %q does not answer in the compatible media type", ct)
			}
		})
	}
}

func TestCompatibleWith(t *testing.T) {
	tests := []struct {
		name, version, accept, ctype string
		want                         int
	}{
		{"plain json", "9.1.0", "application/json", "application/json", 200},
		{"8 on 9", "9.1.0", "application/vnd.elasticsearch+json;compatible-with=8", "application/vnd.elasticsearch+x-ndjson;compatible-with=8", 200},
		{"8 on 8", "8.19.0", "application/vnd.elasticsearch+json;compatible-with=8", "application/vnd.elasticsearch+json;compatible-with=8", 200},
		{"7 on 9", "9.1.0", "application/vnd.elasticsearch+json;compatible-with=7", "application/vnd.elasticsearch+json;compatible-with=7", 400},
		{"mismatch", "8.19.0", "application/vnd.elasticsearch+json;compatible-with=8", "application/json", 400},
		{"no version", "8.19.0", "application/vnd.elasticsearch+json", "application/vnd.elasticsearch+json", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Options{Version: tt.version})
			a := do(t, s, "POST", "/_bulk", `{"create":{"_index":"logs-a-default","_id":"1"}}`+"\n"+`{"@timestamp":"2026-01-01T00:00:00Z"}`+"\n",
				"Accept", tt.accept, "Content-Type", tt.ctype)
			if a.status != tt.want {
				t.Fatalf("status %d, want %d: %s", a.status, tt.want, a.body)
			}
			if a.header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Error("no X-Elastic-Product header")
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	o := Options{APIKey: "a2V5", Username: "elastic", Password: "changeme", BearerToken: "tok"}
	tests := []struct {
		name, auth string
		want       int
	}{
		{"none", "", 401},
		{"api key", "ApiKey a2V5", 200},
		{"wrong api key", "ApiKey bm9wZQ==", 401},
		{"basic", "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==", 200},
		{"wrong password", "Basic ZWxhc3RpYzpub3Bl", 401},
		{"bearer", "Bearer tok", 200},
		{"scheme in other case", "APIKey a2V5", 200},
	}
	s := startServer(t, o)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a answer
			if tt.auth == "" {
				a = do(t, s, "GET", "/", "")
			} else {
				a = do(t, s, "GET", "/", "", "Authorization", tt.auth)
			}
			if a.status != tt.want {
				t.Fatalf("status %d, want %d", a.status, tt.want)
			}
			if a.status == 401 && a.json(t)["error"].(map[string]any)["type"] != TypeSecurity {
				t.Errorf("401 body %s", a.body)
			}
		})
	}
}

const ts = `"@timestamp":"2026-03-02T09:15:00Z"`

func line(parts ...string) string { return strings.Join(parts, "\n") + "\n" }

type item struct {
	Index  string `json:"_index"`
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Result string `json:"result"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

type bulkAnswer struct {
	Errors bool                         `json:"errors"`
	Items  []map[string]json.RawMessage `json:"items"`
}

func parseBulkAnswer(t *testing.T, a answer) (bool, []item) {
	t.Helper()
	if a.status != 200 {
		t.Fatalf("bulk status %d: %s", a.status, a.body)
	}
	var r bulkAnswer
	if err := json.Unmarshal(a.body, &r); err != nil {
		t.Fatalf("%s: %v", a.body, err)
	}
	var out []item
	for _, m := range r.Items {
		for _, raw := range m {
			var it item
			if err := json.Unmarshal(raw, &it); err != nil {
				t.Fatal(err)
			}
			out = append(out, it)
		}
	}
	return r.Errors, out
}

func TestBulkItems(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(s *Server)
		path, body string
		errors     bool
		statuses   []int
		types      []string
		stored     int
	}{
		{
			name:     "create into a data stream",
			path:     "/_bulk",
			body:     line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`, `{"create":{"_index":"logs-a-default","_id":"2"}}`, `{`+ts+`}`),
			statuses: []int{201, 201},
			types:    []string{"", ""},
			stored:   2,
		},
		{
			name:     "duplicate create is a conflict",
			path:     "/_bulk",
			body:     line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`, `{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`,"x":1}`),
			errors:   true,
			statuses: []int{201, 409},
			types:    []string{"", TypeVersionConflict},
			stored:   1,
		},
		{
			name:     "index op into a data stream",
			path:     "/_bulk",
			body:     line(`{"index":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`),
			errors:   true,
			statuses: []int{400},
			types:    []string{"illegal_argument_exception"},
		},
		{
			name:     "data stream document without a timestamp",
			path:     "/_bulk",
			body:     line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{"message":"x"}`),
			errors:   true,
			statuses: []int{400},
			types:    []string{TypeDocumentParsing},
		},
		{
			name:     "source that is not an object",
			path:     "/_bulk",
			body:     line(`{"create":{"_index":"plain","_id":"1"}}`, `[1,2]`, `{"create":{"_index":"plain","_id":"2"}}`, `{"ok":true}`),
			errors:   true,
			statuses: []int{400, 201},
			types:    []string{TypeDocumentParsing, ""},
			stored:   1,
		},
		{
			name:     "index op into a plain index overwrites",
			path:     "/plain/_bulk",
			body:     line(`{"index":{"_id":"1"}}`, `{"v":1}`, `{"index":{"_id":"1"}}`, `{"v":2}`, `{"delete":{"_id":"1"}}`, `{"delete":{"_id":"1"}}`),
			errors:   false,
			statuses: []int{201, 200, 200, 404},
			types:    []string{"", "", "", ""},
		},
		{
			name:     "missing pipeline",
			path:     "/_bulk?pipeline=nope",
			body:     line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`),
			errors:   true,
			statuses: []int{400},
			types:    []string{"illegal_argument_exception"},
		},
		{
			name: "installed pipeline",
			setup: func(s *Server) {
				s.pipelines["p"] = json.RawMessage(`{"processors":[]}`)
			},
			path:     "/_bulk?pipeline=p",
			body:     line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`),
			statuses: []int{201},
			types:    []string{""},
			stored:   1,
		},
		{
			name:     "no target",
			path:     "/_bulk",
			body:     line(`{"create":{"_id":"1"}}`, `{}`),
			errors:   true,
			statuses: []int{400},
			types:    []string{"action_request_validation_exception"},
		},
		{
			name: "item faults by id, once",
			setup: func(s *Server) {
				s.FailItems(ItemFault{IDs: []string{"2"}, Status: 429, Times: 1})
				s.FailItems(ItemFault{IDs: []string{"3"}, Status: 400, Type: TypeMapperParsing})
			},
			path:     "/_bulk",
			body:     line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`, `{"create":{"_index":"logs-a-default","_id":"2"}}`, `{`+ts+`}`, `{"create":{"_index":"logs-a-default","_id":"3"}}`, `{`+ts+`}`, `{"create":{"_index":"logs-a-default","_id":"2"}}`, `{`+ts+`}`),
			errors:   true,
			statuses: []int{201, 429, 400, 201},
			types:    []string{"", TypeRejectedExecution, TypeMapperParsing, ""},
			stored:   2,
		},
		{
			name: "every second item",
			setup: func(s *Server) {
				s.FailItems(ItemFault{Every: 2, Status: 503})
			},
			path:     "/_bulk",
			body:     line(`{"create":{"_index":"i","_id":"1"}}`, `{}`, `{"create":{"_index":"i","_id":"2"}}`, `{}`, `{"create":{"_index":"i","_id":"3"}}`, `{}`, `{"create":{"_index":"i","_id":"4"}}`, `{}`),
			errors:   true,
			statuses: []int{201, 503, 201, 503},
			types:    []string{"", TypeUnavailableShards, "", TypeUnavailableShards},
			stored:   2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Options{})
			if tt.setup != nil {
				tt.setup(s)
			}
			errs, items := parseBulkAnswer(t, do(t, s, "POST", tt.path, tt.body))
			if errs != tt.errors {
				t.Errorf("errors = %v", errs)
			}
			if len(items) != len(tt.statuses) {
				t.Fatalf("%d items, want %d", len(items), len(tt.statuses))
			}
			for i, it := range items {
				typ := ""
				if it.Error != nil {
					typ = it.Error.Type
				}
				if it.Status != tt.statuses[i] || typ != tt.types[i] {
					t.Errorf("item %d: %d %q, want %d %q", i, it.Status, typ, tt.statuses[i], tt.types[i])
				}
			}
			if got := s.Count(); got != tt.stored {
				t.Errorf("stored %d, want %d", got, tt.stored)
			}
		})
	}
}

func TestBulkBackingIndexAndSources(t *testing.T) {
	s := startServer(t, Options{})
	_, items := parseBulkAnswer(t, do(t, s, "POST", "/_bulk", line(`{"create":{"_index":"logs-a-default","_id":"x"}}`, `{`+ts+`,"n":1}`)))
	if !strings.HasPrefix(items[0].Index, ".ds-logs-a-default-") {
		t.Errorf("_index %q is not a backing index", items[0].Index)
	}
	docs := s.Docs("logs-a-default")
	if len(docs) != 1 || docs[0].ID != "x" || !bytes.Contains(docs[0].Source, []byte(`"n":1`)) {
		t.Fatalf("stored %+v", docs)
	}
	if s.Attempts("x") != 1 {
		t.Errorf("attempts %d", s.Attempts("x"))
	}
}

func TestBulkWholeRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, typ string
	}{
		{"empty", "", "action_request_validation_exception"},
		{"no final newline", `{"create":{"_index":"i"}}` + "\n{}", "illegal_argument_exception"},
		{"malformed action", line(`nope`, `{}`), "x_content_parse_exception"},
		{"unknown action", line(`{"upsert":{"_index":"i"}}`, `{}`), "illegal_argument_exception"},
		{"two actions in a line", line(`{"create":{},"index":{}}`, `{}`), "illegal_argument_exception"},
		{"no source line", line(`{"create":{"_index":"i"}}`), "illegal_argument_exception"},
	}
	s := startServer(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, s, "POST", "/_bulk", tt.body)
			if a.status != 400 {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if got := a.json(t)["error"].(map[string]any)["type"]; got != tt.typ {
				t.Errorf("type %v, want %s", got, tt.typ)
			}
		})
	}
	if s.Count() != 0 {
		t.Error("a refused request stored documents")
	}
}

func TestBulkFilterPathAndGzip(t *testing.T) {
	s := startServer(t, Options{})
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`, `{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`)))
	_ = zw.Close()
	a := do(t, s, "POST", "/_bulk?filter_path=errors,items.*.status,items.*.error.type", zb.String(), "Content-Encoding", "gzip")
	want := `{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}}]}`
	if string(a.body) != want {
		t.Errorf("got  %s\nwant %s", a.body, want)
	}
}

func TestRequestFaults(t *testing.T) {
	body := line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`)
	tests := []struct {
		name       string
		fault      RequestFault
		status     int
		retryAfter string
	}{
		{"throttled", RequestFault{Path: "/_bulk", Status: 429, RetryAfter: "7", Times: 1}, 429, "7"},
		{"unavailable", RequestFault{Status: 503, RetryAfter: "1"}, 503, "1"},
		{"too large", RequestFault{Path: "/_bulk", Status: 413}, 413, ""},
		{"unauthorized", RequestFault{Status: 401}, 401, ""},
		{"forbidden", RequestFault{Path: "/_bulk", Status: 403}, 403, ""},
		{"other path unaffected", RequestFault{Path: "/_index_template", Status: 403}, 200, ""},
		{"delay then normal", RequestFault{Delay: 20 * time.Millisecond, Times: 1}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Options{})
			s.FailRequests(tt.fault)
			a := do(t, s, "POST", "/_bulk", body)
			if a.status != tt.status || a.header.Get("Retry-After") != tt.retryAfter {
				t.Fatalf("status %d Retry-After %q", a.status, a.header.Get("Retry-After"))
			}
			if a.header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Error("no product header on a fault answer")
			}
			if tt.status == 200 {
				parseBulkAnswer(t, a)
			}
		})
	}
}

func TestRequestFaultDrop(t *testing.T) {
	s := startServer(t, Options{})
	s.FailRequests(RequestFault{Path: "/_bulk", Drop: true, Times: 1})
	req, _ := http.NewRequest("POST", s.URL()+"/_bulk", strings.NewReader(line(`{"create":{"_index":"i","_id":"1"}}`, `{}`)))
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatal("a dropped connection answered")
	}
	parseBulkAnswer(t, do(t, s, "POST", "/_bulk", line(`{"create":{"_index":"i","_id":"1"}}`, `{}`)))
	if s.Count() != 1 {
		t.Error("the request after the dropped one was not stored")
	}
}

func TestTooLargeByLimit(t *testing.T) {
	s := startServer(t, Options{MaxContentLength: 64})
	a := do(t, s, "POST", "/_bulk", line(`{"create":{"_index":"i","_id":"1"}}`, `{"x":"`+strings.Repeat("y", 64)+`"}`))
	if a.status != 413 {
		t.Fatalf("status %d", a.status)
	}
}

func TestTemplatesPoliciesPipelines(t *testing.T) {
	s := startServer(t, Options{})
	steps := []struct {
		name, method, path, body string
		want                     int
	}{
		{"index template before its component", "PUT", "/_index_template/t", `{"index_patterns":["logs-x*-*"],"priority":200,"data_stream":{},"composed_of":["c"]}`, 400},
		{"component template", "PUT", "/_component_template/c", `{"template":{"mappings":{"properties":{"a":{"type":"keyword"}}}},"version":1}`, 200},
		{"component template without template", "PUT", "/_component_template/bad", `{"version":1}`, 400},
		{"same priority as logs-*-*", "PUT", "/_index_template/t", `{"index_patterns":["logs-x*-*"],"priority":100,"data_stream":{},"composed_of":["c"]}`, 400},
		{"index template", "PUT", "/_index_template/t", `{"index_patterns":["logs-x*-*"],"priority":200,"data_stream":{},"composed_of":["c"],"version":3}`, 200},
		{"create only, exists", "PUT", "/_index_template/t?create=true", `{"index_patterns":["logs-x*-*"],"priority":200}`, 400},
		{"get index template", "GET", "/_index_template/t", "", 200},
		{"get missing template", "GET", "/_index_template/none", "", 404},
		{"head component", "HEAD", "/_component_template/c", "", 200},
		{"policy without policy", "PUT", "/_ilm/policy/p", `{}`, 400},
		{"policy bad phase", "PUT", "/_ilm/policy/p", `{"policy":{"phases":{"lukewarm":{}}}}`, 400},
		{"policy", "PUT", "/_ilm/policy/p", `{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_age":"30d"}}}}}}`, 200},
		{"get policy", "GET", "/_ilm/policy/p", "", 200},
		{"get missing policy", "GET", "/_ilm/policy/q", "", 404},
		{"pipeline without processors", "PUT", "/_ingest/pipeline/pl", `{}`, 400},
		{"pipeline", "PUT", "/_ingest/pipeline/pl", `{"processors":[{"set":{"field":"a","value":"b"}}]}`, 200},
		{"get pipeline", "GET", "/_ingest/pipeline/pl", "", 200},
		{"get missing pipeline", "GET", "/_ingest/pipeline/none", "", 404},
		{"unknown endpoint", "GET", "/_cat/indices", "", 400},
	}
	for _, st := range steps {
		a := do(t, s, st.method, st.path, st.body, "Content-Type", "application/json")
		if a.status != st.want {
			t.Errorf("%s: status %d, want %d: %s", st.name, a.status, st.want, a.body)
		}
	}
	var got struct {
		IndexTemplates []struct {
			Name          string          `json:"name"`
			IndexTemplate json.RawMessage `json:"index_template"`
		} `json:"index_templates"`
	}
	if err := json.Unmarshal(do(t, s, "GET", "/_index_template/t", "").body, &got); err != nil || len(got.IndexTemplates) != 1 || !bytes.Contains(got.IndexTemplates[0].IndexTemplate, []byte(`"version":3`)) {
		t.Errorf("GET index template: %+v %v", got, err)
	}
	if s.Policy("p") == nil || s.Pipeline("pl") == nil || s.ComponentTemplate("c") == nil {
		t.Error("installed resources not readable")
	}
	// A template without data_stream at a higher priority makes a plain index.
	do(t, s, "PUT", "/_index_template/plain", `{"index_patterns":["logs-plain-*"],"priority":300}`)
	_, items := parseBulkAnswer(t, do(t, s, "POST", "/_bulk", line(`{"index":{"_index":"logs-plain-x","_id":"1"}}`, `{}`)))
	if items[0].Status != 201 {
		t.Errorf("index op into a plain index: %+v", items[0])
	}
}

func TestCountSearchGet(t *testing.T) {
	s := startServer(t, Options{})
	parseBulkAnswer(t, do(t, s, "POST", "/_bulk", line(
		`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`,
		`{"create":{"_index":"logs-b-default","_id":"2"}}`, `{`+ts+`}`,
		`{"create":{"_index":"plain","_id":"3"}}`, `{"v":3}`)))
	tests := []struct {
		name, method, path, body string
		key                      string
		want                     any
	}{
		{"count all logs", "GET", "/logs-*/_count", "", "count", 2.0},
		{"count ids", "POST", "/logs-*,plain/_count", `{"query":{"ids":{"values":["1","3","9"]}}}`, "count", 2.0},
		{"count one stream", "GET", "/logs-b-default/_count", "", "count", 1.0},
		{"get plain", "GET", "/plain/_doc/3", "", "found", true},
		{"get missing", "GET", "/plain/_doc/4", "", "found", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, s, tt.method, tt.path, tt.body, "Content-Type", "application/json")
			if got := a.json(t)[tt.key]; got != tt.want {
				t.Errorf("%s = %v, want %v (%s)", tt.key, got, tt.want, a.body)
			}
		})
	}
	a := do(t, s, "POST", "/logs-*/_search", `{"size":5,"query":{"ids":{"values":["2"]}}}`, "Content-Type", "application/json")
	hits := a.json(t)["hits"].(map[string]any)["hits"].([]any)
	if len(hits) != 1 || hits[0].(map[string]any)["_id"] != "2" {
		t.Errorf("search hits %v", hits)
	}
}

func TestAdminAPI(t *testing.T) {
	s := startServer(t, Options{})
	post := func(path, body string) {
		t.Helper()
		res, err := http.Post(s.URL()+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 204 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	post("/_esbulktest/faults/items", `{"ids":["1"],"status":429,"times":1}`)
	post("/_esbulktest/faults/requests", `{"path":"/_bulk","status":503,"retry_after":"2","times":1}`)
	body := line(`{"create":{"_index":"logs-a-default","_id":"1"}}`, `{`+ts+`}`)
	if a := do(t, s, "POST", "/_bulk", body); a.status != 503 {
		t.Fatalf("request fault: %d", a.status)
	}
	if _, items := parseBulkAnswer(t, do(t, s, "POST", "/_bulk", body)); items[0].Status != 429 {
		t.Fatalf("item fault: %+v", items[0])
	}
	if _, items := parseBulkAnswer(t, do(t, s, "POST", "/_bulk", body)); items[0].Status != 201 {
		t.Fatalf("after the faults: %+v", items[0])
	}
	var st Stats
	if err := json.Unmarshal(do(t, s, "GET", "/_esbulktest/stats", "").body, &st); err != nil || st.Created != 1 || st.Faults != 2 {
		t.Errorf("stats %+v %v", st, err)
	}
	docs := do(t, s, "GET", "/_esbulktest/docs/logs-a-default", "")
	var d Doc
	if err := json.Unmarshal(bytes.TrimSpace(docs.body), &d); err != nil || d.ID != "1" {
		t.Errorf("docs %s: %v", docs.body, err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), "DELETE", s.URL()+"/_esbulktest/faults", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 {
		t.Errorf("clear faults: %d", res.StatusCode)
	}
}

func TestGlobs(t *testing.T) {
	tests := []struct {
		a, b           string
		match, overlap bool
	}{
		{"logs-*-*", "logs-intune_connector.events-default", true, true},
		{"logs-intune_connector*-*", "logs-intune_connector.events-default", true, true},
		{"logs-*", "metrics-a-b", false, false},
		{"a*c", "abc", true, true},
		{"a*c", "abd", false, false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.a, tt.b); got != tt.match {
			t.Errorf("globMatch(%q, %q) = %v", tt.a, tt.b, got)
		}
		if got := globsOverlap(tt.a, tt.b); got != tt.overlap {
			t.Errorf("globsOverlap(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
	overlaps := []struct {
		a, b string
		want bool
	}{
		{"logs-*-*", "logs-intune_connector*-*", true},
		{"logs-*-*", "metrics-*-*", false},
		{"a*", "*b", true},
		{"ab*", "ac*", false},
	}
	for _, tt := range overlaps {
		if got := globsOverlap(tt.a, tt.b); got != tt.want {
			t.Errorf("globsOverlap(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func FuzzParseBulk(f *testing.F) {
	f.Add([]byte(line(`{"create":{"_index":"i","_id":"1"}}`, `{"a":1}`)))
	f.Add([]byte(line(`{"delete":{"_index":"i","_id":"1"}}`, `{"index":{}}`, `[]`)))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := ParseBulk(body, "d", "")
		if err != nil {
			if items != nil && len(items) > 0 {
				t.Fatal("items with an error")
			}
			return
		}
		for _, it := range items {
			if it.Op != "delete" && it.Source == nil {
				t.Fatalf("%s item without a source", it.Op)
			}
			if bytes.IndexByte(it.Source, '\n') >= 0 {
				t.Fatal("a source spans lines")
			}
		}
	})
}

// The fast action-line reader agrees with encoding/json wherever it answers.
func FuzzFastAction(f *testing.F) {
	for _, s := range []string{
		`{"create":{"_index":"logs-a-default","_id":"0660630b96dff1a6297c45bcc047f3cc"}}`,
		`{"index":{"_id":"1","pipeline":"p"}}`,
		`{"delete":{"_index":"i","_id":"1","_index":"j"}}`,
		`{"create":{}}`,
		`{"create":{"_index":"a\"b"}}`,
		`{"upsert":{"_index":"i"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, l []byte) {
		op, meta, ok := fastAction(l)
		if !ok {
			return
		}
		sop, smeta, err := slowAction(l, 1)
		if err != nil {
			t.Fatalf("fast path read %q, encoding/json refuses it: %v", l, err)
		}
		if op != sop || meta != smeta {
			t.Fatalf("%q: fast %s %+v, slow %s %+v", l, op, meta, sop, smeta)
		}
	})
}
