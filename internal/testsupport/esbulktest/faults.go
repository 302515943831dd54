package esbulktest

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Error types Elasticsearch reports for the failures the faults imitate.
const (
	TypeRejectedExecution = "es_rejected_execution_exception"
	TypeDocumentParsing   = "document_parsing_exception"
	TypeMapperParsing     = "mapper_parsing_exception"
	TypeVersionConflict   = "version_conflict_engine_exception"
	TypeUnavailableShards = "unavailable_shards_exception"
	TypeCircuitBreaking   = "circuit_breaking_exception"
	TypeSecurity          = "security_exception"
)

// ItemFault fails matching bulk items with Status and an error of Type.
// Items are matched by IDs, by Every (every n-th write item the server sees
// after the fault was added), by Match, or at random by Fraction; with none
// of them, every item.
type ItemFault struct {
	IDs    []string `json:"ids,omitempty"`
	Every  int      `json:"every,omitempty"`
	Status int      `json:"status"`
	Type   string   `json:"type,omitempty"`
	Reason string   `json:"reason,omitempty"`
	// Times is how many items it fails before it stops; 0 is no limit.
	Times int `json:"times,omitempty"`
	// Match selects items by their action and source (in-process only).
	Match func(Item) bool `json:"-"`
	// Fraction fails this share (0 to 1) of the items the other fields
	// match, picked at random from Seed, so a run can be repeated. A resent
	// item is drawn again, as a real cluster's rejections are.
	Fraction float64 `json:"fraction,omitempty"`
	Seed     uint64  `json:"seed,omitempty"`

	seen, fired int
	rng         *rand.Rand
}

// Item is one bulk write action as the server read it.
type Item struct {
	Op, Target, ID string
	Source         []byte
}

// RequestFault answers whole requests whose path starts with Path (all
// requests when empty) and, if set, whose method is Method.
type RequestFault struct {
	Path   string `json:"path,omitempty"`
	Method string `json:"method,omitempty"`
	// Status and, for 429/503, RetryAfter (seconds or an HTTP date).
	Status     int    `json:"status,omitempty"`
	RetryAfter string `json:"retry_after,omitempty"`
	// Type of the error body; a default per status when empty.
	Type string `json:"type,omitempty"`
	// Drop closes the connection without an answer.
	Drop bool `json:"drop,omitempty"`
	// Delay holds the answer back this long (a fault of its own with no
	// Status or Drop: the request then proceeds normally).
	Delay time.Duration `json:"delay,omitempty"`
	// Times is how many requests it answers before it stops; 0 is no limit.
	Times int `json:"times,omitempty"`
	// Fraction answers this share (0 to 1) of the matching requests,
	// picked at random from Seed; 0 answers all of them.
	Fraction float64 `json:"fraction,omitempty"`
	Seed     uint64  `json:"seed,omitempty"`

	fired int
	rng   *rand.Rand
}

// draw reports whether a fault with this fraction fires, creating its
// generator on first use. The server's lock is held.
func draw(rng **rand.Rand, fraction float64, seed uint64) bool {
	if fraction <= 0 {
		return true
	}
	if *rng == nil {
		*rng = rand.New(rand.NewPCG(seed, 0x5eed))
	}
	return (*rng).Float64() < fraction
}

// FailItems adds an item fault.
func (s *Server) FailItems(f ItemFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.itemFaults = append(s.itemFaults, &f)
}

// FailRequests adds a request fault.
func (s *Server) FailRequests(f RequestFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqFaults = append(s.reqFaults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.itemFaults, s.reqFaults = nil, nil
}

// itemFault returns the fault for an item, if one fires. s.mu is held.
func (s *Server) itemFault(it Item) *ItemFault {
	for _, f := range s.itemFaults {
		if f.Times > 0 && f.fired >= f.Times {
			continue
		}
		f.seen++
		switch {
		case len(f.IDs) > 0 && !slices.Contains(f.IDs, it.ID):
			continue
		case f.Every > 0 && f.seen%f.Every != 0:
			continue
		case f.Match != nil && !f.Match(it):
			continue
		case !draw(&f.rng, f.Fraction, f.Seed):
			continue
		}
		f.fired++
		s.stats.Faults++
		return f
	}
	return nil
}

// requestFault answers the request if a fault applies and reports whether
// it did.
func (s *Server) requestFault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	var f *RequestFault
	for _, c := range s.reqFaults {
		if c.Times > 0 && c.fired >= c.Times {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, c.Path) || (c.Method != "" && c.Method != r.Method) {
			continue
		}
		if !draw(&c.rng, c.Fraction, c.Seed) {
			continue
		}
		c.fired++
		s.stats.Faults++
		f = c
		break
	}
	var fault RequestFault
	if f != nil {
		fault = *f
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	if fault.Drop {
		// Take what the client sent, then hang up without a word, as a
		// node that dies mid-request does.
		_, _ = io.Copy(io.Discard, r.Body)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	if fault.Status == 0 {
		return false
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if fault.RetryAfter != "" {
		w.Header().Set("Retry-After", fault.RetryAfter)
	}
	typ, reason := fault.Type, ""
	switch fault.Status {
	case http.StatusRequestEntityTooLarge:
		// Elasticsearch answers an oversize request with no body.
		w.WriteHeader(fault.Status)
		return true
	case http.StatusUnauthorized:
		typ, reason = or(typ, TypeSecurity), "unable to authenticate user for REST request ["+r.URL.Path+"]"
	case http.StatusForbidden:
		typ, reason = or(typ, TypeSecurity), "action ["+actionName(r)+"] is unauthorized for API key id [test] of user [test]"
	case http.StatusTooManyRequests:
		typ, reason = or(typ, TypeRejectedExecution), "rejected execution of coordinating operation"
	case http.StatusServiceUnavailable:
		typ, reason = or(typ, "cluster_block_exception"), "blocked by: [SERVICE_UNAVAILABLE/2/no master];"
	default:
		typ, reason = or(typ, "exception"), "injected fault"
	}
	writeError(w, fault.Status, typ, reason)
	return true
}

func actionName(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.Contains(p, "_bulk"):
		return "indices:data/write/bulk"
	case strings.HasPrefix(p, "/_index_template"):
		return "indices:admin/index_template/put"
	case strings.HasPrefix(p, "/_component_template"):
		return "cluster:admin/component_template/put"
	case strings.HasPrefix(p, "/_ilm"):
		return "cluster:admin/ilm/put"
	case strings.HasPrefix(p, "/_ingest"):
		return "cluster:admin/ingest/pipeline/put"
	}
	return "cluster:monitor/main"
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// The admin API lets a test drive a server in another process.
//
//	POST   /_esbulktest/faults/items     an ItemFault as JSON
//	POST   /_esbulktest/faults/requests  a RequestFault as JSON (delay in ns)
//	DELETE /_esbulktest/faults           remove every fault
//	GET    /_esbulktest/stats            Stats
//	GET    /_esbulktest/docs/{target}    the stored documents as JSON lines
const adminPrefix = "/_esbulktest/"

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, adminPrefix)
	switch {
	case p == "faults/items" && r.Method == http.MethodPost:
		var f ItemFault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil || f.Status == 0 {
			http.Error(w, "want an item fault with a status, as JSON", http.StatusBadRequest)
			return
		}
		s.FailItems(f)
	case p == "faults/requests" && r.Method == http.MethodPost:
		var f RequestFault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil || (f.Status == 0 && !f.Drop && f.Delay == 0) {
			http.Error(w, "want a request fault with a status, drop or delay, as JSON", http.StatusBadRequest)
			return
		}
		s.FailRequests(f)
	case p == "faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
	case p == "stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
		return
	case strings.HasPrefix(p, "docs/") && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, d := range s.Docs(strings.TrimPrefix(p, "docs/")) {
			_ = enc.Encode(d)
		}
		return
	default:
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
