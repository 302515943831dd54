package intuneelasticsearchexporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// managedBy marks what the exporter installed, in _meta.
const managedBy = "otelcol-intune intune_elasticsearch exporter"

// bootstrapper installs what the documents need. Each resource carries a
// hash of its definition (as "version", or _meta.config_hash for ILM); a
// resource whose hash matches is left alone, so restarts change nothing
// and edits an administrator made to an unchanged definition survive.
type bootstrapper struct {
	e     *esExporter
	steps []bootStep
}

type bootStep struct {
	what   string // for messages: "index template logs-intune_connector"
	path   string // GET and PUT path
	body   []byte
	hash   int64
	policy bool // ILM: the hash is under policy._meta.config_hash
}

func newBootstrapper(e *esExporter) (*bootstrapper, error) {
	steps, err := bootstrapSteps(e.cfg)
	if err != nil {
		return nil, err
	}
	return &bootstrapper{e: e, steps: steps}, nil
}

// bootstrapSteps builds every definition from the configuration, in the
// order they must be installed.
func bootstrapSteps(cfg *Config) ([]bootStep, error) {
	b := cfg.Bootstrap
	name := b.Name
	dataStream := cfg.Index == ""
	lifecycle := b.Lifecycle
	if !dataStream && lifecycle != LifecycleNone {
		// Rolling a plain index over needs a write alias the exporter
		// does not manage; lifecycles are for data streams.
		lifecycle = LifecycleNone
	}
	var steps []bootStep
	add := func(what, path string, def map[string]any, policy bool) error {
		h, err := hashOf(def)
		if err != nil {
			return err
		}
		if policy {
			def["policy"].(map[string]any)["_meta"] = map[string]any{"managed_by": managedBy, "config_hash": h}
		} else {
			def["version"] = h
			def["_meta"] = map[string]any{"managed_by": managedBy}
		}
		body, err := json.Marshal(def)
		if err != nil {
			return err
		}
		steps = append(steps, bootStep{what: what, path: path, body: body, hash: h, policy: policy})
		return nil
	}
	var errs []error

	if lifecycle == LifecycleILM {
		hot := map[string]any{}
		if b.RolloverMaxAge > 0 {
			hot["max_age"] = b.RolloverMaxAge.String()
		}
		if b.RolloverMaxPrimaryShardSize != "" {
			hot["max_primary_shard_size"] = b.RolloverMaxPrimaryShardSize
		}
		phases := map[string]any{"hot": map[string]any{"min_age": "0ms", "actions": map[string]any{"rollover": hot}}}
		if b.DeleteAfter > 0 {
			phases["delete"] = map[string]any{"min_age": b.DeleteAfter.String(), "actions": map[string]any{"delete": map[string]any{}}}
		}
		errs = append(errs, add("ILM policy "+name, "/_ilm/policy/"+url.PathEscape(name),
			map[string]any{"policy": map[string]any{"phases": phases}}, true))
	}

	settings := map[string]any{
		// A value of the wrong type is kept in _source and skipped by the
		// index instead of refusing the whole event (as logs@settings
		// does); @timestamp is exempt in its own mapping.
		"index.mapping.ignore_malformed":   true,
		"index.mapping.total_fields.limit": 2000,
	}
	if lifecycle == LifecycleILM {
		settings["index.lifecycle.name"] = name
	}
	errs = append(errs, add("component template "+name+"@settings", "/_component_template/"+url.PathEscape(name+"@settings"),
		map[string]any{"template": map[string]any{"settings": settings}}, false))

	mappings := map[string]any{
		// Fields outside the contract (resource attributes of other
		// sources) are keywords, not text with a keyword sub-field.
		"dynamic_templates": []any{map[string]any{"strings_as_keyword": map[string]any{
			"match_mapping_type": "string",
			"mapping":            map[string]any{"type": "keyword", "ignore_above": 1024},
		}}},
		"properties": mapping.ESProperties(),
	}
	errs = append(errs, add("component template "+name+"@mappings", "/_component_template/"+url.PathEscape(name+"@mappings"),
		map[string]any{"template": map[string]any{"mappings": mappings}}, false))

	patterns := b.IndexPatterns
	if len(patterns) == 0 {
		patterns = defaultIndexPatterns(cfg)
	}
	tpl := map[string]any{
		"index_patterns": patterns,
		"priority":       b.Priority,
		"composed_of":    []string{name + "@settings", name + "@mappings"},
	}
	if dataStream {
		tpl["data_stream"] = map[string]any{}
	}
	if lifecycle == LifecycleDataStream {
		lc := map[string]any{"enabled": true}
		if b.DeleteAfter > 0 {
			lc["data_retention"] = b.DeleteAfter.String()
		}
		tpl["template"] = map[string]any{"lifecycle": lc}
	}
	errs = append(errs, add("index template "+name, "/_index_template/"+url.PathEscape(name), tpl, false))

	if cfg.DeadLetter.Index != "" {
		errs = append(errs, add("index template "+name+"-dead-letter", "/_index_template/"+url.PathEscape(name+"-dead-letter"), map[string]any{
			"index_patterns": []string{cfg.DeadLetter.Index},
			// Above the main template, so its patterns never tie.
			"priority": b.Priority + 1,
			"template": map[string]any{"mappings": map[string]any{
				"dynamic": false,
				"properties": map[string]any{
					"@timestamp":  map[string]any{"type": "date"},
					"exporter":    map[string]any{"type": "keyword"},
					"status":      map[string]any{"type": "long"},
					"reason":      map[string]any{"type": "text"},
					"target":      map[string]any{"type": "keyword"},
					"document_id": map[string]any{"type": "keyword"},
					"document":    map[string]any{"type": "text", "index": false},
				},
			}},
		}, false))
	}

	if b.PipelineFile != "" {
		raw, err := os.ReadFile(b.PipelineFile)
		if err != nil {
			return nil, fmt.Errorf("bootstrap::pipeline_file: %w", err)
		}
		var def map[string]any
		if err := json.Unmarshal(raw, &def); err != nil {
			return nil, fmt.Errorf("bootstrap::pipeline_file %s is not a JSON pipeline definition: %w", b.PipelineFile, err)
		}
		if _, ok := def["processors"]; !ok {
			return nil, fmt.Errorf("bootstrap::pipeline_file %s has no processors", b.PipelineFile)
		}
		errs = append(errs, add("ingest pipeline "+cfg.Pipeline, "/_ingest/pipeline/"+url.PathEscape(cfg.Pipeline), def, false))
	}
	return steps, errors.Join(errs...)
}

func defaultIndexPatterns(cfg *Config) []string {
	if cfg.Index != "" {
		return []string{cfg.Index}
	}
	// The dataset's first part, so per-record datasets such as
	// intune_connector.ndes01 share the mappings.
	root, _, _ := strings.Cut(cfg.DataStream.Dataset, ".")
	return []string{"logs-" + root + "*-*"}
}

// esDuration writes d in the largest Elasticsearch time unit that is exact.
func esDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func hashOf(def map[string]any) (int64, error) {
	b, err := json.Marshal(def)
	if err != nil {
		return 0, err
	}
	h := fnv.New32a()
	_, _ = h.Write(b)
	return int64(h.Sum32() & 0x7fffffff), nil
}

// run installs every resource whose definition is missing or changed.
func (b *bootstrapper) run(ctx context.Context) error {
	for _, s := range b.steps {
		status, _, body, err := b.e.call(ctx, http.MethodGet, s.path, nil)
		if err != nil {
			return fmt.Errorf("bootstrap: reading %s: %w", s.what, err)
		}
		switch {
		case status == http.StatusOK && installedHash(body, s.policy) == s.hash:
			continue
		case status == http.StatusOK || status == http.StatusNotFound:
		default:
			return b.refused(status, body, "read", s.what)
		}
		status, _, body, err = b.e.call(ctx, http.MethodPut, s.path, s.body)
		if err != nil {
			return fmt.Errorf("bootstrap: installing %s: %w", s.what, err)
		}
		if status != http.StatusOK {
			return b.refused(status, body, "install", s.what)
		}
		b.e.logger.Info("bootstrap: installed " + s.what)
	}
	return nil
}

func (b *bootstrapper) refused(status int, body []byte, verb, what string) error {
	reason := errorReason(body)
	switch {
	case status == http.StatusUnauthorized:
		return authFailure(fmt.Errorf("bootstrap: Elasticsearch refused the credentials (401: %s); check api_key, user and password, or bearer_token", reason))
	case status == http.StatusForbidden:
		return authFailure(fmt.Errorf("bootstrap: the credentials may not %s %s (403: %s); grant the cluster privileges manage_index_templates and manage_ilm (and manage_pipeline for bootstrap::pipeline_file), or set bootstrap::enabled: false and have an administrator install the templates (see the README)", verb, what, reason))
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		return permanent(fmt.Errorf("bootstrap: Elasticsearch refused to %s %s (%d: %s); check the bootstrap settings, or set bootstrap::enabled: false", verb, what, status, reason))
	}
	return fmt.Errorf("bootstrap: %s %s: Elasticsearch answered %d: %s", verb, what, status, reason)
}

// installedHash reads the hash of an installed definition from a GET
// answer of any of the four APIs; -1 when there is none.
func installedHash(body []byte, policy bool) int64 {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return -1
	}
	type versioned struct {
		Version *int64 `json:"version"`
		Policy  struct {
			Meta struct {
				ConfigHash *int64 `json:"config_hash"`
			} `json:"_meta"`
		} `json:"policy"`
	}
	pick := func(raw json.RawMessage) int64 {
		var v versioned
		if json.Unmarshal(raw, &v) != nil {
			return -1
		}
		switch {
		case policy && v.Policy.Meta.ConfigHash != nil:
			return *v.Policy.Meta.ConfigHash
		case !policy && v.Version != nil:
			return *v.Version
		}
		return -1
	}
	for _, list := range []string{"index_templates", "component_templates"} {
		if raw, ok := m[list]; ok {
			var items []map[string]json.RawMessage
			if json.Unmarshal(raw, &items) != nil || len(items) != 1 {
				return -1
			}
			for k, v := range items[0] {
				if k != "name" {
					return pick(v)
				}
			}
			return -1
		}
	}
	// ILM and pipelines: {"<name>": {...}}.
	if len(m) == 1 {
		for _, v := range m {
			return pick(v)
		}
	}
	return -1
}
