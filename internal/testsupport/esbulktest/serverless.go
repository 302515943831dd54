package esbulktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// What an Elastic Cloud Serverless project answers differently, as far as
// an exporter's bootstrap meets it: GET / says build_flavor "serverless"
// (with a fixed version number), the ILM APIs exist but answer 410
// api_not_available_exception, and templates that set index settings
// Serverless manages itself are refused with 400.

// serverlessVersion is the version number a Serverless project reports.
const serverlessVersion = "8.11.0"

// serverlessUnavailable reports and answers a request for an API that
// Serverless does not offer.
func (s *Server) serverlessUnavailable(w http.ResponseWriter, r *http.Request, parts []string) bool {
	if !s.opts.Serverless || len(parts) == 0 || parts[0] != "_ilm" {
		return false
	}
	writeError(w, http.StatusGone, "api_not_available_exception",
		fmt.Sprintf("Request for uri [%s] with method [%s] exists but is not available when running in serverless mode", r.URL.Path, r.Method))
	return true
}

// serverlessRefusesSettings answers 400 when a component or index template
// sets index settings Serverless does not let users set: the lifecycle
// policy (there is no ILM), shard and replica counts, allocation.
func (s *Server) serverlessRefusesSettings(w http.ResponseWriter, body []byte) bool {
	if !s.opts.Serverless {
		return false
	}
	var t struct {
		Template struct {
			Settings map[string]any `json:"settings"`
		} `json:"template"`
	}
	if json.Unmarshal(body, &t) != nil {
		return false
	}
	var refused []string
	for _, name := range flatSettings("", t.Template.Settings) {
		n := name
		if !strings.HasPrefix(n, "index.") {
			n = "index." + n
		}
		switch {
		case strings.HasPrefix(n, "index.lifecycle."), strings.HasPrefix(n, "index.routing.allocation."),
			n == "index.number_of_shards", n == "index.number_of_replicas", n == "index.auto_expand_replicas":
			refused = append(refused, n)
		}
	}
	if len(refused) == 0 {
		return false
	}
	sort.Strings(refused)
	writeError(w, http.StatusBadRequest, "illegal_argument_exception",
		fmt.Sprintf("Settings [%s] are not available when running in serverless mode", strings.Join(refused, ",")))
	return true
}

// flatSettings returns the dotted names of settings written flat
// ("index.lifecycle.name") or nested ({"index": {"lifecycle": ...}}).
func flatSettings(prefix string, m map[string]any) []string {
	var out []string
	for k, v := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			out = append(out, flatSettings(name, sub)...)
			continue
		}
		out = append(out, name)
	}
	return out
}
