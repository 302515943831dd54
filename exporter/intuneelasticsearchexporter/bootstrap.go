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
	// flavorRead is set once the root endpoint told whether the cluster
	// is Elasticsearch Serverless; serverless is its answer.
	flavorRead bool
	serverless bool
}

type bootStep struct {
	what   string // for messages: "index template logs-intune_connector"
	path   string // GET and PUT path
	body   []byte
	hash   int64
	policy bool // ILM: the hash is under policy._meta.config_hash
}

func newBootstrapper(e *esExporter) (*bootstrapper, error) {
	steps, err := bootstrapSteps(e.cfg, effectiveLifecycle(e.cfg))
	if err != nil {
		return nil, err
	}
	return &bootstrapper{e: e, steps: steps}, nil
}

// effectiveLifecycle is the lifecycle the configuration asks for. Rolling
// a plain index over needs a write alias the exporter does not manage, so
// lifecycles are for data streams only.
func effectiveLifecycle(cfg *Config) LifecycleMode {
	if cfg.Index != "" {
		return LifecycleNone
	}
	return cfg.Bootstrap.Lifecycle
}

// stepBuilder collects the definitions, each with the hash of itself.
type stepBuilder struct {
	steps []bootStep
	errs  []error
}

func (sb *stepBuilder) add(what, path string, def map[string]any, policy bool) {
	h, err := hashOf(def)
	if err != nil {
		sb.errs = append(sb.errs, err)
		return
	}
	if policy {
		def["policy"].(map[string]any)["_meta"] = map[string]any{"managed_by": managedBy, "config_hash": h}
	} else {
		def["version"] = h
		def["_meta"] = map[string]any{"managed_by": managedBy}
	}
	body, err := json.Marshal(def)
	if err != nil {
		sb.errs = append(sb.errs, err)
		return
	}
	sb.steps = append(sb.steps, bootStep{what: what, path: path, body: body, hash: h, policy: policy})
}

// bootstrapSteps builds every definition from the configuration, in the
// order they must be installed, for the given lifecycle.
func bootstrapSteps(cfg *Config, lifecycle LifecycleMode) ([]bootStep, error) {
	b := cfg.Bootstrap
	var sb stepBuilder
	if lifecycle == LifecycleILM {
		sb.add("ILM policy "+b.Name, "/_ilm/policy/"+url.PathEscape(b.Name), ilmPolicy(b), true)
	}
	sb.add("component template "+b.Name+"@settings", "/_component_template/"+url.PathEscape(b.Name+"@settings"),
		map[string]any{"template": map[string]any{"settings": indexSettings(b.Name, lifecycle)}}, false)
	sb.add("component template "+b.Name+"@mappings", "/_component_template/"+url.PathEscape(b.Name+"@mappings"),
		map[string]any{"template": map[string]any{"mappings": indexMappings()}}, false)
	sb.add("index template "+b.Name, "/_index_template/"+url.PathEscape(b.Name), indexTemplate(cfg, lifecycle), false)
	if cfg.DeadLetter.Index != "" {
		sb.add("index template "+b.Name+"-dead-letter", "/_index_template/"+url.PathEscape(b.Name+"-dead-letter"),
			deadLetterTemplate(cfg), false)
	}
	if b.PipelineFile != "" {
		def, err := pipelineDefinition(b.PipelineFile)
		if err != nil {
			return nil, err
		}
		sb.add("ingest pipeline "+cfg.Pipeline, "/_ingest/pipeline/"+url.PathEscape(cfg.Pipeline), def, false)
	}
	return sb.steps, errors.Join(sb.errs...)
}

func ilmPolicy(b BootstrapConfig) map[string]any {
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
	return map[string]any{"policy": map[string]any{"phases": phases}}
}

func indexSettings(name string, lifecycle LifecycleMode) map[string]any {
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
	return settings
}

func indexMappings() map[string]any {
	var dynamic []any
	for _, t := range mapping.ESDynamicTemplates() {
		dynamic = append(dynamic, t)
	}
	// Fields outside the contract (resource attributes of other sources)
	// are keywords, not text with a keyword sub-field.
	dynamic = append(dynamic, map[string]any{"strings_as_keyword": map[string]any{
		"match_mapping_type": "string",
		"mapping":            map[string]any{"type": "keyword", "ignore_above": 1024},
	}})
	return map[string]any{
		// Every date the documents carry is mapped; a string that looks
		// like one stays a string, as in Winlogbeat's indices.
		"date_detection":    false,
		"dynamic_templates": dynamic,
		"properties":        mapping.ESProperties(),
	}
}

func indexTemplate(cfg *Config, lifecycle LifecycleMode) map[string]any {
	b := cfg.Bootstrap
	patterns := b.IndexPatterns
	if len(patterns) == 0 {
		patterns = defaultIndexPatterns(cfg)
	}
	tpl := map[string]any{
		"index_patterns": patterns,
		"priority":       b.Priority,
		"composed_of":    []string{b.Name + "@settings", b.Name + "@mappings"},
	}
	if cfg.Index == "" {
		tpl["data_stream"] = map[string]any{}
	}
	if lifecycle == LifecycleDataStream {
		lc := map[string]any{"enabled": true}
		if b.DeleteAfter > 0 {
			lc["data_retention"] = b.DeleteAfter.String()
		}
		tpl["template"] = map[string]any{"lifecycle": lc}
	}
	return tpl
}

func deadLetterTemplate(cfg *Config) map[string]any {
	return map[string]any{
		"index_patterns": []string{cfg.DeadLetter.Index},
		// Above the main template, so its patterns never tie.
		"priority": cfg.Bootstrap.Priority + 1,
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
	}
}

func pipelineDefinition(file string) (map[string]any, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("bootstrap::pipeline_file: %w", err)
	}
	var def map[string]any
	if err := json.Unmarshal(raw, &def); err != nil {
		return nil, fmt.Errorf("bootstrap::pipeline_file %s is not a JSON pipeline definition: %w", file, err)
	}
	if _, ok := def["processors"]; !ok {
		return nil, fmt.Errorf("bootstrap::pipeline_file %s has no processors", file)
	}
	return def, nil
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
	if err := b.readFlavor(ctx); err != nil {
		return err
	}
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

// readFlavor asks the root endpoint, once, whether the cluster is
// Elasticsearch Serverless, when the lifecycle is ILM: Serverless has no
// ILM, and manages rollover itself, so the data streams get data stream
// lifecycle there instead, with delete_after as their retention. A
// cluster that does not let the credentials read the root endpoint is
// taken as stateful; if it is Serverless after all, the ILM policy's
// refusal says which setting to change.
func (b *bootstrapper) readFlavor(ctx context.Context) error {
	if b.flavorRead || effectiveLifecycle(b.e.cfg) != LifecycleILM {
		return nil
	}
	status, _, body, err := b.e.call(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return fmt.Errorf("bootstrap: reading what kind of cluster answers: %w", err)
	}
	b.flavorRead = true
	if status != http.StatusOK || !isServerless(body) {
		return nil
	}
	steps, err := bootstrapSteps(b.e.cfg, LifecycleDataStream)
	if err != nil {
		return err
	}
	b.steps, b.serverless = steps, true
	b.e.logger.Info("bootstrap: Elasticsearch Serverless has no ILM; the data streams get data stream lifecycle instead " +
		"(retention from bootstrap::delete_after; Serverless rolls indices over itself, so bootstrap::rollover_max_age and " +
		"rollover_max_primary_shard_size do not apply). Set bootstrap::lifecycle: data_stream_lifecycle to say so in the configuration.")
	return nil
}

// isServerless reads version.build_flavor from a GET / answer.
func isServerless(body []byte) bool {
	var info struct {
		Version struct {
			BuildFlavor string `json:"build_flavor"`
		} `json:"version"`
	}
	return json.Unmarshal(body, &info) == nil && info.Version.BuildFlavor == "serverless"
}

func (b *bootstrapper) refused(status int, body []byte, verb, what string) error {
	reason := errorReason(body)
	switch {
	case status == http.StatusGone && strings.Contains(reason, "api_not_available_exception") && strings.HasPrefix(what, "ILM"):
		return permanent(fmt.Errorf("bootstrap: the cluster offers no ILM (410: %s), as Elasticsearch Serverless does not; "+
			"set bootstrap::lifecycle: data_stream_lifecycle (or none)", reason))
	case status == http.StatusForbidden && b.serverless:
		return authFailure(fmt.Errorf("bootstrap: the credentials may not %s %s (403: %s); grant the cluster privilege manage_index_templates "+
			"(and manage_pipeline for bootstrap::pipeline_file), or set bootstrap::enabled: false and have an administrator install the templates (see the README)", verb, what, reason))
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
