package delivery

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
)

// DeadLetters routes records a server refused for good to the dead-letter
// file and, when the exporter has one, to a destination of its own (the
// Elasticsearch dead-letter index).
type DeadLetters struct {
	file     *deadletter.Writer
	extra    func(context.Context, []deadletter.Entry) error
	exporter string
}

// OpenDeadLetters opens the file of cfg (none when its path is empty);
// extra, when not nil, is written after it.
func OpenDeadLetters(cfg deadletter.Config, id component.ID, extra func(context.Context, []deadletter.Entry) error) (*DeadLetters, error) {
	f, err := deadletter.Open(cfg)
	if err != nil {
		return nil, err
	}
	return &DeadLetters{file: f, extra: extra, exporter: id.String()}, nil
}

// Configured reports whether refused records have somewhere to go.
func (d *DeadLetters) Configured() bool {
	return d != nil && (d.file != nil || d.extra != nil)
}

// Entry returns the entry for one refused record.
func (d *DeadLetters) Entry(now time.Time, status int, reason, id, target string, doc []byte) deadletter.Entry {
	return deadletter.Entry{Time: now, Exporter: d.exporter, Status: status, Reason: reason, ID: id, Target: target, Document: doc}
}

// Write keeps entries in every destination; an error means at least one
// did not take them.
func (d *DeadLetters) Write(ctx context.Context, entries []deadletter.Entry) error {
	if d == nil || len(entries) == 0 {
		return nil
	}
	var errs []error
	if err := d.file.Write(entries...); err != nil {
		errs = append(errs, err)
	}
	if d.extra != nil {
		if err := d.extra(ctx, entries); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close closes the file; safe on nil and more than once.
func (d *DeadLetters) Close() error {
	if d == nil {
		return nil
	}
	return d.file.Close()
}
