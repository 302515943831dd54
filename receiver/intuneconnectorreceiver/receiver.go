package intuneconnectorreceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v7"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/internal/catalogfile"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/batch"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/checkpoint"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/metadata"
)

// Resource attribute values the receiver sets on every batch.
const (
	serviceName      = "intune-certificate-connector"
	serviceNamespace = "microsoft-intune"
	// obsFormat labels the receiver's standard accepted/refused metrics.
	obsFormat = "windows_event"
)

type intuneReceiver struct {
	set    receiver.Settings
	cfg    *Config
	next   consumer.Logs
	obs    *receiverhelper.ObsReport
	tel    *telemetry
	logger *zap.Logger
	warn   *limitedLogger

	// openChannel subscribes to a channel; the platform binding on
	// Windows, replaced in tests.
	openChannel channelOpener
	// tailTimeout overrides how long a file may end inside an event before
	// the partial event is passed over (tests shorten it).
	tailTimeout time.Duration
	// betweenPolls, when set, replaces the wait for the next file poll:
	// tests step polls one by one with it. It returns false to stop.
	betweenPolls func(context.Context) bool

	// Set by Start.
	enricher *mapping.Enricher
	client   storage.Client
	resource pcommon.Resource
	files    *fileSource
	channels []*channelReader
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex // guards cancel and client against concurrent Shutdown
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*intuneReceiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "file", LongLivedCtx: true, ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &intuneReceiver{
		set: set, cfg: cfg, next: next, obs: obs, tel: tel,
		logger:      set.Logger,
		warn:        newLimitedLogger(set.Logger, 10*time.Second),
		openChannel: platformChannelOpener(cfg.Remote, set.Logger),
	}, nil
}

// Start loads the catalog and the checkpoints' storage and starts reading.
func (r *intuneReceiver) Start(ctx context.Context, host component.Host) error {
	en, err := catalogfile.Enricher("enrichment", r.cfg.Enrichment)
	if err != nil {
		return err
	}
	r.enricher = en
	client, err := r.storageClient(ctx, host)
	if err != nil {
		return err
	}
	r.resource = buildResource()

	runCtx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	r.client, r.cancel = client, cancel
	r.mu.Unlock()

	if len(r.cfg.Include) > 0 {
		r.files = newFileSource(r)
		r.wg.Go(func() { r.files.run(runCtx) })
	}
	if len(r.cfg.Channels) > 0 {
		if r.openChannel == nil {
			// Validate rejects channels off Windows; this is a safety net.
			r.logger.Error("channels are configured but this build cannot read Windows event log channels; only files are read")
		} else {
			for _, ch := range r.cfg.Channels {
				c := newChannelReader(r, ch)
				r.channels = append(r.channels, c)
				r.wg.Go(func() { c.run(runCtx) })
			}
		}
	}
	return nil
}

// Shutdown stops reading, waits for the readers and closes the storage
// client. It is safe to call without Start and more than once.
func (r *intuneReceiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	cancel := r.cancel
	r.cancel = nil
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	r.wg.Wait()
	// The readers are done with the client only now.
	r.mu.Lock()
	client := r.client
	r.client = nil
	r.mu.Unlock()
	if client != nil {
		return client.Close(ctx)
	}
	return nil
}

func (r *intuneReceiver) storageClient(ctx context.Context, host component.Host) (storage.Client, error) {
	if r.cfg.Storage == nil {
		r.logger.Warn("no storage extension configured: checkpoints and bookmarks are kept in memory only, so after a restart files and channels are read again from start_at; set storage to a file_storage extension to resume where the last run stopped")
		return checkpoint.NewMemoryClient(), nil
	}
	ext, ok := host.GetExtensions()[*r.cfg.Storage]
	if !ok {
		return nil, fmt.Errorf("storage: extension %q not found; declare it under extensions and list it in service.extensions", r.cfg.Storage.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage: extension %q is not a storage extension (use file_storage)", r.cfg.Storage.String())
	}
	c, err := se.GetClient(ctx, component.KindReceiver, r.set.ID, "")
	if err != nil {
		return nil, fmt.Errorf("storage: getting a client from %q: %w", r.cfg.Storage.String(), err)
	}
	return c, nil
}

func buildResource() pcommon.Resource {
	res := pcommon.NewResource()
	a := res.Attributes()
	if h, err := os.Hostname(); err == nil && h != "" {
		a.PutStr("host.name", h)
	}
	a.PutStr("os.type", osType())
	a.PutStr("service.name", serviceName)
	a.PutStr("service.namespace", serviceNamespace)
	return res
}

// osType maps GOOS to the OpenTelemetry os.type values.
func osType() string {
	switch runtime.GOOS {
	case "dragonfly":
		return "dragonflybsd"
	case "zos":
		return "z_os"
	}
	return runtime.GOOS
}

// enrichChunk is how many events a worker enriches at a time.
const enrichChunk = 64

// build enriches the batch's events into records, in parallel, and
// returns them with the count of events not in the catalog.
func (r *intuneReceiver) build(b *batch.Batch) (plog.Logs, int) {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	r.resource.CopyTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	recs := sl.LogRecords()
	n := b.Len()
	recs.EnsureCapacity(n)
	for range n {
		recs.AppendEmpty()
	}
	now := time.Now()
	observed := pcommon.NewTimestampFromTime(now)
	src := r.tel.src(b.Source)
	// Workers take chunks in turn, so none idles while another still has
	// a long share.
	var next, unmatched atomic.Int64
	work := func() {
		um := 0
		var file [2]mapping.Attr
		for {
			lo := int(next.Add(enrichChunk)) - enrichChunk
			if lo >= n {
				break
			}
			for i := lo; i < min(lo+enrichChunk, n); i++ {
				ev := &b.Events[i]
				lr := recs.At(i)
				if !r.enricher.EnrichWith(ev, lr, r.fileAttrs(file[:0], b, i)).Matched {
					um++
				}
				lr.SetObservedTimestamp(observed)
				if !ev.TimeCreated.IsZero() {
					r.tel.lag.Record(context.Background(), now.Sub(ev.TimeCreated).Seconds(), src)
				}
			}
		}
		unmatched.Add(int64(um))
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (n+enrichChunk-1)/enrichChunk) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return logs, int(unmatched.Load())
}

// fileAttrs appends the log.file attributes of event i of b to dst.
func (r *intuneReceiver) fileAttrs(dst []mapping.Attr, b *batch.Batch, i int) []mapping.Attr {
	if b.Paths == nil || b.Paths[i] == "" {
		return dst
	}
	if r.cfg.IncludeFileName {
		dst = append(dst, mapping.Attr{Key: attrLogFileName, Value: filepath.Base(b.Paths[i])})
	}
	if r.cfg.IncludeFilePath {
		dst = append(dst, mapping.Attr{Key: attrLogFilePath, Value: b.Paths[i]})
	}
	return dst
}

// deliver hands the batch to the pipeline and, once it is accepted (or
// given up as documented), writes its checkpoints. It returns an error only
// when ctx ended first; the checkpoints are then left where they were, so
// the batch is read again after a restart.
func (r *intuneReceiver) deliver(ctx context.Context, b *batch.Batch) error {
	n := b.Len()
	if n == 0 {
		r.commit(ctx, b)
		return nil
	}
	logs, unmatched := r.build(b)
	b.Release() // the records hold what is needed now
	src := r.tel.src(b.Source)
	r.tel.read.Add(ctx, int64(n), src)
	if unmatched > 0 {
		r.tel.unmatched.Add(ctx, int64(unmatched), src)
	}
	if err := r.send(ctx, b.Source, logs, n, time.Now()); err != nil {
		return err
	}
	r.commit(ctx, b)
	return nil
}

// send hands logs (n records from source) to the pipeline, retrying as
// configured. It returns an error only when ctx ended first. A piece the
// pipeline refuses as too large (an exporter queue smaller than the batch
// refuses it on every attempt) is sent as two halves instead, so a small
// queue_size downstream slows delivery rather than stopping it.
func (r *intuneReceiver) send(ctx context.Context, source string, logs plog.Logs, n int, start time.Time) error {
	src := r.tel.src(source)
	var bo *backoff.ExponentialBackOff
	for {
		obsCtx := r.obs.StartLogsOp(ctx)
		err := r.next.ConsumeLogs(obsCtx, logs)
		r.obs.EndLogsOp(obsCtx, obsFormat, n, err)
		if err == nil {
			r.tel.emitted.Add(ctx, int64(n), src)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if consumererror.IsPermanent(err) {
			r.logger.Error("the pipeline refused a batch for good; its events are dropped and reading goes on after them",
				zap.String("source", source), zap.Int("events", n), zap.Error(err))
			r.tel.drop(ctx, source, dropPermanent, n)
			return nil
		}
		if n > 1 && tooLarge(err) && splittable(logs) {
			r.warn.Warn("split/"+source, "the pipeline refused a batch as too large; sending it in smaller pieces (raise the exporter's sending_queue::queue_size above this receiver's max_batch_size)",
				zap.String("source", source), zap.Int("events", n), zap.Error(err))
			first, second, n1 := splitLogs(logs, n)
			if err := r.send(ctx, source, first, n1, start); err != nil {
				return err
			}
			return r.send(ctx, source, second, n-n1, start)
		}
		if bo == nil {
			bo = &backoff.ExponentialBackOff{
				InitialInterval:     r.cfg.Retry.InitialInterval,
				RandomizationFactor: r.cfg.Retry.RandomizationFactor,
				Multiplier:          r.cfg.Retry.Multiplier,
				MaxInterval:         r.cfg.Retry.MaxInterval,
			}
			bo.Reset()
		}
		wait := bo.NextBackOff()
		if !r.cfg.Retry.Enabled || (r.cfg.Retry.MaxElapsedTime > 0 && time.Since(start)+wait > r.cfg.Retry.MaxElapsedTime) {
			r.logger.Error("the pipeline kept refusing a batch and retry_on_failure gave up; its events are dropped and reading goes on after them",
				zap.String("source", source), zap.Int("events", n), zap.Duration("tried_for", time.Since(start)), zap.Error(err))
			r.tel.drop(ctx, source, dropExhausted, n)
			return nil
		}
		r.warn.Warn("retry/"+source, "the pipeline refused a batch; sending it again after a pause (the checkpoint stays until it is accepted)",
			zap.String("source", source), zap.Int("events", n), zap.Duration("retry_in", wait), zap.Error(err))
		r.tel.retries.Add(ctx, 1, src)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// tooLarge reports a refusal that no retry of the same request can
// overcome: the collector's exporter queue answers "element size too
// large" for a request with more items than its queue_size.
func tooLarge(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "too large")
}

func splittable(logs plog.Logs) bool {
	return logs.ResourceLogs().Len() == 1 && logs.ResourceLogs().At(0).ScopeLogs().Len() == 1
}

// splitLogs moves the records of logs (one resource, one scope, n records,
// as build makes them) into two new Logs of about half each.
func splitLogs(logs plog.Logs, n int) (first, second plog.Logs, n1 int) {
	n1 = n / 2
	first, second = plog.NewLogs(), plog.NewLogs()
	src := logs.ResourceLogs().At(0)
	for _, dst := range []plog.Logs{first, second} {
		rl := dst.ResourceLogs().AppendEmpty()
		src.Resource().CopyTo(rl.Resource())
		sl := rl.ScopeLogs().AppendEmpty()
		src.ScopeLogs().At(0).Scope().CopyTo(sl.Scope())
	}
	recs := src.ScopeLogs().At(0).LogRecords()
	i := 0
	recs.RemoveIf(func(lr plog.LogRecord) bool {
		dst := second
		if i < n1 {
			dst = first
		}
		i++
		lr.MoveTo(dst.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty())
		return true
	})
	return first, second, n1
}

// commit writes the batch's checkpoints. A storage failure is logged, not
// returned: the events were delivered, and the worst outcome is that they
// are read again after a restart.
func (r *intuneReceiver) commit(ctx context.Context, b *batch.Batch) {
	if len(b.Commits) == 0 {
		return
	}
	if err := r.client.Batch(context.WithoutCancel(ctx), b.Commits...); err != nil {
		r.warn.Warn("storage", "could not save checkpoints; the events were delivered but may be read again after a restart",
			zap.Error(err))
	}
}
