package intuneelasticsearchexporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
)

// deadLetterIndex writes entries as documents whose original is a string,
// so the fields that were refused cannot be refused again.
func (e *esExporter) deadLetterIndex(ctx context.Context, entries []deadletter.Entry) error {
	var body []byte
	for _, en := range entries {
		body = appendAction(body, e.cfg.DeadLetter.Index, en.ID)
		doc := struct {
			Timestamp  time.Time `json:"@timestamp"`
			Exporter   string    `json:"exporter"`
			Status     int       `json:"status"`
			Reason     string    `json:"reason"`
			Target     string    `json:"target"`
			DocumentID string    `json:"document_id"`
			Document   string    `json:"document"`
		}{en.Time, en.Exporter, en.Status, en.Reason, en.Target, en.ID, string(en.Document)}
		line, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		body = append(body, line...)
		body = append(body, '\n')
	}
	status, _, resp, err := e.bulkTo(ctx, func(w io.Writer) (int, error) { return w.Write(body) }, len(entries), "")
	if err != nil {
		return fmt.Errorf("dead_letter::index: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("dead_letter::index %s: %w", e.cfg.DeadLetter.Index, statusError(status, resp, "bulk request"))
	}
	r, err := parseBulkResponse(resp, len(entries))
	if err != nil {
		return fmt.Errorf("dead_letter::index: %w", err)
	}
	for _, it := range r.items {
		if it.Status >= 300 && it.Status != http.StatusConflict {
			return fmt.Errorf("dead_letter::index %s refused an entry (%d %s)", e.cfg.DeadLetter.Index, it.Status, it.Error)
		}
	}
	return nil
}
