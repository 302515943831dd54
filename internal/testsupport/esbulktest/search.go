package esbulktest

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
)

// searchBody is the part of a search or count request the server reads:
// match_all (or no query) or an ids query.
type searchBody struct {
	Size  *int `json:"size"`
	Query *struct {
		IDs *struct {
			Values []string `json:"values"`
		} `json:"ids"`
		MatchAll *json.RawMessage `json:"match_all"`
	} `json:"query"`
}

// matching returns the stored documents of the targets a pattern names that
// the query selects, sorted by target and _id. s.mu is held.
func (s *Server) matching(pattern string, body []byte) ([]*Doc, int, bool) {
	var q searchBody
	if len(body) > 0 && json.Unmarshal(body, &q) != nil {
		return nil, 0, false
	}
	var ids []string
	if q.Query != nil {
		switch {
		case q.Query.IDs != nil:
			ids = q.Query.IDs.Values
			if ids == nil {
				ids = []string{}
			}
		case q.Query.MatchAll != nil:
		default:
			return nil, 0, false
		}
	}
	var out []*Doc
	for name, t := range s.targets {
		if !globMatch(pattern, name) {
			continue
		}
		for id, d := range t.docs {
			if ids == nil || slices.Contains(ids, id) {
				out = append(out, d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Target != out[j].Target {
			return out[i].Target < out[j].Target
		}
		return out[i].ID < out[j].ID
	})
	size := 10
	if q.Size != nil {
		size = *q.Size
	}
	return out, size, true
}

func (s *Server) serveCount(w http.ResponseWriter, pattern string, body []byte) {
	s.mu.Lock()
	docs, _, ok := s.matching(pattern, body)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "parsing_exception", "the test server reads only match_all and ids queries")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(docs), "_shards": map[string]int{"total": 1, "successful": 1, "skipped": 0, "failed": 0}})
}

func (s *Server) serveSearch(w http.ResponseWriter, pattern string, body []byte) {
	s.mu.Lock()
	docs, size, ok := s.matching(pattern, body)
	hits := make([]map[string]any, 0, min(size, len(docs)))
	for _, d := range docs[:min(size, len(docs))] {
		hits = append(hits, map[string]any{"_index": d.Target, "_id": d.ID, "_score": 1.0, "_source": d.Source})
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "parsing_exception", "the test server reads only match_all and ids queries")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"took": 0, "timed_out": false,
		"hits": map[string]any{"total": map[string]any{"value": len(docs), "relation": "eq"}, "max_score": 1.0, "hits": hits},
	})
}

func (s *Server) serveGetDoc(w http.ResponseWriter, name, id string) {
	s.mu.Lock()
	t := s.targets[name]
	var d *Doc
	if t != nil {
		d = t.docs[id]
	}
	ds := t != nil && t.dataStream
	s.mu.Unlock()
	if ds {
		// Documents of a data stream are read through its backing indices.
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", "get by _id is not supported on data stream ["+name+"]; search it instead")
		return
	}
	if d == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"_index": name, "_id": id, "found": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"_index": name, "_id": id, "_version": d.Version, "found": true, "_source": d.Source})
}
