package intuneelasticsearchexporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
)

// sendResult collects what happened to each item over the requests of one
// push.
type sendResult struct {
	delivered, duplicates int
	// rejected: documents the cluster turned away for a moment (item 429
	// or 5xx), resent within the push.
	rejected  []int
	rejectErr error
	// stillRejected: rejected documents handed back to exporterhelper after
	// the push's own resends.
	stillRejected []int
	retry         []int // whole requests that failed for a while
	retryErr      error
	wait          time.Duration // the longest Retry-After of retry
	auth          []int         // refused for the credentials or privileges
	authErr       error
	dead          []deadItem
	failed        []int
	failErr       error
}

type deadItem struct {
	item   int
	status int
	reason string
}

// send sends the documents idx, then resends after a short pause those the
// cluster turned away for a moment, a few times, before handing any still
// turned away to exporterhelper (see delivery.DocPause).
func (e *esExporter) send(ctx context.Context, b *batch, idx []int, res *sendResult) {
	for round := 1; ; round++ {
		throttles := 0
		e.sendItems(ctx, b, idx, res, &throttles)
		if len(res.rejected) == 0 {
			return
		}
		sent := len(idx)
		idx, res.rejected = res.rejected, nil
		pause, ok := delivery.DocPause(round, len(idx), sent)
		if !ok || !delivery.Pause(ctx, e.stop.C(), pause) {
			res.stillRejected = append(res.stillRejected, idx...)
			return
		}
		e.tel.retried.Add(ctx, int64(len(idx)))
	}
}

// sendItems sends items as one bulk request and sorts out the answer,
// splitting the request when Elasticsearch finds it too large and waiting
// out a short throttle.
func (e *esExporter) sendItems(ctx context.Context, b *batch, idx []int, res *sendResult, throttles *int) {
	status, header, respBody, err := e.bulkTo(ctx, func(w io.Writer) (int, error) { return e.writeItems(w, b, idx) }, len(idx), e.cfg.Pipeline)
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
	o := delivery.FromStatus(status, header, time.Now())
	switch o.Kind {
	case delivery.Delivered:
		e.readItems(b, idx, respBody, res)
	case delivery.TooLarge:
		if len(idx) == 1 {
			res.dead = append(res.dead, deadItem{idx[0], status,
				fmt.Sprintf("the document alone (%d bytes) is larger than the cluster's http.max_content_length", b.items[idx[0]].size)})
			return
		}
		half := len(idx) / 2
		e.sendItems(ctx, b, idx[:half], res, throttles)
		e.sendItems(ctx, b, idx[half:], res, throttles)
	case delivery.Throttle:
		*throttles++
		if pause, ok := delivery.ThrottlePause(*throttles, o.Wait); ok && delivery.Pause(ctx, e.stop.C(), pause) {
			e.tel.retried.Add(ctx, int64(len(idx)))
			e.sendItems(ctx, b, idx, res, throttles)
			return
		}
		res.retry = append(res.retry, idx...)
		res.retryErr = fmt.Errorf("Elasticsearch is overloaded (%d: %s)", status, errorReason(respBody))
		res.wait = max(res.wait, o.Wait)
	case delivery.Auth:
		res.auth = append(res.auth, idx...)
		res.authErr = statusError(status, respBody, "bulk request to "+b.items[idx[0]].target)
	case delivery.Retry:
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

// readItems applies the per-item outcomes of a bulk answer.
func (e *esExporter) readItems(b *batch, idx []int, body []byte, res *sendResult) {
	outs, err := classifyBulk(body, len(idx))
	if err != nil {
		// Not knowing which went in, send them all again: those that did
		// come back as 409 duplicates.
		res.retry = append(res.retry, idx...)
		res.retryErr = err
		return
	}
	if outs == nil {
		res.delivered += len(idx)
		return
	}
	for n, o := range outs {
		i := idx[n]
		switch o.Kind {
		case delivery.Delivered:
			res.delivered++
		case delivery.Duplicate:
			res.duplicates++
		case delivery.Retry:
			res.rejected = append(res.rejected, i)
			res.rejectErr = fmt.Errorf("Elasticsearch asked to retry documents (%d %s)", o.Status, o.reason)
		case delivery.Auth:
			res.auth = append(res.auth, i)
			res.authErr = authFailure(fmt.Errorf("Elasticsearch refused to write to %s with these credentials (%d %s); %s", b.items[i].target, o.Status, o.reason, hintPrivileges))
		default:
			res.dead = append(res.dead, deadItem{i, o.Status, o.reason})
		}
	}
}

// bulkTo sends one bulk request whose body write writes (and returns the
// length of, before compression), and returns the status and the answer.
func (e *esExporter) bulkTo(ctx context.Context, write func(io.Writer) (int, error), docs int, pipeline string) (int, http.Header, []byte, error) {
	if e.cfg.ClientConfig.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.ClientConfig.Timeout)
		defer cancel()
	}
	size := 0
	body, err := e.bodies.Build(func(w io.Writer) error {
		var err error
		size, err = write(w)
		return err
	})
	if err != nil {
		return 0, nil, nil, err
	}
	defer e.bodies.Release(body)
	opts := []func(*esapi.BulkRequest){
		e.client.Bulk.WithContext(ctx),
		e.client.Bulk.WithPipeline(pipeline),
		e.client.Bulk.WithFilterPath(filterPath...),
	}
	if e.bodies.Gzip() {
		// confighttp leaves a body that already has an encoding alone.
		opts = append(opts, e.client.Bulk.WithHeader(map[string]string{"Content-Encoding": "gzip"}))
	}
	start := time.Now()
	res, err := e.client.Bulk(bytes.NewReader(body.Bytes()), opts...)
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

// finish counts, dead-letters and decides what exporterhelper retries.
func (e *esExporter) finish(ctx context.Context, ld plog.Logs, b *batch, res *sendResult, att delivery.Attempt) error {
	e.tel.delivered.Add(ctx, int64(res.delivered))
	e.tel.duplicates.Add(ctx, int64(res.duplicates))

	if len(res.stillRejected) > 0 {
		if e.retries.Expired(att) && e.dead.Configured() {
			// Out of time: what a cluster kept turning away goes where
			// refused documents go, with the reason.
			reason := fmt.Sprintf("still turned away after retry_on_failure::max_elapsed_time: %v", res.rejectErr)
			for _, i := range res.stillRejected {
				res.dead = append(res.dead, deadItem{i, http.StatusTooManyRequests, delivery.Clip(reason)})
			}
		} else {
			res.retry = append(res.retry, res.stillRejected...)
			res.retryErr = res.rejectErr
		}
	}
	if len(res.dead) > 0 {
		e.keepRefused(ctx, b, res)
	}
	if len(res.auth) > 0 {
		e.credentialsRefused(res.authErr)
		res.retry = append(res.retry, res.auth...)
	} else if res.delivered+res.duplicates+len(res.dead) > 0 {
		e.health.OK()
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
		refs := make([]delivery.Ref, len(res.retry))
		for n, i := range res.retry {
			refs[n] = b.items[i].ref
		}
		cause := res.retryErr
		if res.authErr != nil {
			cause = res.authErr
		}
		return e.retries.Err(att, delivery.Result{Retry: delivery.Subset(ld, refs), Cause: cause, Auth: len(res.auth) > 0, Wait: res.wait})
	}
	if len(res.failed) > 0 {
		return e.retries.Err(att, delivery.Result{Failed: fmt.Errorf("%d documents dropped: %w", len(res.failed), res.failErr)})
	}
	return nil
}

// credentialsRefused reports the exporter unhealthy and says, at most once
// a minute, which setting to fix. The records are kept.
func (e *esExporter) credentialsRefused(err error) {
	e.health.Failing(err, "Elasticsearch refuses the exporter's credentials or their privileges; the records are kept and sent again until it accepts them")
}

// keepRefused moves res.dead to the dead-letter destination; when it
// cannot take them they are retried, and without one they fail.
func (e *esExporter) keepRefused(ctx context.Context, b *batch, res *sendResult) {
	first := res.dead[0]
	if !e.dead.Configured() {
		for _, d := range res.dead {
			res.failed = append(res.failed, d.item)
		}
		res.failErr = fmt.Errorf("Elasticsearch refused %d documents for good (first: _id %s, %d %s); set dead_letter::path or dead_letter::index to keep such documents",
			len(res.dead), b.items[first.item].id, first.status, first.reason)
		return
	}
	now := time.Now().UTC()
	entries := make([]deadletter.Entry, len(res.dead))
	for n, d := range res.dead {
		it := b.items[d.item]
		entries[n] = e.dead.Entry(now, d.status, d.reason, it.id, it.target, e.document(b, d.item))
	}
	if err := e.dead.Write(ctx, entries); err != nil {
		// The destination could not take them: retry rather than lose
		// them.
		for _, d := range res.dead {
			res.retry = append(res.retry, d.item)
		}
		res.retryErr = fmt.Errorf("dead-letter destination: %w", err)
		return
	}
	e.tel.deadLettered.Add(ctx, int64(len(res.dead)))
	e.logs.Log(e.logger, zapcore.WarnLevel, "refused", "Elasticsearch refused documents; they are in the dead-letter destination",
		zap.Int("documents", len(res.dead)), zap.String("first_id", entries[0].ID),
		zap.Int("first_status", first.status), zap.String("first_reason", first.reason))
}
