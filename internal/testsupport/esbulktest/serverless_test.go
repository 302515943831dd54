package esbulktest

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestServerless(t *testing.T) {
	s := startServer(t, Options{Serverless: true})
	var info struct {
		Version struct {
			Number      string `json:"number"`
			BuildFlavor string `json:"build_flavor"`
		} `json:"version"`
	}
	if err := json.Unmarshal(do(t, s, "GET", "/", "").body, &info); err != nil {
		t.Fatal(err)
	}
	if info.Version.BuildFlavor != "serverless" || info.Version.Number != serverlessVersion {
		t.Errorf("GET / = %+v, want a serverless flavor", info.Version)
	}
	steps := []struct {
		name, method, path, body string
		want                     int
		reason                   string
	}{
		{"no ILM policy", "PUT", "/_ilm/policy/p", `{"policy":{"phases":{"hot":{"actions":{}}}}}`, 410, "api_not_available_exception"},
		{"no ILM read either", "GET", "/_ilm/policy/p", "", 410, "not available when running in serverless mode"},
		{"lifecycle setting refused", "PUT", "/_component_template/s", `{"template":{"settings":{"index.lifecycle.name":"p","index.mapping.total_fields.limit":2000}}}`, 400,
			"Settings [index.lifecycle.name] are not available when running in serverless mode"},
		{"nested settings refused too", "PUT", "/_component_template/s", `{"template":{"settings":{"index":{"number_of_shards":2}}}}`, 400, "index.number_of_shards"},
		{"allowed settings", "PUT", "/_component_template/s", `{"template":{"settings":{"index.mapping.total_fields.limit":2000,"index.mapping.ignore_malformed":true}}}`, 200, ""},
		{"data stream lifecycle", "PUT", "/_index_template/t", `{"index_patterns":["logs-x*-*"],"priority":200,"data_stream":{},"composed_of":["s"],"template":{"lifecycle":{"enabled":true,"data_retention":"90d"}}}`, 200, ""},
		{"lifecycle setting in an index template", "PUT", "/_index_template/u", `{"index_patterns":["logs-y*-*"],"priority":200,"template":{"settings":{"index.lifecycle.name":"p"}}}`, 400, "index.lifecycle.name"},
	}
	for _, st := range steps {
		a := do(t, s, st.method, st.path, st.body, "Content-Type", "application/json")
		if a.status != st.want || !strings.Contains(string(a.body), st.reason) {
			t.Errorf("%s: %d %s, want %d with %q", st.name, a.status, a.body, st.want, st.reason)
		}
	}

	// A stateful cluster takes the same requests.
	st := startServer(t, Options{})
	if a := do(t, st, "PUT", "/_component_template/s", `{"template":{"settings":{"index.lifecycle.name":"p"}}}`, "Content-Type", "application/json"); a.status != 200 {
		t.Errorf("stateful cluster refused the lifecycle setting: %d %s", a.status, a.body)
	}
}
