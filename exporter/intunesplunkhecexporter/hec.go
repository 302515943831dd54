package intunesplunkhecexporter

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HEC status codes, as Splunk documents them for /services/collector.
const (
	codeSuccess              = 0
	codeTokenDisabled        = 1
	codeTokenRequired        = 2
	codeInvalidAuthorization = 3
	codeInvalidToken         = 4
	codeNoData               = 5
	codeInvalidDataFormat    = 6
	codeIncorrectIndex       = 7
	codeInternalError        = 8
	codeServerBusy           = 9
	codeChannelMissing       = 10
	codeInvalidChannel       = 11
	codeEventRequired        = 12
	codeEventBlank           = 13
	codeAckDisabled          = 14
	codeIndexedFields        = 15
	codeQueryAuthDisabled    = 16
	codeHealthy              = 17
	codeQueuesFull           = 18
	codeAckUnavailable       = 19
	codeQueuesFullAckDown    = 20
	codeHealthInvalidToken   = 21
	codeHealthTokenDisabled  = 22
	codeShuttingDown         = 23
	codeQueueNearCapacity    = 24
	codeAckNearCapacity      = 25
	codeQueueAtCapacity      = 26
	codeAckAtCapacity        = 27
)

// hecResponse is the JSON body HEC answers with.
type hecResponse struct {
	Text               string `json:"text"`
	Code               *int   `json:"code"`
	InvalidEventNumber *int   `json:"invalid-event-number"`
	AckID              *int64 `json:"ackId"`
}

// outcome is what the exporter does with a response.
type outcome int

const (
	outDelivered outcome = iota
	// outBadEvent: one event (invalid-event-number) or, without it, some
	// event of the request is malformed; dead-letter it, send the rest.
	outBadEvent
	// outBadIndex: the token may not write to the event's index.
	outBadIndex
	// outTooLarge: the request body was too large for the server.
	outTooLarge
	// outThrottle: the server is busy; retry after Retry-After.
	outThrottle
	// outRetry: a server-side failure worth another attempt.
	outRetry
	// outConfig: the token, the endpoint or the channel settings are
	// wrong; nothing sent with them can succeed.
	outConfig
)

// verdict is a classified HEC answer.
type verdict struct {
	out        outcome
	status     int
	code       int // -1 when the body carried none
	text       string
	badEvent   int // invalid-event-number, -1 when absent
	ackID      int64
	hasAckID   bool
	retryAfter time.Duration
	// hint says what the user should change, for outConfig and outBadIndex.
	hint string
}

func (v verdict) codeLabel() string {
	if v.code < 0 {
		return "none"
	}
	return strconv.Itoa(v.code)
}

// describe renders the server's answer for logs and errors.
func (v verdict) describe() string {
	var b strings.Builder
	b.WriteString("HTTP ")
	b.WriteString(strconv.Itoa(v.status))
	if v.code >= 0 {
		b.WriteString(", HEC code ")
		b.WriteString(strconv.Itoa(v.code))
	}
	if v.text != "" {
		b.WriteString(" (")
		b.WriteString(v.text)
		b.WriteString(")")
	}
	return b.String()
}

const (
	hintToken   = "check the exporter's token setting: it must be an enabled HEC token of this Splunk instance, given without the \"Splunk \" prefix"
	hintIndex   = "the token may not write to this index: add it to the token's allowed indexes in Splunk, or change the exporter's index setting or the record's com.splunk.index attribute"
	hintChannel = "the token has indexer acknowledgement turned on: set ack::enabled: true in the exporter, or turn acknowledgement off for the token"
	hintBadChan = "HEC refused the request channel: with ack::enabled the exporter sends its own channel GUID; check that no proxy or header setting replaces X-Splunk-Request-Channel"
	hintAckOff  = "ack::enabled is true but the token has indexer acknowledgement turned off: turn it on for the token, or set ack::enabled: false"
	hintQuery   = "HEC answered that query-string authorization is not enabled; the exporter sends the token in the Authorization header, so check the endpoint for a stray ?token= and any proxy in between"
	hintPath    = "nothing answers HEC at this URL: check the endpoint setting (the base URL, e.g. https://splunk:8088, or the full /services/collector/event path) and that HEC is enabled in Splunk"
	hintLength  = "the server refused the request size: lower max_content_length (Splunk's limit is max_content_length in limits.conf [http_input])"
)

// classify maps an HTTP answer to an outcome. body may be empty or not
// JSON (a proxy's error page); the HTTP status decides then.
func classify(status int, header http.Header, body []byte) verdict {
	v := verdict{status: status, code: -1, badEvent: -1}
	var r hecResponse
	if len(body) > 0 && json.Unmarshal(body, &r) == nil {
		// The text goes into logs and errors; a peer (or a proxy imitating
		// one) may send any amount of it.
		v.text = snippet([]byte(r.Text))
		if r.Code != nil {
			v.code = *r.Code
		}
		if r.InvalidEventNumber != nil && *r.InvalidEventNumber >= 0 {
			v.badEvent = *r.InvalidEventNumber
		}
		if r.AckID != nil {
			v.ackID, v.hasAckID = *r.AckID, true
		}
	} else if len(body) > 0 {
		v.text = snippet(body)
	}
	v.retryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())

	switch v.code {
	case codeSuccess, codeHealthy, codeQueueNearCapacity, codeAckNearCapacity:
		if status >= 200 && status < 300 {
			v.out = outDelivered
			return v
		}
	case codeTokenDisabled, codeTokenRequired, codeInvalidAuthorization, codeInvalidToken,
		codeHealthInvalidToken, codeHealthTokenDisabled:
		v.out, v.hint = outConfig, hintToken
		return v
	case codeQueryAuthDisabled:
		v.out, v.hint = outConfig, hintQuery
		return v
	case codeChannelMissing:
		v.out, v.hint = outConfig, hintChannel
		return v
	case codeInvalidChannel:
		v.out, v.hint = outConfig, hintBadChan
		return v
	case codeAckDisabled:
		v.out, v.hint = outConfig, hintAckOff
		return v
	case codeIncorrectIndex:
		v.out, v.hint = outBadIndex, hintIndex
		return v
	case codeNoData, codeInvalidDataFormat, codeEventRequired, codeEventBlank, codeIndexedFields:
		v.out = outBadEvent
		return v
	case codeInternalError:
		v.out = outRetry
		return v
	case codeServerBusy, codeQueuesFull, codeAckUnavailable, codeQueuesFullAckDown, codeShuttingDown,
		codeQueueAtCapacity, codeAckAtCapacity:
		v.out = outThrottle
		return v
	}

	// No code, or one this exporter does not know: the HTTP status decides.
	switch {
	case status >= 200 && status < 300:
		v.out = outDelivered
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		v.out, v.hint = outConfig, hintToken
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		v.out, v.hint = outConfig, hintPath
	case status == http.StatusRequestEntityTooLarge:
		v.out, v.hint = outTooLarge, hintLength
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		v.out = outThrottle
	case status == http.StatusBadRequest:
		v.out = outBadEvent
	case status >= 500 || status == http.StatusRequestTimeout:
		v.out = outRetry
	default:
		v.out, v.hint = outConfig, "unexpected answer from the endpoint: check the endpoint setting and any proxy in between"
	}
	return v
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unreadable, and never more than ten minutes, so a bad header cannot
// stall the queue for hours.
func parseRetryAfter(s string, now time.Time) time.Duration {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > 600 {
			n = 600
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(s); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, 10*time.Minute)
}

// ackResponse is the answer of /services/collector/ack.
type ackResponse struct {
	Acks map[string]bool `json:"acks"`
}

func parseAckResponse(body []byte) (map[int64]bool, error) {
	var r ackResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("acknowledgement answer is not JSON: %w", err)
	}
	if r.Acks == nil {
		return nil, fmt.Errorf("acknowledgement answer has no acks member: %s", snippet(body))
	}
	out := make(map[int64]bool, len(r.Acks))
	for k, v := range r.Acks {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("acknowledgement answer has a non-numeric ack ID %q", k)
		}
		out[id] = v
	}
	return out, nil
}

// snippet keeps error bodies short in logs.
func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
