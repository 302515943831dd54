// Package delivery is what the intune exporters share between encoding a
// batch and handing the answer back to exporterhelper: classifying HTTP
// answers into outcomes, turning outcomes into consumererror values, the
// retry clock, Retry-After, clipping server text, gzip pooling,
// rate-limited logging, the component's health, and dead-letter routing.
// Each exporter keeps only its wire format and its configuration.
package delivery

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what becomes of a request, or of one document of it, after the
// server answered.
type Kind uint8

const (
	// Delivered: the server stored it.
	Delivered Kind = iota
	// Duplicate: an earlier send stored it (a create answered 409).
	Duplicate
	// Retry: a passing failure; send it again after a backoff.
	Retry
	// Throttle: the server is overloaded; send again after Wait, or a
	// backoff when the server named no wait.
	Throttle
	// TooLarge: the request is larger than the server takes; split it.
	TooLarge
	// Auth: the server refused the credentials or their privileges. That is
	// the configuration, not the data: keep the records until it is fixed.
	Auth
	// Permanent: the request cannot succeed as configured; fail it.
	Permanent
	// DeadLetter: the data itself is refused for good; keep it in the
	// dead-letter destination.
	DeadLetter
)

var kindNames = [...]string{"delivered", "duplicate", "retry", "throttle", "too_large", "auth", "permanent", "dead_letter"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Outcome is a classified answer.
type Outcome struct {
	Kind   Kind
	Status int
	// Wait is the server's Retry-After (Throttle only; 0 when none).
	Wait time.Duration
}

// FromStatus classifies an answer by its HTTP status alone. Exporters look
// at their protocol's body first and fall back to this.
func FromStatus(status int, header http.Header, now time.Time) Outcome {
	o := Outcome{Status: status}
	switch {
	case status >= 200 && status < 300:
		o.Kind = Delivered
	case status == http.StatusConflict:
		o.Kind = Duplicate
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		o.Kind = Auth
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		o.Kind = Throttle
		if header != nil {
			o.Wait = RetryAfter(header.Get("Retry-After"), now)
		}
	case status == http.StatusRequestEntityTooLarge:
		o.Kind = TooLarge
	case status == http.StatusRequestTimeout || status >= 500:
		o.Kind = Retry
	case status >= 400:
		o.Kind = DeadLetter
	default:
		// 1xx and 3xx: nothing that answers a write like this is the
		// server the settings meant.
		o.Kind = Permanent
	}
	return o
}

// FromItem classifies the answer for one document of a batch (an
// Elasticsearch bulk item). overloaded says the server named overload as
// the cause whatever the status (es_rejected_execution_exception).
func FromItem(status int, overloaded bool) Outcome {
	o := Outcome{Status: status}
	switch {
	case status >= 200 && status < 300:
		o.Kind = Delivered
	case status == http.StatusConflict:
		o.Kind = Duplicate
	case overloaded || status == http.StatusTooManyRequests || status >= 500:
		// Per document, a rejection is retried like any passing failure:
		// the request as a whole went through.
		o.Kind = Retry
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		o.Kind = Auth
	default:
		o.Kind = DeadLetter
	}
	return o
}

// MaxRetryAfter bounds a server's Retry-After, so a wrong header (or a
// proxy's) cannot stall a queue for hours.
const MaxRetryAfter = 10 * time.Minute

// RetryAfter reads a Retry-After value: delay-seconds or an HTTP date. It
// is 0 when absent, unreadable or past, and at most MaxRetryAfter.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		d = time.Duration(min(n, int64(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}

// MaxText bounds text taken from a server's answer. It ends up in logs,
// returned errors and dead-letter entries, and a peer (or a proxy in front
// of it) may send any amount; Elasticsearch's mapping errors and HEC's
// messages stay well below it.
const MaxText = 1024

// Clip trims s and shortens it to at most MaxText bytes, cut at a
// character boundary and marked with "...", with invalid UTF-8 replaced by
// "?", so a log line stays readable.
func Clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > MaxText {
		cut := MaxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
