package intuneelasticsearchexporter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

type esExporter struct {
	cfg    *Config
	set    exporter.Settings
	logger *zap.Logger
	tel    *telemetry
	ecs    mapping.ECSOptions

	client  *elasticsearch.Client
	dead    *delivery.DeadLetters
	bodies  *delivery.Bodies
	logs    *delivery.LogLimiter
	health  *delivery.Health
	retries *delivery.Retries
	// retry is retry_on_failure as exporterhelper gets it: without the
	// time limit, which retries keeps (see delivery.Retries).
	retry configretry.BackOffConfig
	stop  *delivery.Stopping

	bootMu   sync.Mutex
	bootDone atomic.Bool
	boot     *bootstrapper

	// free holds batch buffers between pushes. Unlike a sync.Pool it
	// keeps them across garbage collections, which would otherwise make
	// every push regrow megabytes of buffer.
	free   chan *batch
	closed atomic.Bool
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
	e.bodies = delivery.NewBodies(cfg.ClientConfig.Compression == configcompression.TypeGzip, int(cfg.ClientConfig.CompressionParams.Level))
	e.logs = delivery.NewLogLimiter(10 * time.Second)
	e.health = delivery.NewHealth(set.Logger)
	e.retries, e.retry = delivery.NewRetries(cfg.BackOffConfig)
	e.stop = delivery.NewStopping()
	return e, nil
}

func (e *esExporter) start(ctx context.Context, host component.Host) error {
	e.health.Start(host)
	cc := e.cfg.ClientConfig
	// Bulk bodies are compressed by the exporter itself, with pooled
	// writers; left on, the client would also gzip the bodiless version
	// check (and keep a 1.4 MiB writer alive while the collector idles).
	cc.Compression = ""
	httpClient, err := cc.ToClient(ctx, host.GetExtensions(), e.set.TelemetrySettings)
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
	var toIndex func(context.Context, []deadletter.Entry) error
	if e.cfg.DeadLetter.Index != "" {
		toIndex = e.deadLetterIndex
	}
	if e.dead, err = delivery.OpenDeadLetters(e.cfg.DeadLetter.File, e.set.ID, toIndex); err != nil {
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
		if isFatalAtStart(err) {
			return err
		}
		e.logger.Warn("Elasticsearch is not reachable yet; documents wait in the queue", zap.Error(err))
		return nil
	}
	if err := e.ensureBootstrap(sctx); err != nil {
		if isFatalAtStart(err) {
			return err
		}
		e.logger.Warn("bootstrap did not finish; it is retried before the first bulk request", zap.Error(err))
	}
	return nil
}

const (
	startupTimeout = 15 * time.Second
	maxFreeBatches = 8
	// maxKeptScratch bounds the document buffer a batch keeps between
	// pushes, so that one huge record does not pin its memory for good.
	maxKeptScratch = 1 << 20
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
		return statusError(status, body, "GET /")
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
	errs = append(errs, e.dead.Close())
	return errors.Join(errs...)
}

// batch is one push: where each record goes and under which _id, with its
// place in the plog.Logs so that only failed records are handed back for
// retry. It holds no encoded copy of the records: each request body is
// written from the records as it is built, document by document into the
// compressor, and a resend writes its documents again. A push thus keeps a
// few kilobytes of scratch instead of megabytes of bulk lines next to the
// records they were made from, and the compressor reads each document
// while it is still in the cache.
type batch struct {
	ld      plog.Logs
	items   []bulkItem
	scratch []byte // one action line and document at a time
}

type bulkItem struct {
	ref        delivery.Ref
	id, target string
	size       int // bytes of the document, known once it has been written
}

func (b *batch) reset() {
	b.ld, b.items, b.scratch = plog.Logs{}, b.items[:0], b.scratch[:0]
}

// record returns the resource and the record an item was made from.
func (b *batch) record(r delivery.Ref) (pcommon.Resource, plog.LogRecord) {
	rl := b.ld.ResourceLogs().At(int(r.RL))
	return rl.Resource(), rl.ScopeLogs().At(int(r.SL)).LogRecords().At(int(r.LR))
}

func (e *esExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	att := e.retries.Begin(ld)
	if err := e.ensureBootstrap(ctx); err != nil {
		var perm *permanentError
		var auth *authError
		switch {
		case errors.As(err, &auth):
			e.credentialsRefused(err)
			return e.retries.Err(att, delivery.Result{Retry: ld, Cause: err, Auth: true})
		case errors.As(err, &perm):
			e.tel.failed.Add(ctx, int64(ld.LogRecordCount()))
			return consumererror.NewPermanent(err)
		}
		return e.retries.Err(att, delivery.Result{Retry: ld, Cause: err})
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
		if cap(b.scratch) > maxKeptScratch {
			return
		}
		b.reset()
		select {
		case e.free <- b:
		default:
		}
	}()
	e.index(b, ld)
	if len(b.items) == 0 {
		return nil
	}
	all := make([]int, len(b.items))
	for i := range all {
		all[i] = i
	}
	var res sendResult
	e.send(ctx, b, all, &res)
	return e.finish(ctx, ld, b, &res, att)
}

// index decides each record's target and _id. Records from outside the
// contract, which carry no event.id, get an _id from their document's
// content, so that a resend is still a duplicate.
func (e *esExporter) index(b *batch, ld plog.Logs) {
	b.ld = ld
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
				keys := e.ecs.KeysFor(lr)
				it := bulkItem{ref: delivery.Ref{RL: int32(i), SL: int32(j), LR: int32(k)}, target: defaultTarget, id: keys.ID}
				if e.cfg.Index == "" && (keys.Dataset != e.ecs.Dataset || keys.Namespace != e.ecs.Namespace) {
					it.target = "logs-" + keys.Dataset + "-" + keys.Namespace
				}
				if it.id == "" {
					b.scratch = mapping.AppendECS(b.scratch[:0], res, lr, e.ecs)
					sum := sha256.Sum256(b.scratch)
					it.id = hex.EncodeToString(sum[:16])
				}
				b.items = append(b.items, it)
			}
		}
	}
}

// writeItems writes the items idx as create actions and their ECS
// documents and returns the bytes written.
func (e *esExporter) writeItems(w io.Writer, b *batch, idx []int) (int, error) {
	n := 0
	for _, i := range idx {
		it := &b.items[i]
		b.scratch = appendAction(b.scratch[:0], it.target, it.id)
		doc := len(b.scratch)
		res, lr := b.record(it.ref)
		b.scratch = mapping.AppendECS(b.scratch, res, lr, e.ecs)
		it.size = len(b.scratch) - doc
		b.scratch = append(b.scratch, '\n')
		if _, err := w.Write(b.scratch); err != nil {
			return n, err
		}
		n += len(b.scratch)
	}
	return n, nil
}

// document returns item i's ECS document, for the dead-letter destination.
func (e *esExporter) document(b *batch, i int) []byte {
	res, lr := b.record(b.items[i].ref)
	return mapping.AppendECS(nil, res, lr, e.ecs)
}

func appendAction(b []byte, index, id string) []byte {
	b = append(b, `{"create":{"_index":`...)
	b = mapping.AppendJSONString(b, index)
	b = append(b, `,"_id":`...)
	b = mapping.AppendJSONString(b, id)
	return append(b, "}}\n"...)
}
