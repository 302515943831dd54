// Package testutil holds the helpers that the component and end-to-end
// tests share: waiting on a condition instead of sleeping, and a real
// file_storage extension as the collector would start it.
package testutil

import (
	"go.opentelemetry.io/collector/component/componentstatus"
	"slices"

	"context"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"
)

// WaitFor polls cond until it holds and fails the test when timeout passes
// first. what names the condition in the failure.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Settled polls n every poll until its value has not changed for quiet
// and is at least min, and returns it: the way to show that nothing more
// arrives, without a fixed sleep that is too short on a loaded machine. It
// fails the test after timeout.
func Settled(t testing.TB, timeout, quiet, poll time.Duration, what string, min int, n func() int) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last, since := -1, time.Now()
	for {
		v := n()
		if v != last {
			last, since = v, time.Now()
		} else if v >= min && time.Since(since) >= quiet {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s to settle (at %d, want at least %d)", timeout, what, v, min)
		}
		time.Sleep(poll)
	}
}

// Host is a component.Host that offers the given extensions.
type Host struct {
	component.Host
	Extensions map[component.ID]component.Component
}

// GetExtensions returns the extensions the host was given.
func (h Host) GetExtensions() map[component.ID]component.Component { return h.Extensions }

// NewHost returns a host without extensions.
func NewHost() Host {
	return Host{Host: componenttest.NewNopHost(), Extensions: map[component.ID]component.Component{}}
}

// StartFileStorage starts a real file_storage extension with the given ID
// over dir, adds it to a new host and returns both. stop shuts it down; it
// is safe to call more than once and is also called at the end of the test.
func StartFileStorage(t testing.TB, id component.ID, dir string) (h Host, ext extension.Extension, stop func()) {
	t.Helper()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	set := extension.Settings{ID: id, TelemetrySettings: componenttest.NewNopTelemetrySettings(), BuildInfo: component.NewDefaultBuildInfo()}
	ext, err := f.Create(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := ext.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	h = NewHost()
	h.Extensions[id] = ext
	return h, ext, stop
}

// StatusHost is a Host that records the status events components report
// through componentstatus.
type StatusHost struct {
	Host
	mu     sync.Mutex
	events []componentstatus.Status
}

// Report records ev.
func (h *StatusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev.Status())
}

// Statuses returns the statuses reported so far, in order.
func (h *StatusHost) Statuses() []componentstatus.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}
