package intuneconnectorreceiver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// fakeChannel stands in for a Windows channel: the binding's contract
// (events as XML, a bookmark for the last event handed out) without
// Windows. A bookmark is the count of events handed out.
type fakeChannel struct {
	mu        sync.Mutex
	events    [][]byte
	bookmarks []string // what each open was given
	missing   int      // opens that fail as if the channel did not exist
	failNext  int      // Next calls that fail as if the subscription broke
}

func (c *fakeChannel) add(from, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := from; i < from+n; i++ {
		ev := genEvent(i)
		ev.Channel = "Microsoft-Intune-CertificateConnectors/Admin"
		c.events = append(c.events, wineventlog.AppendEventXML(nil, &ev, wineventlog.XMLLine))
	}
}

func (c *fakeChannel) open(channel, bookmark string, startAtEnd bool) (channelSubscription, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bookmarks = append(c.bookmarks, bookmark)
	if c.missing > 0 {
		c.missing--
		return nil, fmt.Errorf("%w: %s", errChannelNotFound, channel)
	}
	pos := 0
	switch {
	case bookmark != "":
		n, err := strconv.Atoi(bookmark)
		if err != nil {
			return nil, err
		}
		pos = n
	case startAtEnd:
		pos = len(c.events)
	}
	return &fakeSub{c: c, pos: pos}, nil
}

type fakeSub struct {
	c   *fakeChannel
	pos int
	any bool
}

func (s *fakeSub) Next(max int) ([][]byte, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.c.failNext > 0 {
		s.c.failNext--
		return nil, errors.New("the RPC server is unavailable")
	}
	n := min(max, len(s.c.events)-s.pos)
	out := s.c.events[s.pos : s.pos+n]
	s.pos += n
	if n > 0 {
		s.any = true
	}
	return out, nil
}

func (s *fakeSub) Wait(ctx context.Context, timeout time.Duration) {
	t := time.NewTimer(min(timeout, 2*time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (s *fakeSub) Bookmark() (string, error) {
	if !s.any {
		return "", nil
	}
	return strconv.Itoa(s.pos), nil
}

func (s *fakeSub) Close() error { return nil }

const testChannel = "Microsoft-Intune-CertificateConnectors/Admin"

func channelConfig() *Config {
	cfg := testConfig("")
	cfg.Include = nil
	cfg.Channels = []string{testChannel}
	cfg.ChannelRetryInterval = 5 * time.Millisecond
	return cfg
}

func storedBookmark(t *testing.T, r *intuneReceiver) string {
	t.Helper()
	r.mu.Lock()
	c := r.client
	r.mu.Unlock()
	v, err := c.Get(context.Background(), r.channelKey(testChannel))
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

// The bookmark moves only after the pipeline accepted a batch; a restart
// with a real storage extension resumes after it: nothing lost or repeated.
func TestChannelBookmarkAfterAccept(t *testing.T) {
	fc := &fakeChannel{}
	fc.add(0, 250)
	release := make(chan struct{})
	got := &recorded{fail: func(call int) error {
		if call <= 3 {
			if call == 3 {
				<-release
			}
			return errors.New("exporter queue is full")
		}
		return nil
	}}
	cfg := channelConfig()
	cfg.Storage = &storageID
	cfg.MaxBatchSize = 100
	cfg.IncludeFileName = false
	h, stopStorage := startStorage(t, t.TempDir())
	store := h
	s := startReceiver(t, cfg, got, h, func(r *intuneReceiver) { r.openChannel = fc.open })
	waitFor(t, "refused calls", func() bool {
		got.mu.Lock()
		defer got.mu.Unlock()
		return got.call >= 3
	})
	if bm := storedBookmark(t, s.r); bm != "" {
		t.Errorf("bookmark %q stored while the pipeline refused", bm)
	}
	close(release)
	waitFor(t, "all events", func() bool { return got.count() >= 250 })
	waitFor(t, "bookmark at the end", func() bool { return storedBookmark(t, s.r) == "250" })
	s.stop(t)

	fc.add(250, 50)
	s = startReceiver(t, cfg, got, store, func(r *intuneReceiver) { r.openChannel = fc.open })
	waitFor(t, "events after the restart", func() bool { return got.count() >= 300 })
	settle()
	s.stop(t)
	stopStorage()
	checkExactlyOnce(t, got.snapshot(), wantKeys(nil, "", 0, 300))
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if last := fc.bookmarks[len(fc.bookmarks)-1]; last != "250" {
		t.Errorf("restart subscribed with bookmark %q, want 250", last)
	}
}

// A channel that does not exist yet is logged once and tried again until
// it appears; a broken subscription resumes after the last accepted batch.
func TestChannelMissingThenBroken(t *testing.T) {
	fc := &fakeChannel{missing: 5}
	fc.add(0, 30)
	core, logs := observer.New(zap.InfoLevel)
	logger := zap.New(core)
	got := &recorded{}
	cfg := channelConfig()
	cfg.IncludeFileName = false
	s := startReceiver(t, cfg, got, nopHost(), func(r *intuneReceiver) {
		r.openChannel = fc.open
		r.logger = logger
		r.warn = newLimitedLogger(logger, time.Hour)
	})
	waitFor(t, "events once the channel exists", func() bool { return got.count() >= 30 })
	waitFor(t, "bookmark", func() bool { return storedBookmark(t, s.r) == "30" })

	fc.mu.Lock()
	fc.failNext = 1
	fc.mu.Unlock()
	fc.add(30, 10)
	waitFor(t, "events after the broken subscription", func() bool { return got.count() >= 40 })
	settle()
	checkExactlyOnce(t, got.snapshot(), wantKeys(nil, "", 0, 40))

	if n := logs.FilterMessageSnippet("channel not found").Len(); n != 1 {
		t.Errorf("missing channel logged %d times, want once", n)
	}
	if n := logs.FilterMessageSnippet("channel found").Len(); n != 1 {
		t.Errorf("channel appearance logged %d times, want once", n)
	}
	if n := logs.FilterMessageSnippet("reading the channel failed").Len(); n != 1 {
		t.Errorf("broken subscription logged %d times, want once", n)
	}
}

// Unparsable event XML is counted and passed over; the bookmark moves past
// it with the batch, and start_at: end skips what the channel held.
func TestChannelDamageAndStartAtEnd(t *testing.T) {
	tests := []struct {
		name    string
		startAt StartAt
		want    int
	}{
		{name: "beginning", startAt: StartAtBeginning, want: 9},
		{name: "end", startAt: StartAtEnd, want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fakeChannel{}
			fc.add(0, 4)
			fc.events = append(fc.events, []byte("<Event><System><EventID>12"))
			fc.add(4, 5)
			got := &recorded{}
			cfg := channelConfig()
			cfg.StartAt = tt.startAt
			s := startReceiver(t, cfg, got, nopHost(), func(r *intuneReceiver) { r.openChannel = fc.open })
			waitFor(t, "subscription", func() bool {
				fc.mu.Lock()
				defer fc.mu.Unlock()
				return len(fc.bookmarks) > 0
			})
			if tt.startAt == StartAtEnd {
				time.Sleep(20 * time.Millisecond)
				fc.add(100, 5)
			}
			waitFor(t, "events", func() bool { return got.count() >= tt.want })
			settle()
			if got.count() != tt.want {
				t.Errorf("%d records, want %d", got.count(), tt.want)
			}
			wantErrs := int64(0)
			if tt.startAt == StartAtBeginning {
				wantErrs = 1
			}
			if n := s.counter(t, "otelcol_intune_receiver_decode_errors"); n != wantErrs {
				t.Errorf("decode_errors = %d, want %d", n, wantErrs)
			}
			fc.mu.Lock()
			total := len(fc.events)
			fc.mu.Unlock()
			if bm := storedBookmark(t, s.r); bm != strconv.Itoa(total) {
				t.Errorf("bookmark %q, want %d", bm, total)
			}
		})
	}
}

func TestChannelKey(t *testing.T) {
	tests := []struct {
		name, server, want string
	}{
		{name: "local", want: "channel/localhost/" + testChannel},
		{name: "remote", server: "NDES01.Contoso.Example", want: "channel/ndes01.contoso.example/" + testChannel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &intuneReceiver{cfg: &Config{Remote: RemoteConfig{Server: tt.server}}}
			if got := r.channelKey(testChannel); got != tt.want || !strings.HasPrefix(got, channelKeyPrefix) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
