package esbulktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// bulkAction is one parsed action with its source line.
type bulkAction struct {
	op       string
	target   string
	id       string
	pipeline string
	source   []byte
	// err is a per-item validation failure found while parsing.
	errStatus int
	errType   string
	errReason string
}

type actionMeta struct {
	Index    string `json:"_index"`
	ID       string `json:"_id"`
	Pipeline string `json:"pipeline"`
}

// errBulkRequest is a failure of the whole request: Elasticsearch parses
// every line before it executes any.
type errBulkRequest struct{ typ, reason string }

func (e *errBulkRequest) Error() string { return e.reason }

// ParseBulk parses a _bulk body as Elasticsearch does: NDJSON, an action
// line (create, index, update or delete) followed by a source line except
// for delete, the whole terminated by a newline. Empty lines are skipped.
// A per-item problem (no target, a source that is not a JSON object) is
// reported on the item; a malformed request is an error.
func ParseBulk(body []byte, defaultTarget, defaultPipeline string) ([]Item, error) {
	acts, err := parseBulk(body, defaultTarget, defaultPipeline, true)
	items := make([]Item, len(acts))
	for i, a := range acts {
		items[i] = Item{Op: a.op, Target: a.target, ID: a.id, Source: a.source}
	}
	return items, err
}

func parseBulk(body []byte, defaultTarget, defaultPipeline string, validate bool) ([]bulkAction, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &errBulkRequest{"action_request_validation_exception", "Validation Failed: 1: no requests added;"}
	}
	if body[len(body)-1] != '\n' {
		return nil, &errBulkRequest{"illegal_argument_exception", `The bulk request must be terminated by a newline [\n]`}
	}
	var acts []bulkAction
	line := 0
	next := func() ([]byte, bool) {
		for len(body) > 0 {
			i := bytes.IndexByte(body, '\n')
			l := body[:i]
			body = body[i+1:]
			line++
			if len(bytes.TrimSpace(l)) > 0 {
				return l, true
			}
		}
		return nil, false
	}
	for {
		l, ok := next()
		if !ok {
			break
		}
		var a bulkAction
		op, meta, ok := fastAction(l)
		if !ok {
			var err error
			if op, meta, err = slowAction(l, line); err != nil {
				return nil, err
			}
		}
		a.op = op
		a.target, a.id, a.pipeline = or(meta.Index, defaultTarget), meta.ID, or(meta.Pipeline, defaultPipeline)
		if a.op != "delete" {
			src, ok := next()
			if !ok {
				return nil, &errBulkRequest{"illegal_argument_exception", fmt.Sprintf("Malformed action/metadata line [%d]: the %s action has no source line", line, a.op)}
			}
			a.source = src
			if validate && !isJSONObject(src) || !validate && !looksLikeObject(src) {
				a.errStatus, a.errType = http.StatusBadRequest, TypeDocumentParsing
				a.errReason = "[1:1] failed to parse: the document is not a JSON object"
			}
		}
		if a.target == "" {
			a.errStatus, a.errType, a.errReason = http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index is missing;"
		}
		if a.op == "delete" && a.id == "" {
			a.errStatus, a.errType, a.errReason = http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: id is missing;"
		}
		acts = append(acts, a)
	}
	return acts, nil
}

// slowAction reads an action line with encoding/json.
func slowAction(l []byte, line int) (string, actionMeta, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(l, &m); err != nil {
		return "", actionMeta{}, &errBulkRequest{"x_content_parse_exception", fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT", line)}
	}
	if len(m) != 1 {
		return "", actionMeta{}, &errBulkRequest{"illegal_argument_exception", fmt.Sprintf("Malformed action/metadata line [%d], expected exactly one action", line)}
	}
	var op string
	var raw json.RawMessage
	for op, raw = range m {
	}
	if !validOp(op) {
		return "", actionMeta{}, &errBulkRequest{"illegal_argument_exception", fmt.Sprintf("Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s]", line, op)}
	}
	var meta actionMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return "", actionMeta{}, &errBulkRequest{"x_content_parse_exception", fmt.Sprintf("Malformed action/metadata line [%d]: %v", line, err)}
	}
	return op, meta, nil
}

func validOp(op string) bool {
	switch op {
	case "create", "index", "update", "delete":
		return true
	}
	return false
}

// fastAction reads the usual action line, {"op":{"_index":"i","_id":"x"}}
// with plain strings and no spaces, without encoding/json; anything else
// is left to slowAction.
func fastAction(l []byte) (string, actionMeta, bool) {
	var meta actionMeta
	str := func() (string, bool) {
		if len(l) == 0 || l[0] != '"' {
			return "", false
		}
		for i := 1; i < len(l); i++ {
			switch c := l[i]; {
			case c == '"':
				s := string(l[1:i])
				l = l[i+1:]
				return s, true
			case c == '\\' || c < 0x20 || c >= 0x80:
				return "", false
			}
		}
		return "", false
	}
	lit := func(p string) bool {
		if len(l) < len(p) || string(l[:len(p)]) != p {
			return false
		}
		l = l[len(p):]
		return true
	}
	l = bytes.TrimRight(l, " \t\r")
	if !lit("{") {
		return "", meta, false
	}
	op, ok := str()
	if !ok || !validOp(op) || !lit(":{") {
		return "", meta, false
	}
	var seen [3]bool // _index, _id, pipeline: a repeated key goes the slow way
	for n := 0; !lit("}}"); n++ {
		if n > 0 && !lit(",") {
			return "", meta, false
		}
		k, ok := str()
		if !ok || !lit(":") {
			return "", meta, false
		}
		v, ok := str()
		if !ok {
			return "", meta, false
		}
		var dst *string
		var slot int
		switch k {
		case "_index":
			dst, slot = &meta.Index, 0
		case "_id":
			dst, slot = &meta.ID, 1
		case "pipeline":
			dst, slot = &meta.Pipeline, 2
		default:
			return "", meta, false
		}
		if seen[slot] {
			return "", meta, false
		}
		seen[slot], *dst = true, v
	}
	return op, meta, len(l) == 0
}

// looksLikeObject is the cheap check of Options.TrustSources.
func looksLikeObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 1 && b[0] == '{' && b[len(b)-1] == '}'
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 1 && b[0] == '{' && json.Valid(b)
}

// itemResult is the outcome of one action.
type itemResult struct {
	op, index, id   string
	status          int
	result          string
	version         int
	seqNo           int64
	errType, reason string
}

func (s *Server) serveBulk(w http.ResponseWriter, r *http.Request, pathTarget string, body []byte) {
	start := time.Now()
	q := r.URL.Query()
	acts, err := parseBulk(body, pathTarget, q.Get("pipeline"), !s.opts.TrustSources)
	if err != nil {
		var be *errBulkRequest
		errors.As(err, &be)
		writeError(w, http.StatusBadRequest, be.typ, be.reason)
		return
	}
	results := make([]itemResult, len(acts))
	failed := false
	s.mu.Lock()
	s.stats.BulkRequests++
	for i := range acts {
		results[i] = s.execute(&acts[i])
		if results[i].errType != "" {
			failed = true
		}
	}
	s.mu.Unlock()

	f := newFilter(q.Get("filter_path"))
	b := make([]byte, 0, 64+len(results)*64)
	b = append(b, '{')
	first := true
	if f.want("errors") {
		b = append(b, `"errors":`...)
		b = strconv.AppendBool(b, failed)
		first = false
	}
	if f.want("took") {
		if !first {
			b = append(b, ',')
		}
		b = append(b, `"took":`...)
		b = strconv.AppendInt(b, time.Since(start).Milliseconds(), 10)
		first = false
	}
	if f.wantBelow("items") {
		if !first {
			b = append(b, ',')
		}
		b = append(b, `"items":[`...)
		flags := map[string]*itemFlags{}
		for i, res := range results {
			if i > 0 {
				b = append(b, ',')
			}
			fl := flags[res.op]
			if fl == nil {
				fl = f.itemFlags(res.op)
				flags[res.op] = fl
			}
			b = appendItem(b, res, fl)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// execute applies one action to the store. s.mu is held.
func (s *Server) execute(a *bulkAction) itemResult {
	s.stats.Items++
	res := itemResult{op: a.op, index: a.target, id: a.id}
	fail := func(status int, typ, reason string) itemResult {
		res.status, res.errType, res.reason = status, typ, reason
		s.stats.ItemErrors++
		return res
	}
	if a.errType != "" {
		return fail(a.errStatus, a.errType, a.errReason)
	}
	if a.op == "update" {
		return fail(http.StatusBadRequest, "illegal_argument_exception", "the test server does not implement update actions")
	}
	ds := s.isDataStream(a.target)
	if ds {
		res.index = ".ds-" + a.target + "-" + s.createdDate + "-000001"
	}
	if a.id != "" {
		s.attempts[a.id]++
	}
	if f := s.itemFault(Item{Op: a.op, Target: a.target, ID: a.id, Source: a.source}); f != nil {
		return fail(f.Status, or(f.Type, defaultItemType(f.Status)), or(f.Reason, "injected fault"))
	}
	if ds {
		if a.op != "create" {
			return fail(http.StatusBadRequest, "illegal_argument_exception",
				"only write ops with an op_type of create are allowed in data streams")
		}
		if a.source != nil && !bytes.Contains(a.source, []byte(`"@timestamp"`)) {
			return fail(http.StatusBadRequest, TypeDocumentParsing, "data stream timestamp field [@timestamp] is missing")
		}
	}
	if a.pipeline != "" && a.pipeline != "_none" && s.pipelines[a.pipeline] == nil {
		return fail(http.StatusBadRequest, "illegal_argument_exception", "pipeline with id ["+a.pipeline+"] does not exist")
	}
	t := s.targets[a.target]
	if t == nil {
		t = &target{dataStream: ds, docs: map[string]*Doc{}}
		s.targets[a.target] = t
	}
	if a.id == "" {
		if a.op == "delete" {
			return fail(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: id is missing;")
		}
		s.autoID++
		a.id = "auto-" + strconv.FormatInt(s.autoID, 10)
		res.id = a.id
	}
	old := t.docs[a.id]
	switch a.op {
	case "delete":
		if old == nil {
			res.status, res.result = http.StatusNotFound, "not_found"
			return res
		}
		delete(t.docs, a.id)
		s.stats.Deleted++
		res.status, res.result, res.version = http.StatusOK, "deleted", old.Version+1
		return res
	case "create":
		if old != nil {
			s.stats.Conflicts++
			return fail(http.StatusConflict, TypeVersionConflict,
				fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", a.id, old.Version))
		}
	}
	d := &Doc{Target: a.target, ID: a.id, Pipeline: a.pipeline, Version: 1}
	if !s.opts.DiscardSources {
		d.Source = append(json.RawMessage(nil), a.source...)
	}
	s.seqNo++
	res.seqNo = s.seqNo
	if old != nil {
		d.Version = old.Version + 1
		s.stats.Updated++
		res.status, res.result = http.StatusOK, "updated"
	} else {
		t.order = append(t.order, a.id)
		s.stats.Created++
		res.status, res.result = http.StatusCreated, "created"
	}
	t.docs[a.id] = d
	res.version = d.Version
	return res
}

func defaultItemType(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return TypeRejectedExecution
	case http.StatusBadRequest:
		return TypeDocumentParsing
	case http.StatusConflict:
		return TypeVersionConflict
	case http.StatusServiceUnavailable:
		return TypeUnavailableShards
	}
	return "exception"
}

// itemFlags says which members of an item the filter keeps, worked out
// once per action type rather than per item.
type itemFlags struct {
	index, id, version, result, shards, total, successful, failed bool
	seqNo, primaryTerm, status, err                               bool
	errType, errReason, errUUID, errShard, errIndex               bool
}

func (f filter) itemFlags(op string) *itemFlags {
	p := "items." + op + "."
	return &itemFlags{
		index: f.want(p + "_index"), id: f.want(p + "_id"), version: f.want(p + "_version"), result: f.want(p + "result"),
		shards: f.wantBelow(p + "_shards"), total: f.want(p + "_shards.total"), successful: f.want(p + "_shards.successful"), failed: f.want(p + "_shards.failed"),
		seqNo: f.want(p + "_seq_no"), primaryTerm: f.want(p + "_primary_term"), status: f.want(p + "status"),
		err: f.wantBelow(p + "error"), errType: f.want(p + "error.type"), errReason: f.want(p + "error.reason"),
		errUUID: f.want(p + "error.index_uuid"), errShard: f.want(p + "error.shard"), errIndex: f.want(p + "error.index"),
	}
}

// appendItem writes one item of the bulk response, keeping the members the
// filter wants.
func appendItem(b []byte, res itemResult, fl *itemFlags) []byte {
	b = append(b, `{"`...)
	b = append(b, res.op...)
	b = append(b, `":{`...)
	w := memberWriter{b: b}
	w.str(fl.index, "_index", res.index)
	w.str(fl.id, "_id", res.id)
	if res.errType == "" {
		w.num(fl.version, "_version", int64(res.version))
		w.str(fl.result, "result", res.result)
		if fl.shards {
			w.open("_shards")
			w.num(fl.total, "total", 2)
			w.num(fl.successful, "successful", 1)
			w.num(fl.failed, "failed", 0)
			w.close()
		}
		w.num(fl.seqNo, "_seq_no", res.seqNo)
		w.num(fl.primaryTerm, "_primary_term", 1)
	}
	w.num(fl.status, "status", int64(res.status))
	if res.errType != "" && fl.err {
		w.open("error")
		w.str(fl.errType, "type", res.errType)
		w.str(fl.errReason, "reason", res.reason)
		w.str(fl.errUUID, "index_uuid", "esbulktest")
		w.str(fl.errShard, "shard", "0")
		w.str(fl.errIndex, "index", res.index)
		w.close()
	}
	return append(w.b, '}', '}')
}

// memberWriter writes object members, skipping those not wanted.
type memberWriter struct {
	b []byte
	n int
}

func (w *memberWriter) key(want bool, k string) bool {
	if !want {
		return false
	}
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	return true
}

func (w *memberWriter) str(want bool, k, v string) {
	if w.key(want, k) {
		w.b = mapping.AppendJSONString(w.b, v)
	}
}

func (w *memberWriter) num(want bool, k string, v int64) {
	if w.key(want, k) {
		w.b = strconv.AppendInt(w.b, v, 10)
	}
}

func (w *memberWriter) open(k string) {
	w.key(true, k)
	w.b = append(w.b, '{')
	w.n = 0
}

func (w *memberWriter) close() {
	w.b = append(w.b, '}')
	w.n = 1
}

// filter is filter_path: comma-separated dotted patterns, * matching one
// name. A member is kept when a pattern matches it or one of its parents.
type filter struct{ patterns [][]string }

func newFilter(s string) filter {
	var f filter
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			f.patterns = append(f.patterns, strings.Split(p, "."))
		}
	}
	return f
}

// want reports whether the member at path is kept whole.
func (f filter) want(path string) bool {
	if len(f.patterns) == 0 {
		return true
	}
	segs := strings.Split(path, ".")
	for _, p := range f.patterns {
		if len(p) <= len(segs) && segsMatch(p, segs[:len(p)]) {
			return true
		}
	}
	return false
}

// wantBelow reports whether anything at or below path is kept.
func (f filter) wantBelow(path string) bool {
	if len(f.patterns) == 0 {
		return true
	}
	segs := strings.Split(path, ".")
	for _, p := range f.patterns {
		n := min(len(p), len(segs))
		if segsMatch(p[:n], segs[:n]) {
			return true
		}
	}
	return false
}

func segsMatch(p, s []string) bool {
	for i := range p {
		if p[i] != "*" && p[i] != s[i] {
			return false
		}
	}
	return true
}
