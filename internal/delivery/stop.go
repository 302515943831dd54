package delivery

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/exporter"
)

// Stopping is closed when the exporter starts shutting down, before
// exporterhelper drains its queue, so pushes stop waiting (for
// acknowledgements, or in a short resend pause) and hand their records
// back: exporterhelper then keeps them in a persistent queue for the next
// start instead of the shutdown waiting on them.
type Stopping struct {
	once sync.Once
	ch   chan struct{}
}

// NewStopping returns an open Stopping.
func NewStopping() *Stopping { return &Stopping{ch: make(chan struct{})} }

// C is closed once Stop was called.
func (s *Stopping) C() <-chan struct{} { return s.ch }

// Stop closes C; it may be called more than once.
func (s *Stopping) Stop() { s.once.Do(func() { close(s.ch) }) }

// Stopped reports whether Stop was called.
func (s *Stopping) Stopped() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

// WrapLogs returns logs whose Shutdown first calls s.Stop, and which may be
// shut down more than once (exporterhelper's may not).
func WrapLogs(logs exporter.Logs, s *Stopping) exporter.Logs {
	return &stoppingLogs{Logs: logs, stop: s}
}

type stoppingLogs struct {
	exporter.Logs
	stop *Stopping
	once sync.Once
	err  error
}

func (l *stoppingLogs) Shutdown(ctx context.Context) error {
	l.once.Do(func() {
		l.stop.Stop()
		l.err = l.Logs.Shutdown(ctx)
	})
	return l.err
}
