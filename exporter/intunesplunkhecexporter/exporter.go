package intunesplunkhecexporter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// maxResponseBody bounds how much of an answer is read; HEC's are tiny.
const maxResponseBody = 64 << 10

type hecExporter struct {
	cfg     *Config
	set     exporter.Settings
	logger  *zap.Logger
	urls    endpoints
	enc     encoder
	tel     *telemetry
	limiter *delivery.LogLimiter
	health  *delivery.Health
	retries *delivery.Retries
	// retry is retry_on_failure as exporterhelper gets it: without the
	// time limit, which retries keeps (see delivery.Retries).
	retry configretry.BackOffConfig
	// channel is this exporter's X-Splunk-Request-Channel (ack only).
	channel string
	auth    string
	bodies  *delivery.Bodies

	client *http.Client
	dl     *delivery.DeadLetters

	stop     *delivery.Stopping
	noAckIDs sync.Once

	// encs keeps a few encoding buffers (megabytes each) across pushes;
	// a sync.Pool would drop them at every GC, which such pushes trigger.
	encs chan *encoded
}

func newHECExporter(cfg *Config, set exporter.Settings) (*hecExporter, error) {
	urls, err := parseEndpoint(cfg.ClientConfig.Endpoint)
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	e := &hecExporter{
		cfg:     cfg,
		set:     set,
		logger:  set.Logger,
		urls:    urls,
		tel:     tel,
		limiter: delivery.NewLogLimiter(10 * time.Second),
		health:  delivery.NewHealth(set.Logger),
		auth:    "Splunk " + strings.TrimSpace(string(cfg.Token)),
		enc: encoder{
			opts:     mapping.HECOptions{Index: cfg.Index, Source: cfg.Source, Sourcetype: cfg.Sourcetype},
			maxEvent: cfg.MaxEventSize,
			oversize: cfg.Oversize,
		},
		stop:   delivery.NewStopping(),
		encs:   make(chan *encoded, 16),
		bodies: delivery.NewBodies(cfg.ClientConfig.Compression == configcompression.TypeGzip, int(cfg.ClientConfig.CompressionParams.Level)),
	}
	e.retries, e.retry = delivery.NewRetries(cfg.BackOff)
	if cfg.Ack.Enabled {
		e.channel = newChannelID()
	}
	return e, nil
}

// newChannelID returns a random (version 4) GUID.
func newChannelID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (e *hecExporter) start(ctx context.Context, host component.Host) error {
	e.health.Start(host)
	cc := e.cfg.ClientConfig
	// The exporter compresses bodies itself, with pooled writers.
	cc.Compression = ""
	client, err := cc.ToClient(ctx, host.GetExtensions(), e.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("building the HTTP client: %w", err)
	}
	dl, err := delivery.OpenDeadLetters(e.cfg.DeadLetter, e.set.ID, nil)
	if err != nil {
		return fmt.Errorf("dead_letter::path: %w", err)
	}
	e.client, e.dl = client, dl
	if e.cfg.Ack.Enabled {
		e.logger.Info("Indexer acknowledgement enabled", zap.String("channel", e.channel))
	}
	if e.cfg.HealthCheck.Enabled {
		if err := e.checkHealth(ctx); err != nil {
			// Not fatal: failing Start would stop the whole collector and
			// make a supervisor restart it in a loop while Splunk is down,
			// taking the receivers (and their checkpoints) and other
			// exporters with it. The queue holds the events meanwhile.
			e.health.Failing(err, "Splunk HEC health check failed; the exporter starts anyway and keeps events in its sending queue until HEC accepts them")
		}
	}
	return nil
}

func (e *hecExporter) shutdown(context.Context) error {
	e.stop.Stop()
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	err := e.dl.Close()
	return err
}

func (e *hecExporter) checkHealth(ctx context.Context) error {
	timeout := 10 * time.Second
	if t := e.cfg.ClientConfig.Timeout; t > 0 && t < timeout {
		timeout = t
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.urls.health, http.NoBody)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", e.auth)
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w (check the endpoint setting, the network path and the tls settings)", e.urls.health, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	v := classify(resp.StatusCode, resp.Header, body)
	switch {
	case v.Kind == delivery.Delivered:
		return nil
	case v.Kind == delivery.Throttle:
		return fmt.Errorf("GET %s: %s: HEC is up but cannot take data now", e.urls.health, v.describe())
	case v.hint != "":
		return fmt.Errorf("GET %s: %s: %s", e.urls.health, v.describe(), v.hint)
	default:
		return fmt.Errorf("GET %s: %s", e.urls.health, v.describe())
	}
}

// pushLogs sends ld and returns only when every event was delivered (with
// ack.enabled: acknowledged), dead-lettered, or handed back for retry as a
// consumererror.Logs holding exactly the records still to send.
func (e *hecExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	att := e.retries.Begin(ld)
	eb := e.getEncoded()
	defer e.putEncoded(eb)
	rejected, truncated := e.enc.encode(ld, eb)
	if truncated > 0 {
		e.tel.truncated.Add(ctx, int64(truncated))
	}
	if len(rejected) > 0 {
		e.deadLetterOversized(ctx, ld, rejected)
	}
	if eb.len() == 0 {
		return nil
	}
	s := sendState{e: e, ctx: ctx, ld: ld, eb: eb, acks: map[int64]*pendingAck{}}
	s.queue = e.split(eb)
	s.run()
	return e.retries.Err(att, s.result())
}

func (e *hecExporter) getEncoded() *encoded {
	select {
	case v := <-e.encs:
		v.reset()
		return v
	default:
		return &encoded{}
	}
}

func (e *hecExporter) putEncoded(v *encoded) {
	if cap(v.buf) > 64<<20 {
		return // an unusual giant batch; let it go
	}
	select {
	case e.encs <- v:
	default:
	}
}

// split cuts the events into requests no larger than max_content_length.
func (e *hecExporter) split(eb *encoded) [][]int {
	var out [][]int
	var cur []int
	size := 0
	for i := 0; i < eb.len(); i++ {
		n := len(eb.event(i))
		if len(cur) > 0 && size+n > e.cfg.MaxContentLength {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

type pendingAck struct {
	ids  []int
	sent time.Time
}

// sendState is one push: the requests still to send, the ones waiting for
// acknowledgement, and what has to go back to the queue.
type sendState struct {
	e     *hecExporter
	ctx   context.Context
	ld    plog.Logs
	eb    *encoded
	queue [][]int
	acks  map[int64]*pendingAck

	retry      []int
	retryCause error
	throttle   time.Duration
	throttles  int  // busy answers waited out within the push
	authFailed bool // the token was refused: the events wait for a fix
	permanent  error
}

func (s *sendState) run() {
	e := s.e
	for len(s.queue) > 0 {
		b := s.queue[0]
		s.queue = s.queue[1:]
		v, err := e.post(s.ctx, s.eb, b)
		if err != nil {
			s.giveBack(b, reasonTransport, fmt.Errorf("sending to %s: %w", e.urls.event, err))
			break
		}
		if v.Kind != delivery.Delivered {
			e.tel.addFailed(s.ctx, len(b), v)
		}
		if !s.handle(b, v) {
			break
		}
	}
	if len(s.acks) > 0 {
		s.waitAcks()
	}
}

// result is what exporterhelper gets back: the events still to send, in
// record order, and what failed for good.
func (s *sendState) result() delivery.Result {
	res := delivery.Result{Cause: s.retryCause, Auth: s.authFailed, Wait: s.throttle, Failed: s.permanent}
	if len(s.retry) > 0 {
		slices.Sort(s.retry)
		refs := make([]delivery.Ref, len(s.retry))
		for n, id := range s.retry {
			refs[n] = s.eb.refs[id]
		}
		res.Retry = delivery.Subset(s.ld, refs)
	}
	return res
}

// handle acts on the answer to request b; false stops sending the rest.
func (s *sendState) handle(b []int, v verdict) bool {
	e := s.e
	switch {
	case v.Kind == delivery.Delivered:
		e.health.OK()
		if e.cfg.Ack.Enabled {
			if v.hasAckID {
				s.acks[v.ackID] = &pendingAck{ids: b, sent: time.Now()}
				return true
			}
			e.noAckIDs.Do(func() {
				e.logger.Warn("ack::enabled is true but HEC answered without an ackId, so events count as delivered when accepted; turn indexer acknowledgement on for the token to get acknowledgements")
			})
		}
		e.tel.addDelivered(s.ctx, len(b))
	case (v.Kind == delivery.DeadLetter && !v.badIndex) || v.Kind == delivery.TooLarge:
		reason := reasonBadEvent
		if v.Kind == delivery.TooLarge {
			reason = reasonTooLarge
		}
		switch k := v.badEvent; {
		case k >= 0 && k < len(b):
			s.deadLetter(b[k:k+1], v, reason)
			s.requeue(without(b, k))
		case len(b) == 1:
			s.deadLetter(b, v, reason)
		default:
			// HEC did not say which event: halve until it is found.
			h := len(b) / 2
			s.requeue(b[:h], b[h:])
		}
	case v.Kind == delivery.DeadLetter:
		bad := b
		if k := v.badEvent; k >= 0 && k < len(b) {
			idx := s.eb.index[b[k]]
			bad = nil
			var rest []int
			for _, id := range b {
				if s.eb.index[id] == idx {
					bad = append(bad, id)
				} else {
					rest = append(rest, id)
				}
			}
			s.requeue(rest)
		}
		idx := s.eb.index[bad[0]]
		e.logger.Error("Splunk HEC refused the index; the events naming it went to the dead-letter file",
			zap.String("index", idx), zap.Int("events", len(bad)), zap.String("answer", v.describe()), zap.String("what_to_do", v.hint))
		s.deadLetter(bad, v, reasonBadIndex)
	case v.Kind == delivery.Throttle:
		s.throttles++
		if pause, ok := delivery.ThrottlePause(s.throttles, v.Wait); ok && delivery.Pause(s.ctx, e.stop.C(), pause) {
			// Busy for a moment: wait here rather than hold the events
			// in exporterhelper's backoff (see delivery.ThrottlePause).
			e.tel.addRetried(s.ctx, len(b), reasonThrottled)
			s.requeue(b)
			return true
		}
		s.throttle = max(s.throttle, v.Wait)
		s.giveBack(b, reasonThrottled, fmt.Errorf("HEC is busy: %s", v.describe()))
		return false
	case v.Kind == delivery.Retry:
		s.giveBack(b, reasonServer, fmt.Errorf("HEC failed: %s", v.describe()))
		return false
	case v.Kind == delivery.Auth:
		// The token is the configuration, not the data: keep the events
		// (retried with backoff, without the time limit) until it is fixed.
		err := fmt.Errorf("HEC at %s refused the token: %s: %s", e.urls.event, v.describe(), v.hint)
		e.health.Failing(err, "Splunk HEC refuses the exporter's token; the events are kept and sent again until it accepts them")
		s.authFailed = true
		s.giveBack(b, reasonCredentials, err)
		return false
	default:
		s.permanent = fmt.Errorf("HEC at %s refused the request: %s: %s", e.urls.event, v.describe(), v.hint)
		e.logger.Error("Splunk HEC refused the exporter's configuration; events go to the dead-letter file until it is fixed",
			zap.String("answer", v.describe()), zap.String("what_to_do", v.hint))
		all := append(append([]int(nil), b...), flatten(s.queue)...)
		s.queue = nil
		s.deadLetter(all, v, reasonConfig)
		return false
	}
	return true
}

// requeue puts requests at the front of the queue, skipping empty ones.
func (s *sendState) requeue(bs ...[]int) {
	var front [][]int
	for _, b := range bs {
		if len(b) > 0 {
			front = append(front, b)
		}
	}
	s.queue = append(front, s.queue...)
}

// giveBack hands b and everything not yet sent back for retry.
func (s *sendState) giveBack(b []int, reason string, cause error) {
	n := len(s.retry)
	s.retry = append(s.retry, b...)
	s.retry = append(s.retry, flatten(s.queue)...)
	s.queue = nil
	s.retryCause = errors.Join(s.retryCause, cause)
	s.e.tel.addRetried(s.ctx, len(s.retry)-n, reason)
}

func (s *sendState) deadLetter(ids []int, v verdict, reason string) {
	e := s.e
	entries := make([]deadletter.Entry, 0, len(ids))
	now := time.Now()
	text := v.describe()
	if v.hint != "" {
		text += ": " + v.hint
	}
	for _, id := range ids {
		entries = append(entries, deadletter.Entry{
			Time:     now,
			Exporter: e.set.ID.String(),
			Status:   v.Status,
			Reason:   text,
			ID:       eventID(s.ld, s.eb.refs[id]),
			Document: json.RawMessage(append([]byte(nil), s.eb.event(id)...)),
		})
	}
	e.writeDeadLetters(s.ctx, entries, reason)
}

func (e *hecExporter) deadLetterOversized(ctx context.Context, ld plog.Logs, rej []oversized) {
	entries := make([]deadletter.Entry, 0, len(rej))
	now := time.Now()
	for _, r := range rej {
		entries = append(entries, deadletter.Entry{
			Time:     now,
			Exporter: e.set.ID.String(),
			Reason:   r.reason,
			ID:       eventID(ld, r.ref),
			Document: r.doc,
		})
	}
	e.writeDeadLetters(ctx, entries, reasonOversize)
}

func (e *hecExporter) writeDeadLetters(ctx context.Context, entries []deadletter.Entry, reason string) {
	if len(entries) == 0 {
		return
	}
	e.tel.addDeadLettered(ctx, len(entries), reason)
	fields := []zap.Field{zap.String("reason", entries[0].Reason), zap.Int("events", len(entries))}
	if entries[0].ID != "" {
		fields = append(fields, zap.String("first_event_id", entries[0].ID))
	}
	if err := e.dl.Write(ctx, entries); err != nil {
		e.logger.Error("Could not write refused events to the dead-letter file; they are lost", append(fields, zap.Error(err))...)
		return
	}
	msg := "Events refused for good were written to the dead-letter file"
	if !e.dl.Configured() {
		msg = "Events refused for good were dropped; set dead_letter::path to keep them"
	}
	e.limiter.Log(e.logger, zapcore.WarnLevel, reason, msg, fields...)
}

// post sends the events ids as one request and classifies the answer.
func (e *hecExporter) post(ctx context.Context, eb *encoded, ids []int) (verdict, error) {
	buf, err := e.bodies.Build(func(w io.Writer) error {
		for _, id := range ids {
			if _, err := w.Write(eb.event(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return verdict{}, err
	}
	size := buf.Len()
	body := e.bodies.Reader(buf)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.urls.event, body)
	if err != nil {
		body.Close()
		return verdict{}, err
	}
	req.ContentLength = int64(size)
	req.Header.Set("Authorization", e.auth)
	req.Header.Set("Content-Type", "application/json")
	if e.bodies.Gzip() {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if e.channel != "" {
		req.Header.Set("X-Splunk-Request-Channel", e.channel)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return verdict{}, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil && resp.StatusCode/100 == 2 {
		// A cut answer to a success could hide an ackId; treat it as not
		// delivered rather than guess.
		return verdict{}, fmt.Errorf("reading the answer: %w", err)
	}
	return classify(resp.StatusCode, resp.Header, rb), nil
}

// waitAcks polls /services/collector/ack until every request of the push
// is acknowledged; those not acknowledged within ack::timeout, or when the
// push is cancelled or the exporter shuts down, go back for retry.
func (s *sendState) waitAcks() {
	e := s.e
	t := time.NewTimer(e.cfg.Ack.PollInterval)
	defer t.Stop()
	for len(s.acks) > 0 {
		select {
		case <-s.ctx.Done():
			s.abandonAcks(reasonShutdown, fmt.Errorf("waiting for indexer acknowledgement: %w", s.ctx.Err()))
			return
		case <-e.stop.C():
			s.abandonAcks(reasonShutdown, errors.New("shutting down before HEC acknowledged the events"))
			return
		case <-t.C:
		}
		ids := make([]int64, 0, len(s.acks))
		for id := range s.acks {
			ids = append(ids, id)
		}
		status, err := e.pollAcks(s.ctx, ids)
		now := time.Now()
		if err != nil {
			e.limiter.Log(e.logger, zapcore.WarnLevel, "ack_poll", "Polling HEC for indexer acknowledgements failed; polling again", zap.Error(err))
		}
		for id, ok := range status {
			p := s.acks[id]
			if !ok || p == nil {
				continue
			}
			e.tel.ackLatency.Record(s.ctx, now.Sub(p.sent).Seconds())
			e.tel.addDelivered(s.ctx, len(p.ids))
			delete(s.acks, id)
		}
		var late []int
		for id, p := range s.acks {
			if now.Sub(p.sent) >= e.cfg.Ack.Timeout {
				late = append(late, p.ids...)
				delete(s.acks, id)
			}
		}
		if len(late) > 0 {
			s.retry = append(s.retry, late...)
			s.retryCause = errors.Join(s.retryCause, fmt.Errorf("HEC did not acknowledge %d events within ack::timeout (%s); sending them again", len(late), e.cfg.Ack.Timeout))
			e.tel.addRetried(s.ctx, len(late), reasonAckTimeout)
		}
		t.Reset(e.cfg.Ack.PollInterval)
	}
}

func (s *sendState) abandonAcks(reason string, cause error) {
	n := 0
	for id, p := range s.acks {
		s.retry = append(s.retry, p.ids...)
		n += len(p.ids)
		delete(s.acks, id)
	}
	s.retryCause = errors.Join(s.retryCause, cause)
	s.e.tel.addRetried(s.ctx, n, reason)
}

func (e *hecExporter) pollAcks(ctx context.Context, ids []int64) (map[int64]bool, error) {
	body, _ := json.Marshal(struct {
		Acks []int64 `json:"acks"`
	}{ids})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// A shutdown also ends a poll in flight.
		select {
		case <-e.stop.C():
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.urls.ack, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", e.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", e.channel)
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if resp.StatusCode != http.StatusOK {
		v := classify(resp.StatusCode, resp.Header, rb)
		if v.hint != "" {
			return nil, fmt.Errorf("POST %s: %s: %s", e.urls.ack, v.describe(), v.hint)
		}
		return nil, fmt.Errorf("POST %s: %s", e.urls.ack, v.describe())
	}
	return parseAckResponse(rb)
}

func eventID(ld plog.Logs, ref delivery.Ref) string {
	lr := delivery.Record(ld, ref)
	if v, ok := lr.Attributes().Get(mapping.AttrEventID); ok {
		return v.AsString()
	}
	return ""
}

func without(b []int, k int) []int {
	out := make([]int, 0, len(b)-1)
	out = append(out, b[:k]...)
	return append(out, b[k+1:]...)
}

func flatten(q [][]int) []int {
	var out []int
	for _, b := range q {
		out = append(out, b...)
	}
	return out
}
