package intuneconnectorreceiver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/metadata"
)

// computerKey names a channel record by the computer that wrote it and its
// record number, which a cleared channel hands out again.
func computerKey(lr plog.LogRecord) string {
	var computer, id string
	if v, ok := lr.Attributes().Get(mapping.AttrWinlogComputerName); ok {
		computer = v.AsString()
	}
	if v, ok := lr.Attributes().Get(mapping.AttrWinlogRecordID); ok {
		id = v.AsString()
	}
	return computer + "#" + id
}

// wantComputerKeys lists the keys of events numbered first.. by computer.
func wantComputerKeys(m map[string]bool, computer string, first uint64, n int) map[string]bool {
	if m == nil {
		m = map[string]bool{}
	}
	for k := range n {
		m[computer+"#"+strconv.FormatUint(first+uint64(k), 10)] = true
	}
	return m
}

// channelRun is one recovery case in progress.
type channelRun struct {
	t   *testing.T
	fc  *fakeChannel
	got *recorded
}

// Each recovery the Windows binding can call for, through the channel
// interface: every event arrives once, the log says what happened as
// often as it should, and the subscription starts where it must.
func TestChannelRecovery(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares the channel and configuration before the start.
		setup func(t *testing.T, fc *fakeChannel, cfg *Config, h *testutil.Host)
		// run acts once the receiver runs and returns the records wanted.
		run func(c *channelRun) map[string]bool
		// logs are message snippets with the number of lines wanted.
		logs map[string]int
	}{
		{
			name: "RPC_S_INVALID_BOUND reads fewer events per call and goes on",
			setup: func(_ *testing.T, fc *fakeChannel, cfg *Config, _ *testutil.Host) {
				fc.add(0, 300)
				fc.maxRead = 60
				cfg.MaxBatchSize = 240
			},
			run: func(c *channelRun) map[string]bool {
				waitFor(c.t, "all events", func() bool { return c.got.count() >= 300 })
				return wantComputerKeys(nil, eventComputer, 10000, 300)
			},
			logs: map[string]int{"reading fewer per call": 2, "reading the channel failed": 0},
		},
		{
			name: "a stale query result subscribes again after the last accepted bookmark",
			setup: func(_ *testing.T, fc *fakeChannel, _ *Config, _ *testutil.Host) {
				fc.add(0, 20)
			},
			run: func(c *channelRun) map[string]bool {
				waitFor(c.t, "first events", func() bool { return c.got.count() >= 20 })
				c.fc.failNext(fmt.Errorf("%w: EvtNext: The query result is stale", errQueryStale))
				c.fc.add(20, 10)
				waitFor(c.t, "events after the stale result", func() bool { return c.got.count() >= 30 })
				if last := c.fc.lastOpen(); last != c.fc.bookmarkAt(20) {
					c.t.Errorf("subscribed again with %q, want the bookmark after event 20", last)
				}
				return wantComputerKeys(nil, eventComputer, 10000, 30)
			},
			logs: map[string]int{"cleared or wrapped around while being read": 1, "reading the channel failed": 0},
		},
		{
			name: "the channel cleared while being read is read again from its oldest event",
			setup: func(_ *testing.T, fc *fakeChannel, _ *Config, _ *testutil.Host) {
				fc.add(0, 30)
			},
			run: func(c *channelRun) map[string]bool {
				waitFor(c.t, "first events", func() bool { return c.got.count() >= 30 })
				c.fc.clear()
				c.fc.failNext(fmt.Errorf("%w: EvtNext: The query result is stale", errQueryStale))
				c.fc.addNumbered(0, 5, 1, "NDES02")
				opens := c.fc.openCount()
				waitFor(c.t, "a new subscription", func() bool { return c.fc.openCount() > opens })
				// Windows starts after the event closest to the old bookmark,
				// the last of the new ones: the next event tells the reset.
				c.fc.addNumbered(5, 3, 6, "NDES02")
				waitFor(c.t, "the cleared channel's events", func() bool { return c.got.count() >= 38 })
				if last := c.fc.lastOpen(); last != "" {
					c.t.Errorf("subscribed with %q after the reset, want the oldest event", last)
				}
				return wantComputerKeys(wantComputerKeys(nil, eventComputer, 10000, 30), "NDES02", 1, 8)
			},
			logs: map[string]int{"cleared or recreated": 1},
		},
		{
			name: "a channel recreated while read is waited for and read from its oldest event",
			setup: func(_ *testing.T, fc *fakeChannel, _ *Config, _ *testutil.Host) {
				fc.add(0, 30)
			},
			run: func(c *channelRun) map[string]bool {
				waitFor(c.t, "first events", func() bool { return c.got.count() >= 30 })
				c.fc.mu.Lock()
				c.fc.missing = 3
				c.fc.mu.Unlock()
				c.fc.failNext(fmt.Errorf("%w: EvtNext: The specified channel could not be found", errChannelNotFound))
				c.fc.clear()
				c.fc.addNumbered(0, 4, 1, "NDES02")
				waitFor(c.t, "the channel to be found again", func() bool {
					c.fc.mu.Lock()
					defer c.fc.mu.Unlock()
					return c.fc.missing == 0 && c.fc.gen >= 2
				})
				c.fc.addNumbered(4, 1, 5, "NDES02")
				waitFor(c.t, "the new channel's events", func() bool { return c.got.count() >= 35 })
				return wantComputerKeys(wantComputerKeys(nil, eventComputer, 10000, 30), "NDES02", 1, 5)
			},
			logs: map[string]int{"channel not found": 1, "channel found": 1, "cleared or recreated": 1},
		},
		{
			name: "an Event Log service restart is waited for and reading resumes after the last accepted bookmark",
			setup: func(_ *testing.T, fc *fakeChannel, _ *Config, _ *testutil.Host) {
				fc.add(0, 25)
			},
			run: func(c *channelRun) map[string]bool {
				waitFor(c.t, "first events", func() bool { return c.got.count() >= 25 })
				down := errors.New("EvtSubscribe: The RPC server is unavailable")
				c.fc.failOpen(down, down, down)
				c.fc.failNext(errors.New("EvtNext: The handle is invalid"))
				c.fc.add(25, 10)
				waitFor(c.t, "events after the restart", func() bool { return c.got.count() >= 35 })
				if last := c.fc.lastOpen(); last != c.fc.bookmarkAt(25) {
					c.t.Errorf("subscribed again with %q, want the bookmark after event 25", last)
				}
				return wantComputerKeys(nil, eventComputer, 10000, 35)
			},
			logs: map[string]int{"reading the channel failed": 1, "cannot subscribe to the channel": 1},
		},
		{
			name: "a stored bookmark that no longer parses starts at start_at beginning, said once",
			setup: func(t *testing.T, fc *fakeChannel, _ *Config, h *testutil.Host) {
				fc.add(0, 10)
				storeBookmark(t, h, "<BookmarkList><Bookmark RecordId=")
				// Subscribing again before any batch was accepted must not
				// offer the bad bookmark again.
				fc.failNext(errors.New("EvtNext: The handle is invalid"))
			},
			run: func(c *channelRun) map[string]bool {
				waitFor(c.t, "all events", func() bool { return c.got.count() >= 10 })
				return wantComputerKeys(nil, eventComputer, 10000, 10)
			},
			logs: map[string]int{"the stored bookmark is not valid; reading the channel from start_at": 1},
		},
		{
			name: "a stored bookmark that no longer parses starts at start_at end",
			setup: func(t *testing.T, fc *fakeChannel, cfg *Config, h *testutil.Host) {
				fc.add(0, 10)
				cfg.StartAt = StartAtEnd
				storeBookmark(t, h, "not a bookmark")
			},
			run: func(c *channelRun) map[string]bool {
				waitFor(c.t, "a subscription", func() bool { return c.fc.openCount() >= 2 })
				c.fc.add(10, 3)
				waitFor(c.t, "the new events", func() bool { return c.got.count() >= 3 })
				return wantComputerKeys(nil, eventComputer, 10010, 3)
			},
			logs: map[string]int{"the stored bookmark is not valid": 1},
		},
		{
			name: "a channel missing at start is read once it appears",
			setup: func(_ *testing.T, fc *fakeChannel, _ *Config, _ *testutil.Host) {
				fc.missing = 4
				fc.add(0, 7)
			},
			run: func(c *channelRun) map[string]bool {
				waitFor(c.t, "the events", func() bool { return c.got.count() >= 7 })
				return wantComputerKeys(nil, eventComputer, 10000, 7)
			},
			logs: map[string]int{"channel not found": 1, "channel found": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fakeChannel{}
			cfg := channelConfig()
			cfg.Storage = &storageID
			h, _ := startStorage(t, t.TempDir())
			tt.setup(t, fc, cfg, &h)
			core, logs := observer.New(zap.InfoLevel)
			logger := zap.New(core)
			got := &recorded{key: computerKey}
			s := startReceiver(t, cfg, got, h, func(r *intuneReceiver) {
				r.openChannel = fc.open
				r.logger = logger
				r.warn = newLimitedLogger(logger, time.Hour)
			})
			want := tt.run(&channelRun{t: t, fc: fc, got: got})
			s.settled(t)
			checkExactlyOnce(t, got.snapshot(), want)
			for snippet, n := range tt.logs {
				if got := logs.FilterMessageSnippet(snippet).Len(); got != n {
					t.Errorf("%q logged %d times, want %d", snippet, got, n)
				}
			}
		})
	}
}

// eventComputer is the computer of generated events.
const eventComputer = eventgen.Computer

// storeBookmark writes a channel bookmark into the storage extension of h,
// as an earlier run would have.
func storeBookmark(t *testing.T, h *testutil.Host, value string) {
	t.Helper()
	ext := h.Extensions[storageID].(storage.Extension)
	c, err := ext.GetClient(context.Background(), component.KindReceiver, component.NewID(metadata.Type), "")
	if err != nil {
		t.Fatal(err)
	}
	r := &intuneReceiver{cfg: &Config{}}
	if err := c.Set(context.Background(), r.channelKey(testChannel), []byte(value)); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
