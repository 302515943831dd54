package intuneelasticsearchexporter

import (
	"encoding/json"
	"fmt"

	"github.com/otelcol-intune/otelcol-intune/internal/delivery"
)

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
	return delivery.Clip(s)
}

type itemStatus struct {
	Status int       `json:"status"`
	Error  itemError `json:"error"`
}

type bulkResponse struct {
	errors bool
	items  []itemStatus
}

// Bulk response members the exporter reads; the rest is not sent.
var filterPath = []string{"errors", "items.*.status", "items.*.error.type", "items.*.error.reason", "items.*.error.caused_by.type", "items.*.error.caused_by.reason"}

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

// itemOutcome is what becomes of one document of a bulk request.
type itemOutcome struct {
	delivery.Outcome
	reason string // the server's, clipped; empty when delivered
}

// typeRejected is the error type of a document the cluster had no room
// for at that moment, whatever the status says.
const typeRejected = "es_rejected_execution_exception"

// classifyItem maps one bulk item to its outcome.
func classifyItem(it itemStatus) itemOutcome {
	overloaded := it.Error.Type == typeRejected || it.Error.CausedBy.Type == typeRejected
	o := itemOutcome{Outcome: delivery.FromItem(it.Status, overloaded)}
	if o.Kind != delivery.Delivered {
		o.reason = it.Error.String()
	}
	return o
}

// classifyBulk reads the answer to a bulk request of n documents: one
// outcome per document, or nil when every document went in (errors:
// false, the usual answer, read without decoding the items). It is pure,
// so it is fuzzed: whatever the server sends, either an error (and the
// whole request is sent again) or exactly n outcomes.
func classifyBulk(body []byte, n int) ([]itemOutcome, error) {
	r, err := parseBulkResponse(body, n)
	if err != nil || !r.errors {
		return nil, err
	}
	out := make([]itemOutcome, n)
	for i, it := range r.items {
		out[i] = classifyItem(it)
	}
	return out, nil
}
