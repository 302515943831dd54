// Package batch collects decoded events into batches for the pipeline,
// together with the checkpoint writes that become true once the pipeline
// accepted them.
package batch

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Batch is a set of events on their way to the pipeline.
type Batch struct {
	// Source is the kind of input ("file", "channel"), for telemetry.
	Source string
	Events []wineventlog.Event
	// Paths holds the file of each event; nil when none came from a file.
	Paths []string
	// First is when the first event was added.
	First time.Time
	// Commits are storage writes, in order, to make only after the
	// pipeline accepted Events.
	Commits []*storage.Operation
	// owner takes Events back for its next batch (see Release).
	owner *Batcher
}

// Release drops the batch's events, once the records made from them no
// longer need them, and hands their slice back to the Batcher that filled
// it: a batch of 1,000 events is a third of a megabyte, which would
// otherwise be allocated and collected again for every batch.
func (b *Batch) Release() {
	if b.owner != nil && b.Events != nil {
		b.owner.recycle(b.Events)
	}
	b.Events, b.Paths = nil, nil
}

// Len is the number of events.
func (b *Batch) Len() int { return len(b.Events) }

// Empty reports a batch with neither events nor checkpoint writes.
func (b *Batch) Empty() bool { return len(b.Events) == 0 && len(b.Commits) == 0 }

// Batcher owns the batch being filled and hands it on when asked. It is
// used by one goroutine.
type Batcher struct {
	source string
	max    int
	delay  time.Duration
	send   func(context.Context, *Batch) error
	cur    *Batch
	// free holds released event slices. Batches are released on another
	// goroutine (the one that delivers them), hence a channel; two are
	// enough, one filling while the other is delivered.
	free chan []wineventlog.Event
}

// NewBatcher returns a Batcher whose batches are due at max events or when
// their first event is delay old. send hands a batch on; it returns an
// error only when ctx ended.
func NewBatcher(source string, max int, delay time.Duration, send func(context.Context, *Batch) error) *Batcher {
	bt := &Batcher{source: source, max: max, delay: delay, send: send, free: make(chan []wineventlog.Event, 2)}
	bt.cur = bt.fresh()
	return bt
}

func (bt *Batcher) fresh() *Batch {
	select {
	case evs := <-bt.free:
		return &Batch{Source: bt.source, Events: evs, owner: bt}
	default:
		return &Batch{Source: bt.source, Events: make([]wineventlog.Event, 0, bt.max), owner: bt}
	}
}

// recycle keeps evs for a later batch, cleared so that it holds no event's
// text alive meanwhile.
func (bt *Batcher) recycle(evs []wineventlog.Event) {
	if cap(evs) != bt.max {
		return
	}
	clear(evs[:cap(evs)])
	select {
	case bt.free <- evs[:0]:
	default:
	}
}

// Add copies ev into the batch; path is the file it came from, "" for a
// channel. It reports whether the batch is now due: full, or holding an
// event older than the delay.
func (bt *Batcher) Add(ev *wineventlog.Event, path string, now time.Time) (due bool) {
	b := bt.cur
	if len(b.Events) == 0 {
		b.First = now
	}
	if path != "" && b.Paths == nil {
		b.Paths = make([]string, len(b.Events), cap(b.Events))
	}
	b.Events = append(b.Events, *ev)
	if b.Paths != nil {
		b.Paths = append(b.Paths, path)
	}
	return len(b.Events) >= bt.max || now.Sub(b.First) >= bt.delay
}

// Len is the number of events in the current batch.
func (bt *Batcher) Len() int { return len(bt.cur.Events) }

// SetCheckpoint queues a storage write for when the current batch is
// accepted; a nil value deletes the key.
func (bt *Batcher) SetCheckpoint(key string, value []byte) {
	op := storage.SetOperation(key, value)
	if value == nil {
		op = storage.DeleteOperation(key)
	}
	bt.cur.Commits = append(bt.cur.Commits, op)
}

// Flush hands the current batch on, unless it is empty, and starts a new
// one. It returns an error only when ctx ended; the batch is then dropped
// with its checkpoint writes, so its events are read again after a restart.
func (bt *Batcher) Flush(ctx context.Context) error {
	if bt.cur.Empty() {
		return nil
	}
	b := bt.cur
	bt.cur = bt.fresh()
	return bt.send(ctx, b)
}

// Discard drops the current batch and its checkpoint writes: for events
// that will be read again from the last stored checkpoint.
func (bt *Batcher) Discard() {
	if !bt.cur.Empty() {
		old := bt.cur
		bt.cur = bt.fresh()
		old.Release()
	}
}
