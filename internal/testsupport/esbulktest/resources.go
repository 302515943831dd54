package esbulktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// builtinLogs is the index template every Elasticsearch 8 and 9 cluster
// ships: logs-*-* are data streams unless a template of higher priority
// says otherwise, and no template may share its patterns at its priority.
var builtinLogs = indexTemplate{Name: "logs", Patterns: []string{"logs-*-*"}, Priority: 100, DataStream: true}

type indexTemplate struct {
	Name       string
	Patterns   []string
	Priority   int
	DataStream bool
}

func parseIndexTemplate(name string, body []byte) (indexTemplate, error) {
	var t struct {
		IndexPatterns json.RawMessage  `json:"index_patterns"`
		Priority      *int             `json:"priority"`
		DataStream    *json.RawMessage `json:"data_stream"`
		ComposedOf    []string         `json:"composed_of"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return indexTemplate{}, fmt.Errorf("failed to parse the index template: %v", err)
	}
	it := indexTemplate{Name: name, DataStream: t.DataStream != nil}
	if t.Priority != nil {
		it.Priority = *t.Priority
	}
	// index_patterns is a string or a list of strings.
	var one string
	if json.Unmarshal(t.IndexPatterns, &one) == nil && one != "" {
		it.Patterns = []string{one}
	} else if json.Unmarshal(t.IndexPatterns, &it.Patterns) != nil || len(it.Patterns) == 0 {
		return indexTemplate{}, fmt.Errorf("Validation Failed: 1: index patterns are missing;")
	}
	return it, nil
}

// isDataStream tells whether writes to name go to a data stream: the
// matching template with the highest priority decides. s.mu is held.
func (s *Server) isDataStream(name string) bool {
	if t := s.targets[name]; t != nil {
		return t.dataStream
	}
	best, found := indexTemplate{}, false
	for _, t := range s.allIndexTemplates() {
		for _, p := range t.Patterns {
			if globMatch(p, name) && (!found || t.Priority > best.Priority) {
				best, found = t, true
			}
		}
	}
	return found && best.DataStream
}

// allIndexTemplates returns the installed templates and the built-in one,
// unless a template of the same name replaced it. s.mu is held.
func (s *Server) allIndexTemplates() []indexTemplate {
	var out []indexTemplate
	if _, ok := s.indexTpls[builtinLogs.Name]; !ok {
		out = append(out, builtinLogs)
	}
	for name, body := range s.indexTpls {
		if t, err := parseIndexTemplate(name, body); err == nil {
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) serveIndexTemplate(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		t, err := parseIndexTemplate(name, body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "action_request_validation_exception", err.Error())
			return
		}
		if s.serverlessRefusesSettings(w, body) {
			return
		}
		var composed struct {
			ComposedOf []string `json:"composed_of"`
		}
		_ = json.Unmarshal(body, &composed)
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, exists := s.indexTpls[name]; exists && r.URL.Query().Get("create") == "true" {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "index template ["+name+"] already exists")
			return
		}
		var missing []string
		for _, c := range composed.ComposedOf {
			if s.compTpls[c] == nil {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			writeError(w, http.StatusBadRequest, "invalid_index_template_exception",
				fmt.Sprintf("index_template [%s] invalid, cause [index template [%s] specifies component templates %v that do not exist]", name, name, missing))
			return
		}
		for _, o := range s.allIndexTemplates() {
			if o.Name == name || o.Priority != t.Priority {
				continue
			}
			for _, p := range t.Patterns {
				for _, q := range o.Patterns {
					if globsOverlap(p, q) {
						writeError(w, http.StatusBadRequest, "illegal_argument_exception",
							fmt.Sprintf("index template [%s] has index patterns %v matching patterns from existing templates [%s] with patterns (%s => %v) that have the same priority [%d], multiple index templates may not match during index creation, please use a different priority",
								name, t.Patterns, o.Name, o.Name, o.Patterns, t.Priority))
						return
					}
				}
			}
		}
		s.indexTpls[name] = append(json.RawMessage(nil), body...)
		writeJSON(w, http.StatusOK, map[string]bool{"acknowledged": true})
	case http.MethodGet, http.MethodHead:
		s.getNamed(w, r, s.indexTpls, name, "index_templates", "index_template", "index template matching [%s] not found")
	case http.MethodDelete:
		s.deleteNamed(w, s.indexTpls, name, "index_template matching [%s] not found")
	default:
		writeError(w, http.StatusMethodNotAllowed, "illegal_argument_exception", "method not allowed")
	}
}

func (s *Server) serveComponentTemplate(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		var t struct {
			Template *json.RawMessage `json:"template"`
		}
		if err := json.Unmarshal(body, &t); err != nil || t.Template == nil {
			writeError(w, http.StatusBadRequest, "x_content_parse_exception", "[component_template] required field [template] is missing")
			return
		}
		if s.serverlessRefusesSettings(w, body) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, exists := s.compTpls[name]; exists && r.URL.Query().Get("create") == "true" {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "component template ["+name+"] already exists")
			return
		}
		s.compTpls[name] = append(json.RawMessage(nil), body...)
		writeJSON(w, http.StatusOK, map[string]bool{"acknowledged": true})
	case http.MethodGet, http.MethodHead:
		s.getNamed(w, r, s.compTpls, name, "component_templates", "component_template", "component template matching [%s] not found")
	case http.MethodDelete:
		s.deleteNamed(w, s.compTpls, name, "component template matching [%s] not found")
	default:
		writeError(w, http.StatusMethodNotAllowed, "illegal_argument_exception", "method not allowed")
	}
}

func (s *Server) getNamed(w http.ResponseWriter, r *http.Request, m map[string]json.RawMessage, name, listKey, itemKey, notFound string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range m {
		if globMatch(name, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeError(w, http.StatusNotFound, "resource_not_found_exception", fmt.Sprintf(notFound, name))
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	sort.Strings(names)
	list := make([]map[string]any, 0, len(names))
	for _, n := range names {
		list = append(list, map[string]any{"name": n, itemKey: m[n]})
	}
	writeJSON(w, http.StatusOK, map[string]any{listKey: list})
}

func (s *Server) deleteNamed(w http.ResponseWriter, m map[string]json.RawMessage, name, notFound string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := m[name]; !ok {
		writeError(w, http.StatusNotFound, "resource_not_found_exception", fmt.Sprintf(notFound, name))
		return
	}
	delete(m, name)
	writeJSON(w, http.StatusOK, map[string]bool{"acknowledged": true})
}

func (s *Server) servePolicy(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	switch r.Method {
	case http.MethodPut:
		var p struct {
			Policy *struct {
				Phases map[string]json.RawMessage `json:"phases"`
			} `json:"policy"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Policy == nil {
			writeError(w, http.StatusBadRequest, "x_content_parse_exception", "[put_lifecycle_request] required field [policy] is missing")
			return
		}
		for ph := range p.Policy.Phases {
			if !slices.Contains([]string{"hot", "warm", "cold", "frozen", "delete"}, ph) {
				writeError(w, http.StatusBadRequest, "illegal_argument_exception", "Timeseries lifecycle does not support phase ["+ph+"]")
				return
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.policies[name] = append(json.RawMessage(nil), body...)
		s.policyVers[name]++
		writeJSON(w, http.StatusOK, map[string]bool{"acknowledged": true})
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		body, ok := s.policies[name]
		if !ok {
			writeError(w, http.StatusNotFound, "resource_not_found_exception", "Lifecycle policy not found: "+name)
			return
		}
		var p struct {
			Policy json.RawMessage `json:"policy"`
		}
		_ = json.Unmarshal(body, &p)
		writeJSON(w, http.StatusOK, map[string]any{name: map[string]any{
			"version": s.policyVers[name], "modified_date": time.Now().UTC().Format(time.RFC3339), "policy": p.Policy,
		}})
	case http.MethodDelete:
		s.deleteNamed(w, s.policies, name, "Lifecycle policy not found: %s")
	default:
		writeError(w, http.StatusMethodNotAllowed, "illegal_argument_exception", "method not allowed")
	}
}

func (s *Server) servePipeline(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	switch r.Method {
	case http.MethodPut:
		var p struct {
			Processors *[]json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Processors == nil {
			writeError(w, http.StatusBadRequest, "parse_exception", "[processors] required property is missing")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.pipelines[name] = append(json.RawMessage(nil), body...)
		writeJSON(w, http.StatusOK, map[string]bool{"acknowledged": true})
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		body, ok := s.pipelines[name]
		if !ok {
			// Elasticsearch answers an unknown pipeline with an empty object.
			writeJSON(w, http.StatusNotFound, map[string]any{})
			return
		}
		writeJSON(w, http.StatusOK, map[string]json.RawMessage{name: body})
	case http.MethodDelete:
		s.deleteNamed(w, s.pipelines, name, "pipeline [%s] is missing")
	default:
		writeError(w, http.StatusMethodNotAllowed, "illegal_argument_exception", "method not allowed")
	}
}

// globMatch matches name against an index pattern where * is any run of
// characters; a comma-separated pattern matches if any part does.
func globMatch(pattern, name string) bool {
	for _, p := range strings.Split(pattern, ",") {
		if globMatchOne(p, name) {
			return true
		}
	}
	return false
}

func globMatchOne(p, s string) bool {
	// Iterative match with backtracking to the last star.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// globsOverlap reports whether some name matches both patterns.
func globsOverlap(a, b string) bool {
	type key struct{ i, j int }
	memo := map[key]bool{}
	var f func(i, j int) bool
	f = func(i, j int) bool {
		k := key{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(a) && j == len(b):
			r = true
		case i < len(a) && a[i] == '*':
			r = f(i+1, j) || (j < len(b) && f(i, j+1))
		case j < len(b) && b[j] == '*':
			r = f(i, j+1) || (i < len(a) && f(i+1, j))
		case i < len(a) && j < len(b) && a[i] == b[j]:
			r = f(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return f(0, 0)
}
