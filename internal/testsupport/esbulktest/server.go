// Package esbulktest is an Elasticsearch stand-in for tests: the parts of the
// REST API an exporter uses (root info with the product header, _bulk with
// per-item results, index and component templates, ILM policies, ingest
// pipelines, and _refresh/_count/_search/_doc to read back), written from the
// Elasticsearch REST specification, with faults that can be injected for
// every failure an exporter has to handle.
//
// It stores documents by target and _id, as Elasticsearch does, so a create
// that repeats an _id gets 409, and tests can assert that every document
// arrived exactly once.
//
// What it does not do: search beyond ids and match_all, mappings (documents
// are checked to be JSON objects, not against the templates), updates,
// scripts, security beyond one set of credentials, clustering.
//
// With Options.Serverless it answers as an Elastic Cloud Serverless project
// does where an exporter's bootstrap can tell (serverless.go).
//
// Tests start it in-process with Start; cmd/esbulkserver runs it as a
// program for a built collector, with the faults under /_esbulktest/.
package esbulktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/klauspost/compress/gzip"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value is a version 8 cluster
// without security.
type Options struct {
	// Version is the version GET / reports, e.g. "8.19.0" or "9.1.0". Its
	// major decides which compatible-with versions are accepted.
	Version string
	// Credentials: when any is set, every request must carry one of them.
	// APIKey is the encoded key, as sent after "ApiKey ".
	APIKey      string
	Username    string
	Password    string
	BearerToken string
	// MaxContentLength is http.max_content_length: a larger (decompressed)
	// request gets 413. 0 means 100 MiB, the Elasticsearch default.
	MaxContentLength int64
	// DiscardSources keeps only the _ids of stored documents, for
	// benchmarks that send more than memory should hold.
	DiscardSources bool
	// TrustSources skips the full JSON check of each document (only its
	// braces are looked at), so a benchmark measures the client rather
	// than this server's validation. Tests leave it off.
	TrustSources bool
	// Serverless answers as an Elastic Cloud Serverless project does
	// (see serverless.go): no ILM, build_flavor "serverless".
	Serverless bool
}

// Server is the stand-in. It is an http.Handler; Start serves it.
type Server struct {
	opts  Options
	major int

	mu          sync.Mutex
	targets     map[string]*target // data stream or index name -> documents
	indexTpls   map[string]json.RawMessage
	compTpls    map[string]json.RawMessage
	policies    map[string]json.RawMessage
	policyVers  map[string]int
	pipelines   map[string]json.RawMessage
	itemFaults  []*ItemFault
	reqFaults   []*RequestFault
	itemsSeen   int64
	stats       Stats
	attempts    map[string]int // _id -> write actions seen
	autoID      int64
	seqNo       int64
	requestLog  []Request
	keepLog     bool
	httpServer  *httptest.Server
	closeOnce   sync.Once
	createdDate string
}

// Stats counts what the server saw.
type Stats struct {
	Requests     int64 `json:"requests"`
	BulkRequests int64 `json:"bulk_requests"`
	Items        int64 `json:"items"`
	Created      int64 `json:"created"`
	Updated      int64 `json:"updated"`
	Deleted      int64 `json:"deleted"`
	Conflicts    int64 `json:"conflicts"`
	ItemErrors   int64 `json:"item_errors"`
	Faults       int64 `json:"faults"`
	BytesIn      int64 `json:"bytes_in"`
}

// Request is what a request to the server looked like, for tests that
// assert headers or parameters.
type Request struct {
	Method, Path, Query string
	Header              http.Header
}

type target struct {
	dataStream bool
	docs       map[string]*Doc
	order      []string
}

// Doc is a stored document.
type Doc struct {
	Target   string          `json:"target"`
	ID       string          `json:"_id"`
	Pipeline string          `json:"pipeline,omitempty"`
	Source   json.RawMessage `json:"_source,omitempty"`
	Version  int             `json:"_version"`
}

// New returns a Server for use as an http.Handler.
func New(opts Options) *Server {
	if opts.Version == "" {
		opts.Version = "8.19.0"
		if opts.Serverless {
			opts.Version = serverlessVersion
		}
	}
	if opts.MaxContentLength == 0 {
		opts.MaxContentLength = 100 << 20
	}
	major, _ := strconv.Atoi(strings.SplitN(opts.Version, ".", 2)[0])
	return &Server{
		opts:        opts,
		major:       major,
		targets:     map[string]*target{},
		indexTpls:   map[string]json.RawMessage{},
		compTpls:    map[string]json.RawMessage{},
		policies:    map[string]json.RawMessage{},
		policyVers:  map[string]int{},
		pipelines:   map[string]json.RawMessage{},
		attempts:    map[string]int{},
		createdDate: time.Now().UTC().Format("2006.01.02"),
	}
}

// Start serves a new Server on a loopback port until Close.
func Start(opts Options) *Server {
	s := New(opts)
	s.httpServer = httptest.NewServer(s)
	return s
}

// StartTLS is Start over TLS with a certificate for 127.0.0.1; Certificate
// returns it for the client's trust store.
func StartTLS(opts Options) *Server {
	s := New(opts)
	s.httpServer = httptest.NewUnstartedServer(s)
	// Clients that do not trust the certificate are a tested case, not
	// news for the log.
	s.httpServer.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.httpServer.StartTLS()
	return s
}

// URL is the base URL of a started server.
func (s *Server) URL() string { return s.httpServer.URL }

// CertificatePEM is the PEM certificate of a StartTLS server.
func (s *Server) CertificatePEM() []byte {
	return pemCert(s.httpServer.Certificate().Raw)
}

// Close stops a started server and closes its connections.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.httpServer != nil {
			s.httpServer.CloseClientConnections()
			s.httpServer.Close()
		}
	})
}

// RecordRequests turns on the request log that Requests returns.
func (s *Server) RecordRequests() {
	s.mu.Lock()
	s.keepLog = true
	s.mu.Unlock()
}

// Requests returns the requests seen since RecordRequests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requestLog...)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Attempts is how many write actions carried id, over all targets.
func (s *Server) Attempts(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[id]
}

// Docs returns the stored documents of a target (a data stream or index
// name), in the order they were stored.
func (s *Server) Docs(name string) []Doc {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[name]
	if t == nil {
		return nil
	}
	out := make([]Doc, 0, len(t.order))
	for _, id := range t.order {
		if d, ok := t.docs[id]; ok {
			out = append(out, *d)
		}
	}
	return out
}

// Count is the number of stored documents over all targets.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.targets {
		n += len(t.docs)
	}
	return n
}

// Targets lists the names that hold documents.
func (s *Server) Targets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, t := range s.targets {
		if len(t.docs) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// IndexTemplate, ComponentTemplate, Policy and Pipeline return what was
// installed under a name, or nil.
func (s *Server) IndexTemplate(name string) json.RawMessage { return s.get(s.indexTpls, name) }

// ComponentTemplate returns an installed component template.
func (s *Server) ComponentTemplate(name string) json.RawMessage { return s.get(s.compTpls, name) }

// Policy returns an installed ILM policy body.
func (s *Server) Policy(name string) json.RawMessage { return s.get(s.policies, name) }

// Pipeline returns an installed ingest pipeline.
func (s *Server) Pipeline(name string) json.RawMessage { return s.get(s.pipelines, name) }

func (s *Server) get(m map[string]json.RawMessage, name string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return m[name]
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	if s.keepLog {
		s.requestLog = append(s.requestLog, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()})
	}
	s.mu.Unlock()

	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	if s.requestFault(w, r) {
		return
	}
	// Elasticsearch names itself on every answer, errors included.
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8", ApiKey, Bearer realm="security"`)
		writeError(w, http.StatusUnauthorized, "security_exception", "missing authentication credentials for REST request ["+r.URL.Path+"]")
		return
	}
	compat, err := s.compatibleWith(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "media_type_header_exception", err.Error())
		return
	}
	if compat != 0 {
		w.Header().Set("Content-Type", "application/vnd.elasticsearch+json;compatible-with="+strconv.Itoa(compat))
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	buf := bodyBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 128<<20 {
			bodyBufs.Put(buf)
		}
	}()
	body, status := s.readBody(r, buf)
	if status != 0 {
		if status == http.StatusRequestEntityTooLarge {
			w.WriteHeader(status)
			return
		}
		writeError(w, status, "parse_exception", "request body could not be read")
		return
	}
	s.route(w, r, body)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	parts := splitPath(r.URL.Path)
	if s.serverlessUnavailable(w, r, parts) {
		return
	}
	switch {
	case len(parts) == 0:
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			s.serveInfo(w, r)
			return
		}
	case parts[0] == "_bulk" && len(parts) == 1:
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			s.serveBulk(w, r, "", body)
			return
		}
	case len(parts) == 2 && parts[1] == "_bulk":
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			s.serveBulk(w, r, parts[0], body)
			return
		}
	case parts[0] == "_index_template" && len(parts) == 2:
		s.serveIndexTemplate(w, r, parts[1], body)
		return
	case parts[0] == "_component_template" && len(parts) == 2:
		s.serveComponentTemplate(w, r, parts[1], body)
		return
	case parts[0] == "_ilm" && len(parts) == 3 && parts[1] == "policy":
		s.servePolicy(w, r, parts[2], body)
		return
	case parts[0] == "_ingest" && len(parts) == 3 && parts[1] == "pipeline":
		s.servePipeline(w, r, parts[2], body)
		return
	case len(parts) == 2 && parts[1] == "_refresh":
		writeJSON(w, http.StatusOK, map[string]any{"_shards": map[string]int{"total": 1, "successful": 1, "failed": 0}})
		return
	case len(parts) == 2 && parts[1] == "_count":
		s.serveCount(w, parts[0], body)
		return
	case len(parts) == 2 && parts[1] == "_search":
		s.serveSearch(w, parts[0], body)
		return
	case len(parts) == 3 && parts[1] == "_doc" && r.Method == http.MethodGet:
		s.serveGetDoc(w, parts[0], parts[2])
		return
	}
	writeError(w, http.StatusBadRequest, "illegal_argument_exception",
		fmt.Sprintf("no handler found for uri [%s] and method [%s] in the test server", r.URL.Path, r.Method))
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	flavor := "default"
	if s.opts.Serverless {
		flavor = "serverless"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":         "esbulktest",
		"cluster_name": "esbulktest",
		"cluster_uuid": "esbulktest-0000000000000",
		"version": map[string]any{
			"number":                              s.opts.Version,
			"build_flavor":                        flavor,
			"build_type":                          "docker",
			"lucene_version":                      "",
			"minimum_wire_compatibility_version":  strconv.Itoa(s.major-1) + ".18.0",
			"minimum_index_compatibility_version": strconv.Itoa(s.major-1) + ".0.0",
		},
		"tagline": "You Know, for Search",
	})
}

func (s *Server) authorized(r *http.Request) bool {
	o := s.opts
	if o.APIKey == "" && o.Username == "" && o.BearerToken == "" {
		return true
	}
	// Authentication schemes are case-insensitive (RFC 9110); clients
	// send both "ApiKey" and "APIKey".
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch strings.ToLower(scheme) {
	case "apikey":
		return o.APIKey != "" && cred == o.APIKey
	case "bearer":
		return o.BearerToken != "" && cred == o.BearerToken
	}
	if u, p, ok := r.BasicAuth(); ok && o.Username != "" {
		return u == o.Username && p == o.Password
	}
	return false
}

// compatibleWith checks the REST compatibility media types: a request that
// asks for compatible-with=N in Accept or Content-Type must ask for the same
// N in both (when it has a body), and N must be this major or the one
// before.
func (s *Server) compatibleWith(r *http.Request) (int, error) {
	accept, aerr := compatVersion(r.Header.Get("Accept"))
	ctype, cerr := compatVersion(r.Header.Get("Content-Type"))
	if aerr != nil {
		return 0, aerr
	}
	if cerr != nil {
		return 0, cerr
	}
	hasBody := r.ContentLength != 0 && r.Method != http.MethodGet && r.Method != http.MethodHead
	if accept == 0 && ctype == 0 {
		return 0, nil
	}
	if hasBody && accept != ctype {
		return 0, fmt.Errorf("A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version. Accept=%s, Content-Type=%s",
			r.Header.Get("Accept"), r.Header.Get("Content-Type"))
	}
	v := max(accept, ctype)
	if v != s.major && v != s.major-1 {
		return 0, fmt.Errorf("Content-Type version must be either version %d or %d, but found %d", s.major-1, s.major, v)
	}
	return v, nil
}

func compatVersion(h string) (int, error) {
	if !strings.Contains(h, "vnd.elasticsearch+") {
		return 0, nil
	}
	_, v, ok := strings.Cut(h, "compatible-with=")
	if !ok {
		return 0, fmt.Errorf("Invalid media-type value on headers [%s]", h)
	}
	v = strings.TrimSpace(strings.SplitN(v, ";", 2)[0])
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("Invalid media-type value on headers [%s]", h)
	}
	return n, nil
}

// bodyBufs keeps request buffers between requests; handlers copy what
// they keep.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody returns the decompressed body, read into buf, or 413 when it is
// longer than http.max_content_length.
func (s *Server) readBody(r *http.Request, buf *bytes.Buffer) ([]byte, int) {
	if r.Body == nil {
		return nil, 0
	}
	limit := s.opts.MaxContentLength
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge
	}
	var rd io.Reader = r.Body
	switch strings.ToLower(r.Header.Get("Content-Encoding")) {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, http.StatusBadRequest
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, http.StatusBadRequest
	}
	buf.Reset()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(rd, limit+1)); err != nil {
		return nil, http.StatusBadRequest
	}
	body := buf.Bytes()
	if int64(len(body)) > limit {
		return nil, http.StatusRequestEntityTooLarge
	}
	s.mu.Lock()
	s.stats.BytesIn += int64(len(body))
	s.mu.Unlock()
	return body, 0
}

// writeError writes an Elasticsearch error body.
func writeError(w http.ResponseWriter, status int, typ, reason string) {
	cause := map[string]any{"type": typ, "reason": reason}
	writeJSON(w, status, map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason},
		"status": status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"test server could not encode its answer"}`)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
