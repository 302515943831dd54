package intunesplunkhecexporter

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
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

// verdict is a classified HEC answer: the outcome, and what HEC said.
type verdict struct {
	delivery.Outcome
	code     int // -1 when the body carried none
	text     string
	badEvent int // invalid-event-number, -1 when absent
	// badIndex: the token may not write to the event's index (code 7); a
	// DeadLetter outcome for every event naming that index.
	badIndex bool
	ackID    int64
	hasAckID bool
	// hint says what the user should change, for Auth, Permanent and
	// badIndex.
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
	b.WriteString(strconv.Itoa(v.Status))
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

// classify maps an HTTP answer to an outcome: HEC's code when the body has
// one it knows, else the HTTP status. body may be empty or not JSON (a
// proxy's error page).
func classify(status int, header http.Header, body []byte) verdict {
	v := verdict{Outcome: delivery.FromStatus(status, header, time.Now()), code: -1, badEvent: -1}
	var r hecResponse
	if len(body) > 0 && json.Unmarshal(body, &r) == nil {
		// The text goes into logs and errors; a peer (or a proxy imitating
		// one) may send any amount of it.
		v.text = delivery.Clip(r.Text)
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
		v.text = delivery.Clip(string(body))
	}
	if !v.fromCode() {
		v.fromStatus()
	}
	v.Wait = 0
	if v.Kind == delivery.Throttle && header != nil {
		v.Wait = delivery.RetryAfter(header.Get("Retry-After"), time.Now())
	}
	return v
}

// fromCode sets the outcome from a HEC code this exporter knows, and
// reports whether there was one.
func (v *verdict) fromCode() bool {
	set := func(k delivery.Kind, hint string) bool {
		v.Kind, v.hint = k, hint
		return true
	}
	switch v.code {
	case codeSuccess, codeHealthy, codeQueueNearCapacity, codeAckNearCapacity:
		if v.Status >= 200 && v.Status < 300 {
			return set(delivery.Delivered, "")
		}
	case codeTokenDisabled, codeTokenRequired, codeInvalidAuthorization, codeInvalidToken,
		codeHealthInvalidToken, codeHealthTokenDisabled:
		return set(delivery.Auth, hintToken)
	case codeQueryAuthDisabled:
		return set(delivery.Permanent, hintQuery)
	case codeChannelMissing:
		return set(delivery.Permanent, hintChannel)
	case codeInvalidChannel:
		return set(delivery.Permanent, hintBadChan)
	case codeAckDisabled:
		return set(delivery.Permanent, hintAckOff)
	case codeIncorrectIndex:
		v.badIndex = true
		return set(delivery.DeadLetter, hintIndex)
	case codeNoData, codeInvalidDataFormat, codeEventRequired, codeEventBlank, codeIndexedFields:
		return set(delivery.DeadLetter, "")
	case codeInternalError:
		return set(delivery.Retry, "")
	case codeServerBusy, codeQueuesFull, codeAckUnavailable, codeQueuesFullAckDown, codeShuttingDown,
		codeQueueAtCapacity, codeAckAtCapacity:
		return set(delivery.Throttle, "")
	}
	return false
}

// fromStatus refines the HTTP status's outcome for HEC, which answers a
// wrong URL with 404 and bad events with 400.
func (v *verdict) fromStatus() {
	switch {
	case v.Kind == delivery.Auth:
		v.hint = hintToken
	case v.Status == http.StatusNotFound || v.Status == http.StatusMethodNotAllowed:
		v.Kind, v.hint = delivery.Permanent, hintPath
	case v.Kind == delivery.TooLarge:
		v.hint = hintLength
	case v.Kind == delivery.Throttle:
		// HEC's busy codes carry no Retry-After of their own; the header
		// counts whatever the code.
	case v.Kind == delivery.DeadLetter && v.Status == http.StatusBadRequest:
	case v.Kind == delivery.Delivered || v.Kind == delivery.Retry:
	default:
		v.Kind, v.hint = delivery.Permanent, "unexpected answer from the endpoint: check the endpoint setting and any proxy in between"
	}
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
		return nil, fmt.Errorf("acknowledgement answer has no acks member: %s", delivery.Clip(string(body)))
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
