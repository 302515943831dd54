package intunesplunkhecexporter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
)

// Every documented HEC code, with the documented HTTP status, maps to the
// intended outcome.
func TestClassifyEveryCode(t *testing.T) {
	want := map[int]outcome{
		0: outDelivered, 1: outConfig, 2: outConfig, 3: outConfig, 4: outConfig,
		5: outBadEvent, 6: outBadEvent, 7: outBadIndex, 8: outRetry, 9: outThrottle,
		10: outConfig, 11: outConfig, 12: outBadEvent, 13: outBadEvent, 14: outConfig,
		15: outBadEvent, 16: outConfig, 17: outDelivered, 18: outThrottle, 19: outThrottle,
		20: outThrottle, 21: outConfig, 22: outConfig, 23: outThrottle, 24: outDelivered,
		25: outDelivered, 26: outThrottle, 27: outThrottle,
	}
	if len(want) != len(hectest.Codes) {
		t.Fatalf("%d expectations for %d documented codes", len(want), len(hectest.Codes))
	}
	for _, c := range hectest.Codes {
		t.Run(fmt.Sprintf("code_%d", c.Code), func(t *testing.T) {
			body := fmt.Sprintf(`{"text":%q,"code":%d}`, c.Text, c.Code)
			v := classify(c.Status, http.Header{}, []byte(body))
			if v.out != want[c.Code] {
				t.Fatalf("code %d (%s) -> outcome %d, want %d", c.Code, c.Text, v.out, want[c.Code])
			}
			if v.code != c.Code || v.text != c.Text {
				t.Errorf("code/text not kept: %+v", v)
			}
			if (v.out == outConfig || v.out == outBadIndex) && v.hint == "" {
				t.Errorf("configuration outcome without a hint")
			}
			switch c.Code {
			case 1, 2, 3, 4, 21, 22:
				if !strings.Contains(v.hint, "token setting") {
					t.Errorf("token code %d: hint %q does not name the token setting", c.Code, v.hint)
				}
			}
		})
	}
}

func TestClassifyWithoutCode(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   outcome
	}{
		{name: "ok_empty", status: 200, want: outDelivered},
		{name: "unauthorized_html", status: 401, body: "<html>401</html>", want: outConfig},
		{name: "forbidden", status: 403, want: outConfig},
		{name: "not_found", status: 404, want: outConfig},
		{name: "too_large", status: 413, want: outTooLarge},
		{name: "throttled", status: 429, want: outThrottle},
		{name: "unavailable", status: 503, want: outThrottle},
		{name: "bad_gateway", status: 502, want: outRetry},
		{name: "timeout", status: 408, want: outRetry},
		{name: "bad_request", status: 400, body: "garbage", want: outBadEvent},
		{name: "teapot", status: 418, want: outConfig},
		{name: "unknown_code_ok", status: 200, body: `{"text":"new","code":99}`, want: outDelivered},
		{name: "unknown_code_500", status: 500, body: `{"text":"new","code":99}`, want: outRetry},
		{name: "success_code_on_error_status", status: 500, body: `{"text":"Success","code":0}`, want: outRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := classify(tt.status, http.Header{}, []byte(tt.body)); v.out != tt.want {
				t.Fatalf("outcome %d, want %d (%+v)", v.out, tt.want, v)
			}
		})
	}
}

func TestClassifyReadsAckIDAndEventNumber(t *testing.T) {
	v := classify(200, http.Header{}, []byte(`{"text":"Success","code":0,"ackId":42}`))
	if !v.hasAckID || v.ackID != 42 {
		t.Fatalf("ackId not read: %+v", v)
	}
	v = classify(400, http.Header{}, []byte(`{"text":"Invalid data format","code":6,"invalid-event-number":3}`))
	if v.badEvent != 3 {
		t.Fatalf("invalid-event-number not read: %+v", v)
	}
	v = classify(400, http.Header{}, []byte(`{"text":"Invalid data format","code":6,"invalid-event-number":-2}`))
	if v.badEvent != -1 {
		t.Fatalf("a negative event number must be ignored: %+v", v)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in string
		want     time.Duration
	}{
		{name: "empty", in: "", want: 0},
		{name: "seconds", in: "30", want: 30 * time.Second},
		{name: "zero", in: "0", want: 0},
		{name: "negative", in: "-5", want: 0},
		{name: "capped", in: "86400", want: 10 * time.Minute},
		{name: "date", in: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{name: "past_date", in: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		{name: "junk", in: "soon", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Fatalf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAckResponse(t *testing.T) {
	got, err := parseAckResponse([]byte(`{"acks":{"0":true,"7":false}}`))
	if err != nil || !got[0] || got[7] || len(got) != 2 {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{``, `[]`, `{"text":"ACK is disabled","code":14}`, `{"acks":{"x":true}}`} {
		if _, err := parseAckResponse([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(200, []byte(`{"text":"Success","code":0,"ackId":1}`))
	f.Add(400, []byte(`{"text":"Invalid data format","code":6,"invalid-event-number":2}`))
	f.Add(503, []byte(`<html>busy</html>`))
	f.Add(0, []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		v := classify(status, http.Header{"Retry-After": []string{string(body)}}, body)
		if v.out < outDelivered || v.out > outConfig {
			t.Fatalf("no outcome for %d %q", status, body)
		}
		if v.retryAfter < 0 || v.retryAfter > 10*time.Minute {
			t.Fatalf("retry-after %s out of bounds", v.retryAfter)
		}
		if len(v.describe()) > 400 {
			t.Fatalf("description of %d bytes", len(v.describe()))
		}
		_, _ = parseAckResponse(body)
	})
}

func FuzzTruncateEvent(f *testing.F) {
	f.Add([]byte(`{"time":1.5,"host":"h","source":"s","sourcetype":"st","event":{"message":"x\"y\u00e9"},"fields":{"signature_id":"1"}}`), 200)
	f.Add([]byte(`{"event":"plain"}`), 64)
	f.Fuzz(func(t *testing.T, doc []byte, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		out, ok := truncateEvent([]byte("prefix"), doc, max)
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("truncateEvent overwrote what preceded it")
		}
		if !ok {
			if len(out) != len("prefix") {
				t.Fatalf("failed truncation left %d bytes behind", len(out)-len("prefix"))
			}
			return
		}
		ev := out[len("prefix"):]
		if len(ev) > max {
			t.Fatalf("truncated event of %d bytes exceeds %d", len(ev), max)
		}
		if !json.Valid(ev) {
			t.Fatalf("truncated event is not JSON: %s", ev)
		}
	})
}

func FuzzParseEndpoint(f *testing.F) {
	f.Add("https://splunk:8088/services/collector/event")
	f.Add("http://h/p/services/collector")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseEndpoint(s)
		if err != nil {
			return
		}
		for _, x := range []string{u.event, u.ack, u.health} {
			if !strings.HasPrefix(x, "http") || !strings.Contains(x, "/services/collector/") {
				t.Fatalf("parseEndpoint(%q) gave %q", s, x)
			}
		}
	})
}
