package delivery

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestFromStatus(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		status int
		retry  string
		want   Kind
		wait   time.Duration
	}{
		{"ok", 200, "", Delivered, 0},
		{"created", 201, "", Delivered, 0},
		{"conflict", 409, "", Duplicate, 0},
		{"unauthorized", 401, "", Auth, 0},
		{"forbidden", 403, "", Auth, 0},
		{"too many requests with a wait", 429, "3", Throttle, 3 * time.Second},
		{"unavailable without a wait", 503, "", Throttle, 0},
		{"too large", 413, "", TooLarge, 0},
		{"timeout", 408, "", Retry, 0},
		{"internal error", 500, "", Retry, 0},
		{"bad gateway", 502, "", Retry, 0},
		{"bad request", 400, "", DeadLetter, 0},
		{"not found", 404, "", DeadLetter, 0},
		{"redirect", 302, "", Permanent, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.retry != "" {
				h.Set("Retry-After", tt.retry)
			}
			o := FromStatus(tt.status, h, now)
			if o.Kind != tt.want || o.Wait != tt.wait || o.Status != tt.status {
				t.Errorf("FromStatus(%d) = %v wait %v, want %v wait %v", tt.status, o.Kind, o.Wait, tt.want, tt.wait)
			}
		})
	}
}

func TestFromItem(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		overloaded bool
		want       Kind
	}{
		{"created", 201, false, Delivered},
		{"duplicate", 409, false, Duplicate},
		{"rejected", 429, false, Retry},
		{"rejected by type", 400, true, Retry},
		{"shard failure", 503, false, Retry},
		{"forbidden index", 403, false, Auth},
		{"mapping conflict", 400, false, DeadLetter},
		{"missing pipeline", 404, false, DeadLetter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromItem(tt.status, tt.overloaded).Kind; got != tt.want {
				t.Errorf("FromItem(%d, %v) = %v, want %v", tt.status, tt.overloaded, got, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name, v string
		want    time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"spaces", " 2 ", 2 * time.Second},
		{"date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"empty", "", 0},
		{"garbage", "soon", 0},
		{"negative", "-3", 0},
		{"zero", "0", 0},
		{"capped seconds", "86400", MaxRetryAfter},
		{"huge seconds", "99999999999999999", MaxRetryAfter},
		{"capped date", now.Add(5 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RetryAfter(tt.v, now); got != tt.want {
				t.Errorf("RetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name, in, wantPrefix string
	}{
		{"short", "  mapper_parsing_exception  ", "mapper_parsing_exception"},
		{"long multibyte", strings.Repeat("é", 4000), "éé"},
		{"invalid", "a\xffb", "a?b"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clip(tt.in)
			if len(got) > MaxText+3 || !utf8.ValidString(got) || !strings.HasPrefix(got, tt.wantPrefix) {
				t.Errorf("Clip = %.60q (%d bytes)", got, len(got))
			}
			if len(tt.in) > MaxText && !strings.HasSuffix(got, "...") {
				t.Errorf("a cut text is not marked: %q", got[len(got)-10:])
			}
		})
	}
}

func FuzzClip(f *testing.F) {
	f.Add("plain")
	f.Add(strings.Repeat("€", 600))
	f.Add("\xff\xfe" + strings.Repeat("x", 2000))
	f.Fuzz(func(t *testing.T, s string) {
		got := Clip(s)
		if len(got) > MaxText+3 || !utf8.ValidString(got) {
			t.Fatalf("Clip gave %d bytes, valid %v", len(got), utf8.ValidString(got))
		}
	})
}

func TestBodies(t *testing.T) {
	parts := [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}
	want := bytes.Join(parts, nil)
	for _, tt := range []struct {
		name  string
		gzip  bool
		level int
	}{{"plain", false, 0}, {"gzip default level", true, 0}, {"gzip level 6", true, 6}, {"gzip bad level", true, 42}} {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBodies(tt.gzip, tt.level)
			for range 3 { // the pooled writer and buffer are reused
				buf, err := b.Build(func(w io.Writer) error {
					for _, p := range parts {
						if _, err := w.Write(p); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				got := buf.Bytes()
				if tt.gzip {
					zr, err := gzip.NewReader(bytes.NewReader(got))
					if err != nil {
						t.Fatal(err)
					}
					if got, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("body %q, want %q", got, want)
				}
				rc := b.Reader(buf)
				if _, err := io.ReadAll(rc); err != nil {
					t.Fatal(err)
				}
				_ = rc.Close()
				_ = rc.Close() // the transport may close twice
			}
		})
	}
	b := NewBodies(false, 0)
	if _, err := b.Build(func(io.Writer) error { return errors.New("encoder failed") }); err == nil {
		t.Fatal("a failed write gave a body")
	}
}

func TestLogLimiter(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	logger := zap.New(core)
	l := NewLogLimiter(time.Hour)
	for range 5 {
		l.Log(logger, zap.WarnLevel, "a", "refused")
	}
	l.Log(logger, zap.WarnLevel, "b", "other")
	l.Log(logger, zap.DebugLevel, "c", "not enabled")
	if got := logs.Len(); got != 2 {
		t.Fatalf("%d lines, want one per key: %v", got, logs.All())
	}
	// A line after the interval says how many were held back.
	l.last["a"] = time.Now().Add(-2 * time.Hour)
	l.Log(logger, zap.WarnLevel, "a", "refused")
	last := logs.All()[2]
	if n, ok := last.ContextMap()["similar_messages_suppressed"]; !ok || n != int64(4) {
		t.Fatalf("suppressed count %v", last.ContextMap())
	}
}

func TestSubsetKeepsResourcesAndScopes(t *testing.T) {
	ld := plog.NewLogs()
	var refs []Ref
	for r := range 2 {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutInt("r", int64(r))
		for s := range 2 {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(string(rune('a' + s)))
			for k := range 3 {
				sl.LogRecords().AppendEmpty().Body().SetInt(int64(r*100 + s*10 + k))
				refs = append(refs, Ref{int32(r), int32(s), int32(k)})
			}
		}
	}
	out := Subset(ld, []Ref{refs[1], refs[2], refs[4], refs[11]})
	var got []int64
	for i := 0; i < out.ResourceLogs().Len(); i++ {
		rl := out.ResourceLogs().At(i)
		r, _ := rl.Resource().Attributes().Get("r")
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				v := sl.LogRecords().At(k).Body().Int()
				if v/100 != r.Int() || string(rune('a'+(v/10)%10)) != sl.Scope().Name() {
					t.Errorf("record %d under resource %d scope %s", v, r.Int(), sl.Scope().Name())
				}
				got = append(got, v)
			}
		}
	}
	if !slices.Equal(got, []int64{1, 2, 11, 112}) || out.ResourceLogs().Len() != 2 {
		t.Errorf("subset %v over %d resources", got, out.ResourceLogs().Len())
	}
	if Record(ld, refs[4]).Body().Int() != 11 {
		t.Error("Record points elsewhere")
	}
}

func logsOf(n int) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		lrs.AppendEmpty().Body().SetInt(int64(i))
	}
	return ld
}

func TestRetriesKeepTheTimeLimit(t *testing.T) {
	cfg := configretry.NewDefaultBackOffConfig()
	cfg.MaxElapsedTime = 50 * time.Millisecond
	r, helper := NewRetries(cfg)
	clock := time.Now()
	r.now = func() time.Time { return clock }
	if helper.MaxElapsedTime != 0 || !helper.Enabled || helper.InitialInterval != cfg.InitialInterval {
		t.Fatalf("exporterhelper gets %+v", helper)
	}
	cause := errors.New("server answered 500")

	// A first failure hands the records back, retryable.
	ld := logsOf(3)
	a := r.Begin(ld)
	err := r.Err(a, Result{Retry: ld, Cause: cause})
	var le consumererror.Logs
	if consumererror.IsPermanent(err) || !errors.As(err, &le) || le.Data().LogRecordCount() != 3 {
		t.Fatalf("first failure: %v", err)
	}
	// exporterhelper calls again with what was handed back: the clock runs
	// from the first failure, and past the limit the records are given up.
	clock = clock.Add(60 * time.Millisecond)
	retry := le.Data()
	a = r.Begin(retry)
	if !r.Expired(a) {
		t.Fatal("not expired past max_elapsed_time")
	}
	err = r.Err(a, Result{Retry: retry, Cause: cause})
	if !consumererror.IsPermanent(err) || !strings.Contains(err.Error(), "no more retries left") || !errors.Is(err, cause) {
		t.Fatalf("past the limit: %v", err)
	}

	// Records held for refused credentials have no limit.
	held := logsOf(2)
	a = r.Begin(held)
	err = r.Err(a, Result{Retry: held, Cause: cause, Auth: true})
	clock = clock.Add(time.Hour)
	if !errors.As(err, &le) {
		t.Fatal(err)
	}
	a = r.Begin(le.Data())
	if r.Expired(a) || !a.Since().IsZero() {
		t.Fatal("credentials wait expired")
	}
	if r.Pending() != 0 {
		t.Errorf("%d handed-back requests remembered after they came back", r.Pending())
	}

	// A Retry-After becomes a throttle, and delivered pushes return nil.
	if err := r.Err(r.Begin(ld), Result{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Err(r.Begin(ld), Result{Failed: cause}); !consumererror.IsPermanent(err) {
		t.Fatalf("failed records: %v", err)
	}
}

func TestRetriesDisabled(t *testing.T) {
	cfg := configretry.NewDefaultBackOffConfig()
	cfg.Enabled = false
	r, _ := NewRetries(cfg)
	ld := logsOf(1)
	_ = r.Err(r.Begin(ld), Result{Retry: ld, Cause: errors.New("x")})
	if r.Pending() != 0 {
		t.Fatal("remembers requests exporterhelper never retries")
	}
}

func TestPauses(t *testing.T) {
	for round := 1; round <= DocRounds; round++ {
		d, ok := DocPause(round, 5, 100)
		base := docPause << (round - 1)
		if !ok || d < base*3/4 || d > base*5/4 {
			t.Errorf("round %d: %v %v", round, d, ok)
		}
	}
	if _, ok := DocPause(DocRounds+1, 5, 100); ok {
		t.Error("resends past DocRounds")
	}
	if _, ok := DocPause(1, 60, 100); ok {
		t.Error("resends when most documents were turned away")
	}
	if d, ok := ThrottlePause(1, time.Second); !ok || d != time.Second {
		t.Errorf("throttle with Retry-After 1: %v %v", d, ok)
	}
	if _, ok := ThrottlePause(1, time.Minute); ok {
		t.Error("a push waits a long Retry-After itself")
	}
	if _, ok := ThrottlePause(ThrottleRounds+1, 0); ok {
		t.Error("throttle rounds unbounded")
	}

	stop := NewStopping()
	stop.Stop()
	stop.Stop()
	if Pause(context.Background(), stop.C(), time.Hour) || !stop.Stopped() {
		t.Fatal("a pause outlived the stop")
	}
}

type statusHost struct {
	component.Host
	events []componentstatus.Status
}

func (h *statusHost) Report(ev *componentstatus.Event) { h.events = append(h.events, ev.Status()) }

func TestHealth(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	h := NewHealth(zap.New(core))
	host := &statusHost{}
	h.Start(host)
	h.OK() // nothing to recover from
	for range 3 {
		h.Failing(errors.New("check the token setting"), "refused")
	}
	if !h.Failed() {
		t.Fatal("not failing")
	}
	h.OK()
	h.OK()
	want := []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK}
	if !slices.Equal(host.events, want) {
		t.Fatalf("reported %v, want %v", host.events, want)
	}
	if n := logs.FilterMessage("refused").Len(); n != 1 {
		t.Errorf("%d error lines, want 1 while the limiter holds", n)
	}
}
