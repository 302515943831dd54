package intuneconnectorreceiver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

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
	waitFor(t, "refused calls", func() bool { return got.calls() >= 3 })
	if bm := storedBookmark(t, s.r); bm != "" {
		t.Errorf("bookmark %q stored while the pipeline refused", bm)
	}
	close(release)
	waitFor(t, "all events", func() bool { return got.count() >= 250 })
	waitFor(t, "bookmark at the end", func() bool { return storedBookmark(t, s.r) == fc.bookmarkAt(250) })
	s.stop(t)

	fc.add(250, 50)
	s = startReceiver(t, cfg, got, store, func(r *intuneReceiver) { r.openChannel = fc.open })
	waitFor(t, "events after the restart", func() bool { return got.count() >= 300 })
	s.settled(t)
	s.stop(t)
	stopStorage()
	checkExactlyOnce(t, got.snapshot(), wantKeys(nil, "", 0, 300))
	if last := fc.lastOpen(); last != fc.bookmarkAt(250) {
		t.Errorf("restart subscribed with bookmark %q, want the one after event 250", last)
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
	waitFor(t, "bookmark", func() bool { return storedBookmark(t, s.r) == fc.bookmarkAt(30) })

	fc.failNext(errors.New("the RPC server is unavailable"))
	fc.add(30, 10)
	waitFor(t, "events after the broken subscription", func() bool { return got.count() >= 40 })
	s.settled(t)
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
			fc.addRaw("<Event><System><EventID>12")
			fc.add(4, 5)
			got := &recorded{}
			cfg := channelConfig()
			cfg.StartAt = tt.startAt
			s := startReceiver(t, cfg, got, nopHost(), func(r *intuneReceiver) { r.openChannel = fc.open })
			waitFor(t, "subscription", func() bool { return fc.openCount() > 0 })
			if tt.startAt == StartAtEnd {
				fc.add(100, 5)
			}
			waitFor(t, "events", func() bool { return got.count() >= tt.want })
			s.settled(t)
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
			if bm := storedBookmark(t, s.r); bm != fc.bookmarkAt(total) {
				t.Errorf("bookmark %q, want the one after event %d", bm, total)
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

func TestBookmarkRecordID(t *testing.T) {
	tests := []struct {
		name, bookmark string
		want           uint64
	}{
		{name: "as Windows renders it", bookmark: bookmarkOf(4711), want: 4711},
		{name: "double quotes", bookmark: `<BookmarkList><Bookmark Channel="Application" RecordId="12" IsCurrent="true"/></BookmarkList>`, want: 12},
		{name: "empty", bookmark: "", want: 0},
		{name: "not XML", bookmark: "250", want: 0},
		{name: "two channels", bookmark: `<BookmarkList><Bookmark Channel="A" RecordId="1"/><Bookmark Channel="B" RecordId="2"/></BookmarkList>`, want: 0},
		{name: "no number", bookmark: `<BookmarkList><Bookmark Channel="A" RecordId="x"/></BookmarkList>`, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bookmarkRecordID(tt.bookmark); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// A bookmark's record number is read from whatever storage holds, without
// a panic; one Windows renders comes back whole.
func FuzzBookmarkRecordID(f *testing.F) {
	f.Add(bookmarkOf(1))
	f.Add("<BookmarkList><Bookmark RecordId='18446744073709551615'/></BookmarkList>")
	f.Add("<BookmarkList>")
	f.Fuzz(func(t *testing.T, s string) {
		id := bookmarkRecordID(s)
		if id != 0 && bookmarkRecordID(bookmarkOf(id)) != id {
			t.Fatalf("record number %d does not survive a round trip", id)
		}
	})
}
