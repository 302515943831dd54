package intunesplunkhecexporter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func TestPushDelivers(t *testing.T) {
	tests := []struct {
		name        string
		compression configcompression.Type
		maxContent  int
		wantPosts   int
	}{
		{name: "gzip_split", compression: configcompression.TypeGzip, maxContent: 64 << 10, wantPosts: 4},
		{name: "plain_split", compression: "none", maxContent: 64 << 10, wantPosts: 4},
		{name: "gzip_one_request", compression: configcompression.TypeGzip, maxContent: 2 << 20, wantPosts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := hectest.New()
			defer rec.Close()
			rec.RequireToken("test-token")
			te := newTestExporter(t, rec, func(c *Config) {
				c.ClientConfig.Compression = tt.compression
				c.MaxContentLength = tt.maxContent
				c.MaxEventSize = 32 << 10
				c.Index = "intune"
			})
			ld := catalogLogs(t, 150)
			if err := te.pushLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
			posts := rec.EventPosts()
			if len(posts) < tt.wantPosts {
				t.Fatalf("%d requests, want at least %d", len(posts), tt.wantPosts)
			}
			for i, p := range posts {
				if got := p.Header.Get("Authorization"); got != "Splunk test-token" {
					t.Errorf("post %d: Authorization %q", i, got)
				}
				if p.Gzip != (tt.compression == configcompression.TypeGzip) {
					t.Errorf("post %d: gzip %v with compression %q", i, p.Gzip, tt.compression)
				}
				if len(p.Body) > tt.maxContent {
					t.Errorf("post %d: %d bytes, over max_content_length %d", i, len(p.Body), tt.maxContent)
				}
				if p.Header.Get("X-Splunk-Request-Channel") != "" {
					t.Errorf("post %d: channel header sent without ack", i)
				}
			}
			// The recorder stored exactly the projection of each record.
			stored := rec.Stored()
			recs := records(ld)
			if len(stored) != len(recs) {
				t.Fatalf("stored %d events, sent %d records", len(stored), len(recs))
			}
			res := ld.ResourceLogs().At(0).Resource()
			for i, lr := range recs {
				want := mapping.AppendHEC(nil, res, lr, mapping.HECOptions{Index: "intune", Sourcetype: mapping.DefaultSourcetype})
				if !bytes.Equal(stored[i], want) {
					t.Fatalf("event %d differs from the projection:\n got %s\nwant %s", i, stored[i], want)
				}
			}
			if got := te.counter(t, "otelcol_intune_hec_events_delivered"); got != int64(len(recs)) {
				t.Errorf("delivered counter %d, want %d", got, len(recs))
			}
		})
	}
}

// hasID matches HEC events whose event.id is one of ids.
func hasID(ids ...string) func(json.RawMessage) bool {
	return func(ev json.RawMessage) bool {
		for _, id := range ids {
			if bytes.Contains(ev, []byte(`"id":"`+id+`"`)) {
				return true
			}
		}
		return false
	}
}

func TestPushBadEventsAreDeadLetteredAlone(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		withNumber bool
		status     int // 0: the code's documented status
	}{
		{name: "invalid_data_format_numbered", code: 6, withNumber: true},
		{name: "invalid_data_format_unnumbered", code: 6},
		{name: "event_field_required", code: 12, withNumber: true},
		{name: "event_field_blank", code: 13, withNumber: true},
		{name: "indexed_fields_error", code: 15, withNumber: true},
		{name: "no_data", code: 5},
		{name: "bare_400", code: -1, status: 400},
		{name: "request_entity_too_large", code: -1, status: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := hectest.New()
			defer rec.Close()
			ld := catalogLogs(t, 120)
			ids := recordIDs(ld)
			bad := []string{ids[3], ids[77]}
			rep := hectest.Reply{Status: tt.status, Body: "Bad Request"}
			if tt.code >= 0 {
				rep = hectest.ReplyCode(tt.code)
			}
			rec.RejectWhen(hasID(bad...), rep, tt.withNumber)
			te := newTestExporter(t, rec, nil)
			if err := te.pushLogs(context.Background(), ld); err != nil {
				t.Fatalf("push: %v", err)
			}
			got := eventIDs(t, rec.Stored())
			want := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(bad, id) })
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("stored %d events, want the %d good ones", len(got), len(want))
			}
			dl := te.deadLetters(t)
			var dlIDs []string
			for _, e := range dl {
				dlIDs = append(dlIDs, e.ID)
				if !json.Valid(e.Document) || e.Reason == "" {
					t.Errorf("dead-letter entry %s: reason %q, document valid %v", e.ID, e.Reason, json.Valid(e.Document))
				}
			}
			slices.Sort(dlIDs)
			if !slices.Equal(dlIDs, []string{min(bad[0], bad[1]), max(bad[0], bad[1])}) {
				t.Fatalf("dead-lettered %v, want %v", dlIDs, bad)
			}
			if n := te.counter(t, "otelcol_intune_hec_events_dead_lettered"); n != 2 {
				t.Errorf("dead-lettered counter %d, want 2", n)
			}
			if tt.withNumber && len(rec.EventPosts()) != 3 {
				t.Errorf("%d requests; with invalid-event-number each bad event should cost one", len(rec.EventPosts()))
			}
		})
	}
}

func TestPushIncorrectIndex(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	ld := catalogLogs(t, 60)
	for i, lr := range records(ld) {
		if i%10 == 4 {
			lr.Attributes().PutStr(mapping.AttrSplunkIndex, "forbidden")
		}
	}
	rec.RejectWhen(func(ev json.RawMessage) bool { return bytes.Contains(ev, []byte(`"index":"forbidden"`)) }, hectest.ReplyCode(7), true)
	te := newTestExporter(t, rec, func(c *Config) { c.Index = "intune" })
	if err := te.pushLogs(context.Background(), ld); err != nil {
		t.Fatalf("push: %v", err)
	}
	if got := len(rec.Stored()); got != 54 {
		t.Errorf("stored %d events, want the 54 with an allowed index", got)
	}
	dl := te.deadLetters(t)
	if len(dl) != 6 {
		t.Fatalf("dead-lettered %d events, want 6", len(dl))
	}
	if !strings.Contains(dl[0].Reason, "allowed indexes") {
		t.Errorf("reason does not say what to do: %q", dl[0].Reason)
	}
	// Every event naming the refused index goes at once: one retry only.
	if n := len(rec.EventPosts()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if n := te.counter(t, "otelcol_intune_hec_events_failed", "hec_code", "7"); n != 60 {
		t.Errorf("failed{hec_code=7} = %d, want 60 (the events of the refused request)", n)
	}
}

func TestPushConfigurationErrorsArePermanent(t *testing.T) {
	tests := []struct {
		name  string
		reply hectest.Reply
		want  string // in the error
		// kept: a refused token is the configuration, not the data: every
		// event is handed back for retry (without the time limit), none is
		// dead-lettered. The others are permanent and dead-lettered.
		kept bool
	}{
		{name: "token_disabled", reply: hectest.ReplyCode(1), want: "token setting", kept: true},
		{name: "token_required", reply: hectest.ReplyCode(2), want: "token setting", kept: true},
		{name: "invalid_authorization", reply: hectest.ReplyCode(3), want: "token setting", kept: true},
		{name: "invalid_token", reply: hectest.ReplyCode(4), want: "token setting", kept: true},
		{name: "health_invalid_token", reply: hectest.ReplyCode(21), want: "token setting", kept: true},
		{name: "health_token_disabled", reply: hectest.ReplyCode(22), want: "token setting", kept: true},
		{name: "bare_401", reply: hectest.Reply{Status: 401, Body: "Unauthorized"}, want: "token setting", kept: true},
		{name: "bare_403", reply: hectest.Reply{Status: 403, Body: "<html>Forbidden</html>"}, want: "token setting", kept: true},
		{name: "query_auth", reply: hectest.ReplyCode(16), want: "query-string"},
		{name: "channel_missing", reply: hectest.ReplyCode(10), want: "ack::enabled: true"},
		{name: "invalid_channel", reply: hectest.ReplyCode(11), want: "X-Splunk-Request-Channel"},
		{name: "ack_disabled", reply: hectest.ReplyCode(14), want: "ack::enabled: false"},
		{name: "not_found", reply: hectest.Reply{Status: 404, Body: "Not Found"}, want: "endpoint setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := hectest.New()
			defer rec.Close()
			rec.Enqueue(tt.reply)
			te := newTestExporter(t, rec, func(c *Config) { c.MaxContentLength = 16 << 10 })
			ld := catalogLogs(t, 40)
			err := te.pushLogs(context.Background(), ld)
			var le consumererror.Logs
			switch {
			case tt.kept && (consumererror.IsPermanent(err) || !errors.As(err, &le) || le.Data().LogRecordCount() != 40):
				t.Fatalf("error %v does not hand back all 40 events", err)
			case !tt.kept && !consumererror.IsPermanent(err):
				t.Fatalf("error %v is not permanent", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "test-token") {
				t.Errorf("error leaks the token: %q", err)
			}
			// Nothing is sent after a configuration error; everything is kept.
			if n := len(rec.EventPosts()); n != 1 {
				t.Errorf("%d requests after a configuration error, want 1", n)
			}
			want := 40
			if tt.kept {
				want = 0
			}
			if n := len(te.deadLetters(t)); n != want {
				t.Errorf("dead-lettered %d events, want %d", n, want)
			}
		})
	}
}

func TestPushThrottleAndRetry(t *testing.T) {
	busy := func(code int) hectest.Reply {
		r := hectest.ReplyCode(code)
		r.RetryAfter = "7"
		return r
	}
	tests := []struct {
		name     string
		reply    hectest.Reply
		throttle bool
	}{
		{name: "server_busy", reply: busy(9), throttle: true},
		{name: "queues_full", reply: busy(18), throttle: true},
		{name: "ack_unavailable", reply: busy(19), throttle: true},
		{name: "queues_full_ack_down", reply: busy(20), throttle: true},
		{name: "shutting_down", reply: busy(23), throttle: true},
		{name: "queue_at_capacity", reply: busy(26), throttle: true},
		{name: "ack_at_capacity", reply: busy(27), throttle: true},
		{name: "bare_429", reply: hectest.Reply{Status: 429, RetryAfter: "7", Body: "slow down"}, throttle: true},
		{name: "bare_503", reply: hectest.Reply{Status: 503, RetryAfter: "7"}, throttle: true},
		{name: "internal_error", reply: hectest.ReplyCode(8)},
		{name: "bare_502", reply: hectest.Reply{Status: 502, Body: "Bad Gateway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := hectest.New()
			defer rec.Close()
			// The first request goes through, the second is refused: only
			// the records of the second and later requests come back.
			rec.Enqueue(hectest.ReplyCode(0), tt.reply)
			te := newTestExporter(t, rec, func(c *Config) { c.MaxContentLength = 16 << 10 })
			ld := catalogLogs(t, 60)
			err := te.pushLogs(context.Background(), ld)
			if err == nil || consumererror.IsPermanent(err) {
				t.Fatalf("want a retryable error, got %v", err)
			}
			if got := strings.Contains(err.Error(), "Throttle (7s)"); got != tt.throttle {
				t.Errorf("throttled for 7s: %v, want %v (%v)", got, tt.throttle, err)
			}
			var le consumererror.Logs
			if !errors.As(err, &le) {
				t.Fatalf("error %v carries no records to retry", err)
			}
			first := len(rec.EventPosts()[0].Events)
			retry := recordIDs(le.Data())
			if !slices.Equal(retry, recordIDs(ld)[first:]) {
				t.Fatalf("retry holds %d records, want the %d after the first request", len(retry), 60-first)
			}
			if n := te.counter(t, "otelcol_intune_hec_events_retried"); n != int64(60-first) {
				t.Errorf("retried counter %d, want %d", n, 60-first)
			}
			if n := len(rec.EventPosts()); n != 2 {
				t.Errorf("%d requests; sending should stop at the first refusal", n)
			}
		})
	}
}

func TestPushTransportError(t *testing.T) {
	rec := hectest.New()
	te := newTestExporter(t, rec, nil)
	rec.Close()
	ld := catalogLogs(t, 10)
	err := te.pushLogs(context.Background(), ld)
	var le consumererror.Logs
	if err == nil || consumererror.IsPermanent(err) || !errors.As(err, &le) || le.Data().LogRecordCount() != 10 {
		t.Fatalf("want a retryable error carrying the 10 records, got %v", err)
	}
}

func TestPushOversize(t *testing.T) {
	big := strings.Repeat("A very long exception line.\r\n\t\"quoted\" ", 400)
	tests := []struct {
		name      string
		action    OversizeAction
		wantSent  int
		wantDead  int
		truncated int64
	}{
		{name: "dead_letter", action: OversizeDeadLetter, wantSent: 9, wantDead: 1},
		{name: "truncate", action: OversizeTruncate, wantSent: 10, truncated: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := hectest.New()
			defer rec.Close()
			te := newTestExporter(t, rec, func(c *Config) {
				c.MaxEventSize = 4096
				c.Oversize = tt.action
			})
			ld := catalogLogs(t, 10)
			records(ld)[5].Attributes().PutStr(mapping.AttrErrorStack, big)
			if err := te.pushLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
			stored := rec.Stored()
			if len(stored) != tt.wantSent {
				t.Fatalf("stored %d events, want %d", len(stored), tt.wantSent)
			}
			for _, ev := range stored {
				if len(ev) > 4096 {
					t.Errorf("an event of %d bytes passed max_event_size", len(ev))
				}
			}
			if tt.wantDead > 0 {
				dl := te.deadLetters(t)
				if len(dl) != 1 || !bytes.Contains(dl[0].Document, []byte("A very long exception")) {
					t.Fatalf("dead-letter file does not hold the whole oversized event")
				}
			}
			if tt.truncated > 0 {
				var v struct {
					Event struct {
						Intune struct {
							Truncated    bool `json:"truncated"`
							OriginalSize int  `json:"original_size"`
						} `json:"intune"`
						Message string `json:"message"`
					} `json:"event"`
					Fields map[string]string `json:"fields"`
				}
				if err := json.Unmarshal(stored[5], &v); err != nil {
					t.Fatalf("truncated event is not JSON: %v", err)
				}
				if !v.Event.Intune.Truncated || v.Event.Intune.OriginalSize <= 4096 || v.Fields[truncateMarker] != "true" || v.Fields["signature_id"] == "" {
					t.Fatalf("truncated event lacks its marker or CIM fields: %s", stored[5])
				}
				if n := te.counter(t, "otelcol_intune_hec_events_truncated"); n != 1 {
					t.Errorf("truncated counter %d", n)
				}
			}
		})
	}
}

func TestPushKeepsResourceAndScopeOnRetry(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	// An internal error goes back to exporterhelper (a busy answer is
	// waited out within the push, TestPushWaitsOutBusy).
	rec.Enqueue(hectest.ReplyCode(8))
	te := newTestExporter(t, rec, nil)
	ld := plog.NewLogs()
	for i := 0; i < 2; i++ {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(mapping.AttrHostName, "ndes"+string(rune('1'+i)))
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("scope")
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000))
		lr.Body().SetStr("event " + string(rune('a'+i)))
	}
	err := te.pushLogs(context.Background(), ld)
	var le consumererror.Logs
	if !errors.As(err, &le) {
		t.Fatalf("want records back, got %v", err)
	}
	got := le.Data()
	if got.ResourceLogs().Len() != 2 || got.ResourceLogs().At(1).ScopeLogs().At(0).Scope().Name() != "scope" {
		t.Fatalf("resources or scopes lost on retry")
	}
	if h, _ := got.ResourceLogs().At(1).Resource().Attributes().Get(mapping.AttrHostName); h.Str() != "ndes2" {
		t.Fatalf("resource attributes lost on retry")
	}
}

func TestHealthCheck(t *testing.T) {
	tests := []struct {
		name string
		rep  hectest.Reply
	}{
		{name: "healthy", rep: hectest.ReplyCode(17)},
		{name: "queues_full", rep: hectest.ReplyCode(18)},
		{name: "invalid_token", rep: hectest.ReplyCode(21)},
		{name: "not_found", rep: hectest.Reply{Status: http.StatusNotFound, Body: "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := hectest.New()
			defer rec.Close()
			rec.SetHealth(tt.rep)
			// Start succeeds whatever the answer: a failed check is logged
			// and reported as a recoverable status, never a crash loop.
			te := newTestExporter(t, rec, nil)
			err := te.checkHealth(context.Background())
			healthy := tt.rep.Status == 200
			if (err == nil) != healthy {
				t.Fatalf("checkHealth = %v, healthy %v", err, healthy)
			}
			if err != nil && strings.Contains(err.Error(), "test-token") {
				t.Errorf("error leaks the token")
			}
			reqs := rec.Requests()
			if len(reqs) == 0 || reqs[0].Method != http.MethodGet || !strings.HasSuffix(reqs[0].Path, "/services/collector/health") {
				t.Fatalf("no health GET at start: %+v", reqs)
			}
		})
	}
}

func TestPushWithoutDeadLetterFileLogsAndCounts(t *testing.T) {
	rec := hectest.New()
	defer rec.Close()
	ld := catalogLogs(t, 10)
	rec.RejectWhen(hasID(recordIDs(ld)[2]), hectest.ReplyCode(6), true)
	core, logs := observer.New(zapcore.WarnLevel)
	te := newTestExporter(t, rec, func(c *Config) { c.DeadLetter.Path = "" })
	te.logger = zap.New(core)
	if err := te.pushLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if n := te.counter(t, "otelcol_intune_hec_events_dead_lettered", "reason", reasonBadEvent); n != 1 {
		t.Errorf("dead-lettered counter %d, want 1", n)
	}
	entries := logs.FilterMessageSnippet("set dead_letter::path").All()
	if len(entries) != 1 || entries[0].ContextMap()["first_event_id"] != recordIDs(ld)[2] {
		t.Fatalf("want one warning naming the dropped event, got %v", entries)
	}
	for _, e := range logs.All() {
		for _, f := range e.Context {
			if strings.Contains(f.String, "test-token") {
				t.Fatalf("the token reached the log: %v", e)
			}
		}
	}
}
