package intuneelasticsearchexporter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

type esExporter struct {
	cfg    *Config
	set    exporter.Settings
	logger *zap.Logger
	tel    *telemetry
	ecs    mapping.ECSOptions

	client *elasticsearch.Client
	dlq    *deadletter.Writer
	gzip   *gzipper // bulk bodies, when compression is gzip

	bootMu   sync.Mutex
	bootDone atomic.Bool
	boot     *bootstrapper

	// free holds batch buffers between pushes. Unlike a sync.Pool it
	// keeps them across garbage collections, which would otherwise make
	// every push regrow megabytes of buffer.
	free      chan *batch
	refusedLg rateLimit
	closed    atomic.Bool
}

func newExporter(cfg *Config, set exporter.Settings) (*esExporter, error) {
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	e := &esExporter{
		cfg:    cfg,
		set:    set,
		logger: set.Logger,
		tel:    tel,
		ecs: mapping.ECSOptions{
			DataStream: cfg.Index == "",
			Dataset:    cfg.DataStream.Dataset,
			Namespace:  cfg.DataStream.Namespace,
		},
	}
	e.free = make(chan *batch, maxFreeBatches)
	if cfg.ClientConfig.Compression == configcompression.TypeGzip {
		e.gzip = newGzipper(int(cfg.ClientConfig.CompressionParams.Level))
	}
	return e, nil
}

func (e *esExporter) start(ctx context.Context, host component.Host) error {
	httpClient, err := e.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), e.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("http client: %w", err)
	}
	esCfg := elasticsearch.Config{
		Addresses:    e.cfg.endpoints(),
		CloudID:      e.cfg.CloudID,
		Username:     e.cfg.User,
		Password:     string(e.cfg.Password),
		Transport:    httpClient.Transport,
		ServiceToken: string(e.cfg.BearerToken),
		// exporterhelper retries, with backoff and the persistent queue;
		// the client must not retry behind its back.
		DisableRetry: true,
		// Ask for version 8 answers from 8.x and 9.x alike.
		EnableCompatibilityMode: true,
		// The bulk response is read whole; drain anything left so the
		// connection is reused.
		AutoDrainBody: true,
	}
	if e.cfg.APIKey != "" {
		esCfg.APIKey = e.cfg.encodedAPIKey()
	}
	if e.client, err = elasticsearch.NewClient(esCfg); err != nil {
		return fmt.Errorf("elasticsearch client: %w", err)
	}
	if e.dlq, err = deadletter.Open(e.cfg.DeadLetter.File); err != nil {
		return err
	}
	if e.boot, err = newBootstrapper(e); err != nil {
		return err
	}

	// Best effort: an unreachable cluster must not stop the collector; the
	// bootstrap then runs before the first bulk request.
	sctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	if err := e.checkVersion(sctx); err != nil {
		var perm *permanentError
		if errors.As(err, &perm) {
			return err
		}
		e.logger.Warn("Elasticsearch is not reachable yet; documents wait in the queue", zap.Error(err))
		return nil
	}
	if err := e.ensureBootstrap(sctx); err != nil {
		var perm *permanentError
		if errors.As(err, &perm) {
			return err
		}
		e.logger.Warn("bootstrap did not finish; it is retried before the first bulk request", zap.Error(err))
	}
	return nil
}

const (
	startupTimeout = 15 * time.Second
	maxFreeBatches = 8
	maxKeptBuffer  = 64 << 20
)

// checkVersion reads GET / once: it passes the client's product check and
// tells which version answered.
func (e *esExporter) checkVersion(ctx context.Context) error {
	status, _, body, err := e.call(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return err
	}
	if status == http.StatusForbidden {
		// Reading the version needs the monitor privilege, which a
		// writer-only API key may well lack; it is not needed to write.
		e.logger.Info("cannot read the Elasticsearch version (403); continuing without it")
		return nil
	}
	if status != http.StatusOK {
		return e.statusError(status, body, "GET /")
	}
	v := versionNumber(body)
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if major != 0 && major < 8 {
		return permanent(fmt.Errorf("Elasticsearch %s answered; this exporter needs 8.x or 9.x", v))
	}
	e.logger.Info("connected to Elasticsearch", zap.String("version", v))
	return nil
}

func (e *esExporter) ensureBootstrap(ctx context.Context) error {
	if !e.cfg.Bootstrap.Enabled {
		return nil
	}
	if e.bootDone.Load() {
		return nil
	}
	e.bootMu.Lock()
	defer e.bootMu.Unlock()
	if e.bootDone.Load() {
		return nil
	}
	if err := e.boot.run(ctx); err != nil {
		return err
	}
	e.bootDone.Store(true)
	return nil
}

func (e *esExporter) shutdown(ctx context.Context) error {
	if e == nil || !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if e.client != nil {
		if err := e.client.Close(ctx); err != nil && !errors.Is(err, elasticsearch.ErrAlreadyClosed) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, e.dlq.Close())
	return errors.Join(errs...)
}

// batch is one push encoded as bulk lines, with each item's place in the
// plog.Logs so that only failed records are handed back for retry.
type batch struct {
	buf     []byte
	items   []bulkItem
	scratch []byte
}

type bulkItem struct {
	start, doc, end int // action line, document, end (after '\n') in buf
	rl, sl, lr      int
	id, target      string
}

func (b *batch) reset() {
	b.buf, b.items, b.scratch = b.buf[:0], b.items[:0], b.scratch[:0]
}

func (e *esExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	if err := e.ensureBootstrap(ctx); err != nil {
		var perm *permanentError
		if errors.As(err, &perm) {
			e.tel.failed.Add(ctx, int64(ld.LogRecordCount()))
			return consumererror.NewPermanent(err)
		}
		return err
	}
	var b *batch
	select {
	case b = <-e.free:
	default:
		b = new(batch)
	}
	defer func() {
		// Keep buffers of ordinary size only, so one huge batch does not
		// pin its memory for good.
		if cap(b.buf) > maxKeptBuffer {
			return
		}
		b.reset()
		select {
		case e.free <- b:
		default:
		}
	}()
	e.encode(b, ld)
	if len(b.items) == 0 {
		return nil
	}
	all := make([]int, len(b.items))
	for i := range all {
		all[i] = i
	}
	var res sendResult
	e.sendItems(ctx, b, all, &res)
	return e.finish(ctx, ld, b, &res)
}

// encode writes every record as a create action and its ECS document.
func (e *esExporter) encode(b *batch, ld plog.Logs) {
	defaultTarget := e.cfg.Index
	if defaultTarget == "" {
		defaultTarget = "logs-" + e.ecs.Dataset + "-" + e.ecs.Namespace
	}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				target := defaultTarget
				if e.cfg.Index == "" {
					if ds, ns := e.ecs.DataStreamFor(lr); ds != e.ecs.Dataset || ns != e.ecs.Namespace {
						target = "logs-" + ds + "-" + ns
					}
				}
				it := bulkItem{start: len(b.buf), rl: i, sl: j, lr: k, target: target}
				if v, ok := lr.Attributes().Get(mapping.AttrEventID); ok && v.Str() != "" {
					it.id = v.Str()
					b.buf = appendAction(b.buf, target, it.id)
					it.doc = len(b.buf)
					b.buf = mapping.AppendECS(b.buf, res, lr, e.ecs)
				} else {
					// A record from outside the contract: its _id comes
					// from its content, so a resend is still a duplicate.
					b.scratch = mapping.AppendECS(b.scratch[:0], res, lr, e.ecs)
					sum := sha256.Sum256(b.scratch)
					it.id = hex.EncodeToString(sum[:16])
					b.buf = appendAction(b.buf, target, it.id)
					it.doc = len(b.buf)
					b.buf = append(b.buf, b.scratch...)
				}
				b.buf = append(b.buf, '\n')
				it.end = len(b.buf)
				b.items = append(b.items, it)
			}
		}
	}
}

func appendAction(b []byte, index, id string) []byte {
	b = append(b, `{"create":{"_index":`...)
	b = appendJSONString(b, index)
	b = append(b, `,"_id":`...)
	b = appendJSONString(b, id)
	return append(b, "}}\n"...)
}

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// sendResult collects what happened to each item over the requests of one
// push.
type sendResult struct {
	delivered, duplicates int
	retry                 []int
	retryErr              error
	dead                  []deadItem
	failed                []int
	failErr               error
}

type deadItem struct {
	item   int
	status int
	reason string
}

// Bulk response members the exporter reads; the rest is not sent.
var filterPath = []string{"errors", "items.*.status", "items.*.error.type", "items.*.error.reason", "items.*.error.caused_by.type", "items.*.error.caused_by.reason"}

// sendItems sends items as one bulk request and sorts out the answer,
// splitting the request when Elasticsearch finds it too large.
func (e *esExporter) sendItems(ctx context.Context, b *batch, idx []int, res *sendResult) {
	body := b.body(idx)
	status, header, respBody, err := e.bulk(ctx, body, len(idx))
	if err != nil {
		var perm *permanentError
		if errors.As(err, &perm) {
			res.failed = append(res.failed, idx...)
			res.failErr = err
			return
		}
		res.retry = append(res.retry, idx...)
		res.retryErr = fmt.Errorf("bulk request: %w", err)
		return
	}
	switch {
	case status >= 200 && status < 300:
		e.readItems(b, idx, respBody, res)
	case status == http.StatusRequestEntityTooLarge:
		if len(idx) == 1 {
			res.dead = append(res.dead, deadItem{idx[0], status,
				fmt.Sprintf("the document alone (%d bytes) is larger than the cluster's http.max_content_length", b.items[idx[0]].end-b.items[idx[0]].doc)})
			return
		}
		half := len(idx) / 2
		e.sendItems(ctx, b, idx[:half], res)
		e.sendItems(ctx, b, idx[half:], res)
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		res.retry = append(res.retry, idx...)
		res.retryErr = e.throttle(status, header, respBody)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		res.failed = append(res.failed, idx...)
		res.failErr = e.statusError(status, respBody, "bulk request to "+b.items[idx[0]].target)
	case status >= 500:
		res.retry = append(res.retry, idx...)
		res.retryErr = fmt.Errorf("bulk request: Elasticsearch answered %d: %s", status, errorReason(respBody))
	default:
		// The request as a whole was refused (not one document): keep
		// every document with the reason rather than drop them.
		reason := fmt.Sprintf("bulk request refused with %d: %s", status, errorReason(respBody))
		for _, i := range idx {
			res.dead = append(res.dead, deadItem{i, status, reason})
		}
	}
}

// body returns the bulk body for items: the batch buffer itself when they
// are all of it, else their lines copied together.
func (b *batch) body(idx []int) []byte {
	if len(idx) == len(b.items) {
		return b.buf
	}
	n := 0
	for _, i := range idx {
		n += b.items[i].end - b.items[i].start
	}
	out := make([]byte, 0, n)
	for _, i := range idx {
		out = append(out, b.buf[b.items[i].start:b.items[i].end]...)
	}
	return out
}

// bulk sends one bulk request and returns the status and the answer.
func (e *esExporter) bulk(ctx context.Context, body []byte, docs int) (int, http.Header, []byte, error) {
	return e.bulkTo(ctx, body, docs, e.cfg.Pipeline)
}

func (e *esExporter) bulkTo(ctx context.Context, body []byte, docs int, pipeline string) (int, http.Header, []byte, error) {
	if e.cfg.ClientConfig.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.ClientConfig.Timeout)
		defer cancel()
	}
	size := len(body)
	opts := []func(*esapi.BulkRequest){
		e.client.Bulk.WithContext(ctx),
		e.client.Bulk.WithPipeline(pipeline),
		e.client.Bulk.WithFilterPath(filterPath...),
	}
	if e.gzip != nil {
		zbuf := e.gzip.compress(body)
		defer e.gzip.release(zbuf)
		body = zbuf.Bytes()
		// confighttp leaves a body that already has an encoding alone.
		opts = append(opts, e.client.Bulk.WithHeader(map[string]string{"Content-Encoding": "gzip"}))
	}
	start := time.Now()
	res, err := e.client.Bulk(bytes.NewReader(body), opts...)
	if err != nil {
		return 0, nil, nil, classifyTransportError(err)
	}
	defer res.Body.Close()
	respBody, err := io.ReadAll(res.Body)
	e.tel.recordBulk(ctx, time.Since(start), size, docs)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the bulk answer: %w", err)
	}
	return res.StatusCode, res.Header, respBody, nil
}

// readItems applies the per-item statuses of a bulk answer.
func (e *esExporter) readItems(b *batch, idx []int, body []byte, res *sendResult) {
	r, err := parseBulkResponse(body, len(idx))
	if err != nil {
		// Not knowing which went in, send them all again: those that did
		// come back as 409 duplicates.
		res.retry = append(res.retry, idx...)
		res.retryErr = err
		return
	}
	if !r.errors {
		res.delivered += len(idx)
		return
	}
	for n, it := range r.items {
		i := idx[n]
		switch {
		case it.Status >= 200 && it.Status < 300:
			res.delivered++
		case it.Status == http.StatusConflict:
			res.duplicates++
		case retryableItem(it):
			res.retry = append(res.retry, i)
			res.retryErr = fmt.Errorf("Elasticsearch asked to retry documents (%d %s)", it.Status, it.Error)
		default:
			res.dead = append(res.dead, deadItem{i, it.Status, it.Error.String()})
		}
	}
}

func retryableItem(it itemStatus) bool {
	return it.Status == http.StatusTooManyRequests || it.Status >= 500 ||
		it.Error.Type == "es_rejected_execution_exception" || it.Error.CausedBy.Type == "es_rejected_execution_exception"
}

// finish counts, dead-letters and decides what exporterhelper retries.
func (e *esExporter) finish(ctx context.Context, ld plog.Logs, b *batch, res *sendResult) error {
	e.tel.delivered.Add(ctx, int64(res.delivered))
	e.tel.duplicates.Add(ctx, int64(res.duplicates))

	if len(res.dead) > 0 {
		if err := e.deadLetter(ctx, b, res.dead); err != nil {
			if e.hasDeadLetter() {
				// The destination could not take them: retry rather than
				// lose them.
				for _, d := range res.dead {
					res.retry = append(res.retry, d.item)
				}
				res.retryErr = fmt.Errorf("dead-letter destination: %w", err)
			} else {
				for _, d := range res.dead {
					res.failed = append(res.failed, d.item)
				}
				res.failErr = err
			}
		} else {
			e.tel.deadLettered.Add(ctx, int64(len(res.dead)))
		}
	}
	if len(res.failed) > 0 {
		e.tel.failed.Add(ctx, int64(len(res.failed)))
	}
	if len(res.retry) > 0 {
		e.tel.retried.Add(ctx, int64(len(res.retry)))
		if len(res.failed) > 0 {
			e.logger.Error("documents dropped", zap.Int("documents", len(res.failed)), zap.Error(res.failErr))
		}
		slices.Sort(res.retry)
		return consumererror.NewLogs(res.retryErr, subset(ld, b.items, res.retry))
	}
	if len(res.failed) > 0 {
		return consumererror.NewPermanent(fmt.Errorf("%d documents dropped: %w", len(res.failed), res.failErr))
	}
	return nil
}

// subset copies the records at the given items (in ascending order) into
// new Logs, under copies of their resources and scopes.
func subset(ld plog.Logs, items []bulkItem, idx []int) plog.Logs {
	out := plog.NewLogs()
	lastRL, lastSL := -1, -1
	var curRL plog.ResourceLogs
	var curSL plog.ScopeLogs
	for _, i := range idx {
		it := items[i]
		srcRL := ld.ResourceLogs().At(it.rl)
		if it.rl != lastRL {
			curRL = out.ResourceLogs().AppendEmpty()
			srcRL.Resource().CopyTo(curRL.Resource())
			curRL.SetSchemaUrl(srcRL.SchemaUrl())
			lastRL, lastSL = it.rl, -1
		}
		srcSL := srcRL.ScopeLogs().At(it.sl)
		if it.sl != lastSL {
			curSL = curRL.ScopeLogs().AppendEmpty()
			srcSL.Scope().CopyTo(curSL.Scope())
			curSL.SetSchemaUrl(srcSL.SchemaUrl())
			lastSL = it.sl
		}
		srcSL.LogRecords().At(it.lr).CopyTo(curSL.LogRecords().AppendEmpty())
	}
	return out
}

// rateLimit lets a log line through at most once per interval.
type rateLimit struct{ last atomic.Int64 }

func (r *rateLimit) allow(every time.Duration) bool {
	now := time.Now().UnixNano()
	last := r.last.Load()
	return now-last >= int64(every) && r.last.CompareAndSwap(last, now)
}
