package hectest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func post(t *testing.T, url, path, token, channel, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if channel != "" {
		req.Header.Set("X-Splunk-Request-Channel", channel)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %q is not JSON", b)
	}
	return resp.StatusCode, m
}

func TestRecorder(t *testing.T) {
	two := `{"event":{"a":1}}{"event":"x"}`
	tests := []struct {
		name       string
		setup      func(r *Recorder)
		token      string
		body       string
		wantStatus int
		wantCode   float64
		wantStored int
	}{
		{name: "accepts", body: two, wantStatus: 200, wantCode: 0, wantStored: 2},
		{name: "no_token", setup: func(r *Recorder) { r.RequireToken("t") }, body: two, wantStatus: 401, wantCode: 2},
		{name: "bad_scheme", setup: func(r *Recorder) { r.RequireToken("t") }, token: "Bearer t", body: two, wantStatus: 401, wantCode: 3},
		{name: "wrong_token", setup: func(r *Recorder) { r.RequireToken("t") }, token: "Splunk u", body: two, wantStatus: 403, wantCode: 4},
		{name: "right_token", setup: func(r *Recorder) { r.RequireToken("t") }, token: "Splunk t", body: two, wantStatus: 200, wantStored: 2},
		{name: "no_data", body: "", wantStatus: 400, wantCode: 5},
		{name: "bad_json", body: `{"event":`, wantStatus: 400, wantCode: 6},
		{name: "event_missing", body: `{"event":1}{"time":1}`, wantStatus: 400, wantCode: 12},
		{name: "event_blank", body: `{"event":""}`, wantStatus: 400, wantCode: 13},
		{name: "scripted", setup: func(r *Recorder) { r.Enqueue(ReplyCode(9)) }, body: two, wantStatus: 503, wantCode: 9},
		{name: "scripted_partial", setup: func(r *Recorder) {
			rep := InvalidEvent(1)
			rep.Store = true
			r.Enqueue(rep)
		}, body: two, wantStatus: 400, wantCode: 6, wantStored: 1},
		{name: "reject_when", setup: func(r *Recorder) {
			r.RejectWhen(func(ev json.RawMessage) bool { return bytes.Contains(ev, []byte(`"x"`)) }, ReplyCode(7), true)
		}, body: two, wantStatus: 400, wantCode: 7},
		{name: "channel_required", setup: func(r *Recorder) { r.EnableAck(1) }, body: two, wantStatus: 400, wantCode: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			defer r.Close()
			if tt.setup != nil {
				tt.setup(r)
			}
			status, m := post(t, r.URL, "/services/collector/event", tt.token, "", tt.body)
			if status != tt.wantStatus || m["code"] != tt.wantCode {
				t.Fatalf("answer %d %v, want %d code %v", status, m, tt.wantStatus, tt.wantCode)
			}
			if got := len(r.Stored()); got != tt.wantStored {
				t.Fatalf("stored %d, want %d", got, tt.wantStored)
			}
			if len(r.EventPosts()) != 1 {
				t.Fatalf("event post not recorded")
			}
		})
	}
}

func TestRecorderAck(t *testing.T) {
	r := New()
	defer r.Close()
	r.EnableAck(2)
	const ch = "11111111-2222-4333-8444-555555555555"
	_, m := post(t, r.URL, "/services/collector/event", "", ch, `{"event":"a"}`)
	if m["ackId"] != float64(0) {
		t.Fatalf("first ackId %v", m["ackId"])
	}
	_, m = post(t, r.URL, "/services/collector/ack", "", ch, `{"acks":[0,9]}`)
	if acks := m["acks"].(map[string]any); acks["0"] != false || acks["9"] != false {
		t.Fatalf("first poll %v", m)
	}
	_, m = post(t, r.URL, "/services/collector/ack", "", ch, `{"acks":[0]}`)
	if acks := m["acks"].(map[string]any); acks["0"] != true {
		t.Fatalf("second poll %v", m)
	}
	// Once reported, HEC forgets the ackId.
	_, m = post(t, r.URL, "/services/collector/ack", "", ch, `{"acks":[0]}`)
	if acks := m["acks"].(map[string]any); acks["0"] != false {
		t.Fatalf("third poll %v", m)
	}
	status, m := post(t, r.URL, "/services/collector/ack", "", "", `{"acks":[0]}`)
	if status != 400 || m["code"] != float64(10) {
		t.Fatalf("ack poll without channel: %d %v", status, m)
	}
}

func TestCodesAreDocumented(t *testing.T) {
	for i, c := range Codes {
		if c.Code != i || c.Text == "" || c.Status < 200 {
			t.Fatalf("code table entry %d: %+v", i, c)
		}
	}
	if _, ok := Lookup(99); ok {
		t.Fatal("unknown code found")
	}
}

func TestRecorderCountOnly(t *testing.T) {
	r := New()
	defer r.Close()
	r.CountOnly()
	for range 3 {
		if status, _ := post(t, r.URL, "/services/collector/event", "", "", `{"event":{"a":1}}{"event":"x"}`); status != 200 {
			t.Fatalf("status %d", status)
		}
	}
	// A refused post is not counted.
	if status, _ := post(t, r.URL, "/services/collector/event", "", "", `{"event":""}`); status != 400 {
		t.Fatalf("blank event: status %d", status)
	}
	if got := r.Accepted(); got != 6 {
		t.Errorf("Accepted() = %d, want 6", got)
	}
	if n := len(r.Requests()) + len(r.Stored()); n != 0 {
		t.Errorf("count-only recorder kept %d requests and events", n)
	}
	resp, err := http.Get(r.URL + "/_hectest/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != `{"accepted":6}` {
		t.Errorf("stats = %s", b)
	}
}
