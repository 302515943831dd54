package intuneelasticsearchexporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// permanentError is a failure that retrying cannot fix: wrong credentials,
// missing privileges, a server that is not Elasticsearch.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return &permanentError{err} }

// The go-elasticsearch client reports a failed product check with this text.
const productCheckText = "the client noticed that the server is not Elasticsearch"

func classifyTransportError(err error) error {
	if strings.Contains(err.Error(), productCheckText) {
		return permanent(errors.New("the server at endpoints (or cloud_id) is not Elasticsearch: its answers lack the X-Elastic-Product: Elasticsearch header; check the URL, or a proxy in between that drops headers"))
	}
	return err
}

// statusError explains a refused request. what says which request.
func (e *esExporter) statusError(status int, body []byte, what string) error {
	reason := errorReason(body)
	switch status {
	case http.StatusUnauthorized:
		return permanent(fmt.Errorf("%s: Elasticsearch refused the credentials (401: %s); check api_key, user and password, or bearer_token", what, reason))
	case http.StatusForbidden:
		return permanent(fmt.Errorf("%s: the credentials lack a privilege (403: %s); grant the index privileges create_doc and auto_configure on the target data streams or index (see the README), or use other credentials in api_key, user/password or bearer_token", what, reason))
	}
	err := fmt.Errorf("%s: Elasticsearch answered %d: %s", what, status, reason)
	if status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout {
		return permanent(err)
	}
	return err
}

// throttle is a retry that waits at least as long as Retry-After asks.
func (e *esExporter) throttle(status int, header http.Header, body []byte) error {
	err := fmt.Errorf("Elasticsearch is overloaded (%d: %s)", status, errorReason(body))
	if d := retryAfter(header.Get("Retry-After"), time.Now()); d > 0 {
		return exporterhelper.NewThrottleRetry(err, d)
	}
	return err
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// errorReason pulls "type: reason" out of an Elasticsearch error body.
func errorReason(body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
		var ie itemError
		if json.Unmarshal(e.Error, &ie) == nil && ie.Type != "" {
			return ie.String()
		}
		var s string
		if json.Unmarshal(e.Error, &s) == nil {
			return clip(s, maxReason)
		}
	}
	s := strings.TrimSpace(string(body))
	if s == "" {
		return "no details"
	}
	return clip(s, 300)
}

// maxReason bounds an error text taken from the server. It ends up in logs,
// returned errors and dead-letter entries, and a peer (or a proxy in front
// of it) may send any amount of it; Elasticsearch's own mapping errors stay
// well below this.
const maxReason = 1024

// clip shortens s to at most max bytes plus an ellipsis, and replaces
// invalid UTF-8 so a log line stays readable.
func clip(s string, max int) string {
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// itemError is the error of a bulk item or a request.
type itemError struct {
	Type     string `json:"type"`
	Reason   string `json:"reason"`
	CausedBy struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"caused_by"`
}

func (e itemError) String() string {
	s := e.Type + ": " + e.Reason
	if e.CausedBy.Type != "" {
		s += " (caused by " + e.CausedBy.Type + ": " + e.CausedBy.Reason + ")"
	}
	return clip(s, maxReason)
}

type itemStatus struct {
	Status int       `json:"status"`
	Error  itemError `json:"error"`
}

type bulkResponse struct {
	errors bool
	items  []itemStatus
}

// parseBulkResponse reads a bulk answer. When errors is false every item
// went in, and the items are not decoded.
func parseBulkResponse(body []byte, n int) (bulkResponse, error) {
	var r struct {
		Errors *bool           `json:"errors"`
		Items  json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Errors == nil {
		return bulkResponse{}, fmt.Errorf("unreadable bulk answer: %s", errorReason(body))
	}
	if !*r.Errors {
		return bulkResponse{}, nil
	}
	var items []map[string]itemStatus
	if err := json.Unmarshal(r.Items, &items); err != nil {
		return bulkResponse{}, fmt.Errorf("unreadable bulk items: %w", err)
	}
	if len(items) != n {
		return bulkResponse{}, fmt.Errorf("the bulk answer has %d items for %d documents", len(items), n)
	}
	out := bulkResponse{errors: true, items: make([]itemStatus, n)}
	for i, m := range items {
		for _, it := range m {
			out.items[i] = it
		}
	}
	return out, nil
}

// call makes one request through the client (product check, credentials,
// compatibility headers) with the per-request timeout.
func (e *esExporter) call(ctx context.Context, method, path string, body []byte) (int, http.Header, []byte, error) {
	if e.cfg.ClientConfig.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.ClientConfig.Timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Perform(req)
	if err != nil {
		return 0, nil, nil, classifyTransportError(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return res.StatusCode, res.Header, b, nil
}

// versionNumber reads version.number from a GET / answer.
func versionNumber(body []byte) string {
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	_ = json.Unmarshal(body, &info)
	return info.Version.Number
}
