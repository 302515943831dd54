package intuneelasticsearchexporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
)

// permanentError is a failure that retrying cannot fix: a server that is
// not Elasticsearch, a version this exporter does not speak, a refused
// bootstrap resource.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return &permanentError{err} }

// authError is a refusal of the credentials or of their privileges: the
// configuration, not the data. At start it stops the collector with what
// to fix; while sending, the records are kept and sent again until it is
// fixed.
type authError struct{ err error }

func (a *authError) Error() string { return a.err.Error() }
func (a *authError) Unwrap() error { return a.err }

func authFailure(err error) error { return &authError{err} }

// isFatalAtStart reports whether err must stop the collector at start.
func isFatalAtStart(err error) bool {
	var perm *permanentError
	var auth *authError
	return errors.As(err, &perm) || errors.As(err, &auth)
}

// The go-elasticsearch client reports a failed product check with this text.
const productCheckText = "the client noticed that the server is not Elasticsearch"

func classifyTransportError(err error) error {
	if strings.Contains(err.Error(), productCheckText) {
		return permanent(errors.New("the server at endpoints (or cloud_id) is not Elasticsearch: its answers lack the X-Elastic-Product: Elasticsearch header; check the URL, or a proxy in between that drops headers"))
	}
	return err
}

const (
	hintCredentials = "check api_key, user and password, or bearer_token"
	hintPrivileges  = "grant the index privileges create_doc and auto_configure on the target data streams or index (see the README), or use other credentials in api_key, user/password or bearer_token"
)

// statusError explains a refused request. what says which request.
func statusError(status int, body []byte, what string) error {
	reason := errorReason(body)
	switch status {
	case http.StatusUnauthorized:
		return authFailure(fmt.Errorf("%s: Elasticsearch refused the credentials (401: %s); %s", what, reason, hintCredentials))
	case http.StatusForbidden:
		return authFailure(fmt.Errorf("%s: the credentials lack a privilege (403: %s); %s", what, reason, hintPrivileges))
	}
	err := fmt.Errorf("%s: Elasticsearch answered %d: %s", what, status, reason)
	if status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout {
		return permanent(err)
	}
	return err
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
			return delivery.Clip(s)
		}
	}
	if s := delivery.Clip(string(body)); s != "" {
		return s
	}
	return "no details"
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
