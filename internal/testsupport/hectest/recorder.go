// Package hectest is a Splunk HTTP Event Collector stand-in for tests: an
// httptest server that records what it receives and answers with any HEC
// status code, including indexer acknowledgement, so exporter tests can
// walk every path without a Splunk instance.
package hectest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Code is a HEC status code with the HTTP status and text Splunk documents
// for it.
type Code struct {
	Code   int
	Status int
	Text   string
}

// Codes lists the documented HEC status codes.
var Codes = []Code{
	{0, 200, "Success"},
	{1, 403, "Token disabled"},
	{2, 401, "Token is required"},
	{3, 401, "Invalid authorization"},
	{4, 403, "Invalid token"},
	{5, 400, "No data"},
	{6, 400, "Invalid data format"},
	{7, 400, "Incorrect index"},
	{8, 500, "Internal server error"},
	{9, 503, "Server is busy"},
	{10, 400, "Data channel is missing"},
	{11, 400, "Invalid data channel"},
	{12, 400, "Event field is required"},
	{13, 400, "Event field cannot be blank"},
	{14, 400, "ACK is disabled"},
	{15, 400, "Error in handling indexed fields"},
	{16, 400, "Query string authorization is not enabled"},
	{17, 200, "HEC is healthy"},
	{18, 503, "HEC is unhealthy, queues are full"},
	{19, 503, "HEC is unhealthy, ack service unavailable"},
	{20, 503, "HEC is unhealthy, queues are full, ack service unavailable"},
	{21, 400, "Invalid token"},
	{22, 400, "Token disabled"},
	{23, 503, "Server is shutting down"},
	{24, 200, "HEC queue is approaching its capacity limit"},
	{25, 200, "HEC ACK is approaching its capacity limit"},
	{26, 429, "HEC queue is at capacity and cannot process any more requests"},
	{27, 429, "HEC ACK channel is at capacity and cannot process any more requests"},
}

// Lookup returns the documented status and text of a code.
func Lookup(code int) (Code, bool) {
	for _, c := range Codes {
		if c.Code == code {
			return c, true
		}
	}
	return Code{}, false
}

// Reply is one scripted answer to an event POST.
type Reply struct {
	Status int
	// Body is sent as is when set; otherwise Code/Text build the JSON.
	Body               string
	Code               int
	Text               string
	InvalidEventNumber *int
	RetryAfter         string
	// Store keeps the request's events as accepted even though the reply
	// is an error (Splunk indexes the events before an invalid one).
	Store bool
}

func (r Reply) success() bool {
	return (r.Status == 0 || r.Status == 200) && r.Code == 0 && r.Body == ""
}

// ReplyCode is the documented answer for code.
func ReplyCode(code int) Reply {
	c, ok := Lookup(code)
	if !ok {
		panic("hectest: unknown HEC code " + strconv.Itoa(code))
	}
	return Reply{Status: c.Status, Code: c.Code, Text: c.Text}
}

// InvalidEvent is code 6 naming the bad event.
func InvalidEvent(n int) Reply {
	r := ReplyCode(6)
	r.InvalidEventNumber = &n
	return r
}

// WithEventNumber returns r naming event n as the offender.
func (r Reply) WithEventNumber(n int) Reply {
	r.InvalidEventNumber = &n
	return r
}

// Request is one request the recorder received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	// Body is the decompressed body.
	Body []byte
	// Events are the JSON objects of an event POST, in order.
	Events []json.RawMessage
	// Gzip tells whether the body came compressed.
	Gzip bool
}

// Recorder is a HEC server. Its zero configuration accepts everything.
type Recorder struct {
	*httptest.Server

	mu      sync.Mutex
	reqs    []Request
	stored  []json.RawMessage
	replies []Reply

	// Token, when set, is checked like HEC does (codes 2, 3, 4).
	token string
	// ack state
	ack        bool
	nextAck    map[string]int64
	ackPending map[string]map[int64]int // channel -> ackId -> polls so far
	// AckAfterPolls answers an ackId true on the n-th poll that asks for
	// it (1 = the first); 0 means never, to force an ack timeout.
	ackAfter int
	health   Reply
	// reject fails a POST holding an event it matches.
	reject       func(json.RawMessage) bool
	rejectReply  Reply
	rejectNumber bool
	ackReplies   []Reply
	// countOnly keeps no requests or events, only their number, so that a
	// benchmark can send millions of events at a flat memory.
	countOnly bool
	accepted  int64
}

// New starts a recorder; Close it when done.
func New() *Recorder {
	r := &Recorder{
		nextAck:    map[string]int64{},
		ackPending: map[string]map[int64]int{},
		ackAfter:   1,
		health:     ReplyCode(17),
	}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// CountOnly makes the recorder keep no requests or events from now on,
// only the number of events it accepted (Accepted, and GET
// /_hectest/stats as {"accepted":N}): for benchmarks, whose senders must
// not be measured against a server that grows.
func (r *Recorder) CountOnly() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.countOnly = true
}

// Accepted returns the number of events accepted so far.
func (r *Recorder) Accepted() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted
}

// RequireToken makes the recorder check the Authorization header.
func (r *Recorder) RequireToken(tok string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.token = tok
}

// EnableAck turns on indexer acknowledgement: event POSTs need a channel
// and answer with an ackId, acknowledged on the n-th poll for it (0:
// never).
func (r *Recorder) EnableAck(afterPolls int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ack, r.ackAfter = true, afterPolls
}

// SetHealth sets the answer of /services/collector/health.
func (r *Recorder) SetHealth(rep Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.health = rep
}

// RejectWhen fails every event POST holding an event bad matches, with
// rep; withNumber adds invalid-event-number (the first bad event's
// position), as Splunk does for malformed events.
func (r *Recorder) RejectWhen(bad func(json.RawMessage) bool, rep Reply, withNumber bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reject, r.rejectReply, r.rejectNumber = bad, rep, withNumber
}

// EnqueueAck scripts the answers to the next acknowledgement polls; once
// they are used up, polls are answered from the ack state.
func (r *Recorder) EnqueueAck(reps ...Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ackReplies = append(r.ackReplies, reps...)
}

// Enqueue scripts the answers to the next event POSTs, in order; once they
// are used up, posts succeed.
func (r *Recorder) Enqueue(reps ...Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, reps...)
}

// Requests returns what was received so far.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// EventPosts returns the event POSTs received so far.
func (r *Recorder) EventPosts() []Request {
	var out []Request
	for _, q := range r.Requests() {
		if q.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(q.Path, "/1.0"), "/services/collector/event") {
			out = append(out, q)
		}
	}
	return out
}

// Stored returns the events the recorder accepted, in order.
func (r *Recorder) Stored() []json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]json.RawMessage(nil), r.stored...)
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, gz, err := readBody(req)
	rec := Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body, Gzip: gz}
	if err != nil {
		r.record(rec)
		write(w, Reply{Status: 400, Code: 6, Text: "Invalid data format"}, nil)
		return
	}
	path := strings.TrimSuffix(req.URL.Path, "/1.0")
	switch {
	case strings.HasSuffix(path, "/services/collector/health"):
		r.record(rec)
		r.mu.Lock()
		h := r.health
		r.mu.Unlock()
		write(w, h, nil)
	case strings.HasSuffix(path, "/services/collector/ack"):
		r.record(rec)
		r.serveAck(w, req, body)
	case path == "/_hectest/stats":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"accepted":%d}`, r.Accepted())
	case strings.HasSuffix(path, "/services/collector/event"):
		evs, perr := splitEvents(body)
		rec.Events = evs
		r.record(rec)
		r.serveEvent(w, req, evs, perr)
	default:
		r.record(rec)
		http.NotFound(w, req)
	}
}

func (r *Recorder) record(q Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.countOnly {
		r.reqs = append(r.reqs, q)
	}
}

// store keeps accepted events; the caller holds r.mu.
func (r *Recorder) store(evs []json.RawMessage) {
	r.accepted += int64(len(evs))
	if !r.countOnly {
		r.stored = append(r.stored, evs...)
	}
}

func (r *Recorder) checkToken(req *http.Request) (Reply, bool) {
	if r.token == "" {
		return Reply{}, true
	}
	h := req.Header.Get("Authorization")
	switch {
	case h == "":
		return ReplyCode(2), false
	case !strings.HasPrefix(h, "Splunk "):
		return ReplyCode(3), false
	case strings.TrimPrefix(h, "Splunk ") != r.token:
		return ReplyCode(4), false
	}
	return Reply{}, true
}

func (r *Recorder) serveEvent(w http.ResponseWriter, req *http.Request, evs []json.RawMessage, perr error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rep, ok := r.checkToken(req); !ok {
		write(w, rep, nil)
		return
	}
	channel := req.Header.Get("X-Splunk-Request-Channel")
	if r.ack && channel == "" {
		write(w, ReplyCode(10), nil)
		return
	}
	if len(r.replies) > 0 && r.replies[0].success() {
		// A scripted success is an ordinary accepted request.
		r.replies = r.replies[1:]
	} else if len(r.replies) > 0 {
		rep := r.replies[0]
		r.replies = r.replies[1:]
		if rep.Store {
			n := len(evs)
			if rep.InvalidEventNumber != nil && *rep.InvalidEventNumber < n {
				n = *rep.InvalidEventNumber
			}
			r.store(evs[:n])
		}
		write(w, rep, nil)
		return
	}
	if perr != nil {
		write(w, ReplyCode(6), nil)
		return
	}
	if len(evs) == 0 {
		write(w, ReplyCode(5), nil)
		return
	}
	if r.reject != nil {
		for i, ev := range evs {
			if r.reject(ev) {
				rep := r.rejectReply
				if r.rejectNumber {
					rep = rep.WithEventNumber(i)
				}
				write(w, rep, nil)
				return
			}
		}
	}
	for i, ev := range evs {
		var probe struct {
			Event json.RawMessage `json:"event"`
		}
		_ = json.Unmarshal(ev, &probe)
		switch {
		case len(probe.Event) == 0 || string(probe.Event) == "null":
			write(w, ReplyCode(12).WithEventNumber(i), nil)
			return
		case string(probe.Event) == `""`:
			write(w, ReplyCode(13).WithEventNumber(i), nil)
			return
		}
	}
	r.store(evs)
	ok := ReplyCode(0)
	if r.ack {
		id := r.nextAck[channel]
		r.nextAck[channel] = id + 1
		if r.ackPending[channel] == nil {
			r.ackPending[channel] = map[int64]int{}
		}
		r.ackPending[channel][id] = 0
		write(w, ok, &id)
		return
	}
	write(w, ok, nil)
}

func (r *Recorder) serveAck(w http.ResponseWriter, req *http.Request, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rep, ok := r.checkToken(req); !ok {
		write(w, rep, nil)
		return
	}
	if len(r.ackReplies) > 0 {
		rep := r.ackReplies[0]
		r.ackReplies = r.ackReplies[1:]
		write(w, rep, nil)
		return
	}
	if !r.ack {
		write(w, ReplyCode(14), nil)
		return
	}
	channel := req.Header.Get("X-Splunk-Request-Channel")
	if channel == "" {
		write(w, ReplyCode(10), nil)
		return
	}
	var q struct {
		Acks []int64 `json:"acks"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		write(w, ReplyCode(6), nil)
		return
	}
	pend := r.ackPending[channel]
	out := map[string]bool{}
	for _, id := range q.Acks {
		polls, ok := pend[id]
		if !ok {
			out[strconv.FormatInt(id, 10)] = false
			continue
		}
		polls++
		pend[id] = polls
		done := r.ackAfter > 0 && polls >= r.ackAfter
		if done {
			// HEC forgets an ackId once it reported it true.
			delete(pend, id)
		}
		out[strconv.FormatInt(id, 10)] = done
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"acks": out})
}

func write(w http.ResponseWriter, rep Reply, ackID *int64) {
	w.Header().Set("Content-Type", "application/json")
	if rep.RetryAfter != "" {
		w.Header().Set("Retry-After", rep.RetryAfter)
	}
	status := rep.Status
	if status == 0 {
		status = 200
	}
	w.WriteHeader(status)
	if rep.Body != "" {
		_, _ = io.WriteString(w, rep.Body)
		return
	}
	m := map[string]any{"text": rep.Text, "code": rep.Code}
	if rep.InvalidEventNumber != nil {
		m["invalid-event-number"] = *rep.InvalidEventNumber
	}
	if ackID != nil {
		m["ackId"] = *ackID
	}
	_ = json.NewEncoder(w).Encode(m)
}

func readBody(req *http.Request) ([]byte, bool, error) {
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, false, err
	}
	if req.Header.Get("Content-Encoding") != "gzip" {
		return raw, false, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return raw, true, fmt.Errorf("gzip: %w", err)
	}
	b, err := io.ReadAll(zr)
	return b, true, err
}

// splitEvents reads concatenated JSON objects, as HEC's event endpoint
// takes them.
func splitEvents(body []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var out []json.RawMessage
	for dec.More() {
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}
