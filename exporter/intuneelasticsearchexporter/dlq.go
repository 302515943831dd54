package intuneelasticsearchexporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
)

func (e *esExporter) hasDeadLetter() bool {
	return e.dlq != nil || e.cfg.DeadLetter.Index != ""
}

// deadLetter keeps documents Elasticsearch refused for good, with the
// reason, in the file and/or the index. Without either it reports them as
// an error, so they are counted as failed and logged, never dropped
// silently.
func (e *esExporter) deadLetter(ctx context.Context, b *batch, dead []deadItem) error {
	first := dead[0]
	if !e.hasDeadLetter() {
		return fmt.Errorf("Elasticsearch refused %d documents for good (first: _id %s, %d %s); set dead_letter::path or dead_letter::index to keep such documents",
			len(dead), b.items[first.item].id, first.status, first.reason)
	}
	now := time.Now().UTC()
	entries := make([]deadletter.Entry, len(dead))
	for n, d := range dead {
		it := b.items[d.item]
		entries[n] = deadletter.Entry{
			Time:     now,
			Exporter: e.set.ID.String(),
			Status:   d.status,
			Reason:   d.reason,
			ID:       it.id,
			Document: json.RawMessage(b.buf[it.doc : it.end-1]),
		}
	}
	var errs []error
	if err := e.dlq.Write(entries...); err != nil {
		errs = append(errs, err)
	}
	if e.cfg.DeadLetter.Index != "" {
		if err := e.deadLetterIndex(ctx, entries, b, dead); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if e.refusedLg.allow(10 * time.Second) {
		e.logger.Warn("Elasticsearch refused documents; they are in the dead-letter destination",
			zap.Int("documents", len(dead)), zap.String("first_id", entries[0].ID),
			zap.Int("first_status", first.status), zap.String("first_reason", first.reason))
	}
	return nil
}

// deadLetterIndex writes entries as documents whose original is a string,
// so the fields that were refused cannot be refused again.
func (e *esExporter) deadLetterIndex(ctx context.Context, entries []deadletter.Entry, b *batch, dead []deadItem) error {
	var body []byte
	for n, en := range entries {
		body = appendAction(body, e.cfg.DeadLetter.Index, en.ID)
		doc := struct {
			Timestamp  time.Time `json:"@timestamp"`
			Exporter   string    `json:"exporter"`
			Status     int       `json:"status"`
			Reason     string    `json:"reason"`
			Target     string    `json:"target"`
			DocumentID string    `json:"document_id"`
			Document   string    `json:"document"`
		}{en.Time, en.Exporter, en.Status, en.Reason, b.items[dead[n].item].target, en.ID, string(en.Document)}
		line, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		body = append(body, line...)
		body = append(body, '\n')
	}
	status, _, resp, err := e.bulkTo(ctx, body, len(entries), "")
	if err != nil {
		return fmt.Errorf("dead_letter::index: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("dead_letter::index %s: %w", e.cfg.DeadLetter.Index, e.statusError(status, resp, "bulk request"))
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
