package intunesplunkhecexporter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
)

// Every documented HEC code, with the documented HTTP status, maps to the
// intended outcome.
func TestClassifyEveryCode(t *testing.T) {
	// Refused tokens (1-4, 21, 22) are the configuration: the events are
	// kept until it is fixed, not dead-lettered.
	const (
		ok, auth, bad, retry, busy, conf = delivery.Delivered, delivery.Auth, delivery.DeadLetter, delivery.Retry, delivery.Throttle, delivery.Permanent
	)
	want := map[int]delivery.Kind{
		0: ok, 1: auth, 2: auth, 3: auth, 4: auth,
		5: bad, 6: bad, 7: bad, 8: retry, 9: busy,
		10: conf, 11: conf, 12: bad, 13: bad, 14: conf,
		15: bad, 16: conf, 17: ok, 18: busy, 19: busy,
		20: busy, 21: auth, 22: auth, 23: busy, 24: ok,
		25: ok, 26: busy, 27: busy,
	}
	if len(want) != len(hectest.Codes) {
		t.Fatalf("%d expectations for %d documented codes", len(want), len(hectest.Codes))
	}
	for _, c := range hectest.Codes {
		t.Run(fmt.Sprintf("code_%d", c.Code), func(t *testing.T) {
			body := fmt.Sprintf(`{"text":%q,"code":%d}`, c.Text, c.Code)
			v := classify(c.Status, http.Header{}, []byte(body))
			if v.Kind != want[c.Code] || v.badIndex != (c.Code == 7) {
				t.Fatalf("code %d (%s) -> outcome %v (bad index %v), want %v", c.Code, c.Text, v.Kind, v.badIndex, want[c.Code])
			}
			if v.code != c.Code || v.text != c.Text {
				t.Errorf("code/text not kept: %+v", v)
			}
			if (v.Kind == conf || v.Kind == auth || v.badIndex) && v.hint == "" {
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
		want   delivery.Kind
	}{
		{name: "ok_empty", status: 200, want: delivery.Delivered},
		{name: "unauthorized_html", status: 401, body: "<html>401</html>", want: delivery.Auth},
		{name: "forbidden", status: 403, want: delivery.Auth},
		{name: "not_found", status: 404, want: delivery.Permanent},
		{name: "too_large", status: 413, want: delivery.TooLarge},
		{name: "throttled", status: 429, want: delivery.Throttle},
		{name: "unavailable", status: 503, want: delivery.Throttle},
		{name: "bad_gateway", status: 502, want: delivery.Retry},
		{name: "timeout", status: 408, want: delivery.Retry},
		{name: "bad_request", status: 400, body: "garbage", want: delivery.DeadLetter},
		{name: "teapot", status: 418, want: delivery.Permanent},
		{name: "conflict", status: 409, want: delivery.Permanent},
		{name: "redirect", status: 302, want: delivery.Permanent},
		{name: "unknown_code_ok", status: 200, body: `{"text":"new","code":99}`, want: delivery.Delivered},
		{name: "unknown_code_500", status: 500, body: `{"text":"new","code":99}`, want: delivery.Retry},
		{name: "success_code_on_error_status", status: 500, body: `{"text":"Success","code":0}`, want: delivery.Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := classify(tt.status, http.Header{}, []byte(tt.body)); v.Kind != tt.want {
				t.Fatalf("outcome %v, want %v (%+v)", v.Kind, tt.want, v)
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
		if v.Kind > delivery.DeadLetter || v.Kind == delivery.Duplicate {
			t.Fatalf("no outcome for %d %q", status, body)
		}
		if v.Wait < 0 || v.Wait > delivery.MaxRetryAfter || (v.Wait > 0 && v.Kind != delivery.Throttle) {
			t.Fatalf("retry-after %s out of bounds for %v", v.Wait, v.Kind)
		}
		// One bound for server text (delivery.MaxText), plus the status.
		if len(v.describe()) > delivery.MaxText+64 {
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
