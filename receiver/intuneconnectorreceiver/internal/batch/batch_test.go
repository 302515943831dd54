package batch

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

type sent struct{ batches []*Batch }

func (s *sent) send(_ context.Context, b *Batch) error {
	s.batches = append(s.batches, b)
	return nil
}

func ev(id uint64) *wineventlog.Event { return &wineventlog.Event{RecordID: id} }

func TestBatcher(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name string
		// run adds events and flushes; it returns what Add said last.
		run         func(bt *Batcher) bool
		wantDue     bool
		wantBatches []int // events per batch sent
		wantCommits []int // checkpoint writes per batch sent
		wantPaths   [][]string
	}{
		{name: "due when full", run: func(bt *Batcher) bool {
			bt.Add(ev(1), "a", t0)
			bt.Add(ev(2), "a", t0)
			return bt.Add(ev(3), "a", t0)
		}, wantDue: true},
		{name: "due when old", run: func(bt *Batcher) bool {
			bt.Add(ev(1), "a", t0)
			return bt.Add(ev(2), "a", t0.Add(time.Second))
		}, wantDue: true},
		{name: "not due", run: func(bt *Batcher) bool {
			return bt.Add(ev(1), "", t0)
		}},
		{name: "flush sends events with their checkpoints and starts afresh", run: func(bt *Batcher) bool {
			bt.Add(ev(1), "a", t0)
			bt.SetCheckpoint("file/1", []byte("x"))
			_ = bt.Flush(context.Background())
			bt.Add(ev(2), "", t0)
			bt.SetCheckpoint("file/2", nil)
			_ = bt.Flush(context.Background())
			return false
		}, wantBatches: []int{1, 1}, wantCommits: []int{1, 1}, wantPaths: [][]string{{"a"}, nil}},
		{name: "paths line up with events when a file follows channel events", run: func(bt *Batcher) bool {
			bt.Add(ev(1), "", t0)
			bt.Add(ev(2), "b", t0)
			_ = bt.Flush(context.Background())
			return false
		}, wantBatches: []int{2}, wantCommits: []int{0}, wantPaths: [][]string{{"", "b"}}},
		{name: "a batch of checkpoint writes alone is sent", run: func(bt *Batcher) bool {
			bt.SetCheckpoint("file/1", nil)
			_ = bt.Flush(context.Background())
			return false
		}, wantBatches: []int{0}, wantCommits: []int{1}, wantPaths: [][]string{nil}},
		{name: "an empty batch is not sent", run: func(bt *Batcher) bool {
			_ = bt.Flush(context.Background())
			return false
		}},
		{name: "discarded events are not sent", run: func(bt *Batcher) bool {
			bt.Add(ev(1), "", t0)
			bt.SetCheckpoint("channel/x", []byte("bm"))
			bt.Discard()
			_ = bt.Flush(context.Background())
			return false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sent
			bt := NewBatcher("file", 3, 500*time.Millisecond, s.send)
			if due := tt.run(bt); due != tt.wantDue {
				t.Errorf("due = %v, want %v", due, tt.wantDue)
			}
			if len(s.batches) != len(tt.wantBatches) {
				t.Fatalf("%d batches sent, want %d", len(s.batches), len(tt.wantBatches))
			}
			for i, b := range s.batches {
				if b.Len() != tt.wantBatches[i] || len(b.Commits) != tt.wantCommits[i] || b.Source != "file" {
					t.Errorf("batch %d: %d events, %d commits, source %q", i, b.Len(), len(b.Commits), b.Source)
				}
				if len(b.Paths) != len(tt.wantPaths[i]) {
					t.Errorf("batch %d: paths %q, want %q", i, b.Paths, tt.wantPaths[i])
				}
				for k := range b.Paths {
					if b.Paths[k] != tt.wantPaths[i][k] {
						t.Errorf("batch %d: paths %q, want %q", i, b.Paths, tt.wantPaths[i])
					}
				}
			}
		})
	}
}

func TestSetCheckpointOperations(t *testing.T) {
	var s sent
	bt := NewBatcher("channel", 10, time.Second, s.send)
	bt.SetCheckpoint("k1", []byte("v"))
	bt.SetCheckpoint("k2", nil)
	if err := bt.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ops := s.batches[0].Commits
	if ops[0].Type != storage.Set || ops[0].Key != "k1" || string(ops[0].Value) != "v" || ops[1].Type != storage.Delete || ops[1].Key != "k2" {
		t.Errorf("operations %+v %+v", *ops[0], *ops[1])
	}
}

// A released batch's event slice is reused, emptied, by a later batch, and
// a batch still being delivered is never handed out again.
func TestReleaseReusesEvents(t *testing.T) {
	var s sent
	t0 := time.Unix(1000, 0)
	bt := NewBatcher("file", 2, time.Minute, s.send)
	bt.Add(ev(1), "a", t0)
	bt.Add(ev(2), "a", t0)
	if err := bt.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := s.batches[0]
	firstArray := &first.Events[:1][0]
	// Not released yet: the next batch must not share its events.
	bt.Add(ev(3), "a", t0)
	if &bt.cur.Events[0] == firstArray {
		t.Fatal("a batch being delivered was reused")
	}
	if err := bt.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	first.Release()
	if first.Events != nil || first.Paths != nil {
		t.Fatal("Release left the events in the batch")
	}
	// The batch after the one being filled when it was released gets it.
	bt.Add(ev(4), "b", t0)
	if err := bt.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if &bt.cur.Events[:1][0] != firstArray {
		t.Fatal("the released slice was not reused")
	}
	if got := bt.cur.Events[:2]; got[0].RecordID != 0 || got[1].RecordID != 0 {
		t.Errorf("reused slice still holds records %d, %d", got[0].RecordID, got[1].RecordID)
	}
	bt.Add(ev(5), "b", t0)
	if s.batches[1].Events[0].RecordID != 3 || s.batches[2].Events[0].RecordID != 4 || bt.cur.Events[0].RecordID != 5 {
		t.Error("events of different batches got mixed")
	}
}
