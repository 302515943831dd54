package intuneconnectorreceiver

import (
	"context"
	"encoding/xml"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/batch"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Errors of a channel binding that the reader recovers from in its own way.
var (
	// errChannelNotFound: the channel does not exist (yet), because the
	// connector is not installed, or not on that server, or was removed.
	errChannelNotFound = errors.New("the event log channel does not exist")
	// errBadBookmark: Windows cannot parse the stored bookmark.
	errBadBookmark = errors.New("the stored bookmark is not valid")
	// errInvalidBound: RPC_S_INVALID_BOUND (1734) from EvtNext, which a
	// remote read of many large events can meet: read fewer per call.
	errInvalidBound = errors.New("too many events asked for in one call (RPC_S_INVALID_BOUND)")
	// errQueryStale: ERROR_EVT_QUERY_RESULT_STALE, the channel was cleared
	// or wrapped around under the subscription: subscribe again.
	errQueryStale = errors.New("the query result is stale (the channel was cleared or wrapped around)")
	// errChannelReset is the reader's own: record numbers went back, so the
	// channel was cleared or recreated since the bookmark.
	errChannelReset = errors.New("the channel's record numbers started again")
)

// channelEvent is one event a subscription handed out: its XML as Windows
// renders it, or why it could not be rendered.
type channelEvent struct {
	XML []byte
	Err error
}

// channelSubscription is a live subscription to one event log channel. The
// Windows binding implements it over contrib stanza's Subscription and
// Bookmark; tests use a fake. It is used by one goroutine.
type channelSubscription interface {
	// Next returns up to max events available now, without waiting. Its
	// errors wrap errInvalidBound, errQueryStale or errChannelNotFound
	// where they apply.
	Next(max int) ([]channelEvent, error)
	// Wait returns when more events may be available, after timeout, or
	// when ctx ends.
	Wait(ctx context.Context, timeout time.Duration)
	// Bookmark returns the bookmark XML of the last event Next returned,
	// or the one the subscription was opened with, or "".
	Bookmark() (string, error)
	Close() error
}

// channelOpener subscribes to a channel after the bookmark (XML, may be
// empty) or, without one, at the oldest event or only future ones. Its
// errors wrap errChannelNotFound or errBadBookmark where they apply.
type channelOpener func(channel, bookmark string, startAtEnd bool) (channelSubscription, error)

const channelKeyPrefix = "channel/"

func (r *intuneReceiver) channelKey(channel string) string {
	server := strings.ToLower(r.cfg.Remote.Server)
	if server == "" {
		server = "localhost"
	}
	return channelKeyPrefix + server + "/" + channel
}

const (
	// channelIdleWait bounds one wait for events, so that a subscription
	// whose signal is lost is still polled.
	channelIdleWait = time.Second
	// channelReadMax is the most events asked of Windows in one call.
	channelReadMax = 256
)

// channelReader reads one channel: it subscribes after the last accepted
// bookmark, delivers batches, stores a batch's bookmark only once the
// pipeline accepted it, and recovers from what happens to channels.
type channelReader struct {
	r       *intuneReceiver
	channel string
	key     string
	log     *zap.Logger
	batcher *batch.Batcher

	// accepted is the bookmark of the last batch the pipeline accepted
	// (or the stored one), where a new subscription starts.
	accepted string
	// last is the record number of the last event read, 0 when unknown:
	// a smaller one means the channel was cleared or recreated.
	last uint64
	// readSize is how many events are asked for per call; halved on
	// RPC_S_INVALID_BOUND.
	readSize      int
	missingLogged bool

	// idle counts reads that found nothing with nothing pending: tests
	// wait on it to know that nothing more comes.
	idle atomic.Int64
}

func newChannelReader(r *intuneReceiver, channel string) *channelReader {
	c := &channelReader{
		r: r, channel: channel, key: r.channelKey(channel),
		log:      r.logger.With(zap.String("channel", channel), zap.String("server", r.cfg.Remote.Server)),
		readSize: min(r.cfg.MaxBatchSize, channelReadMax),
	}
	c.batcher = batch.NewBatcher(sourceChannel, r.cfg.MaxBatchSize, r.cfg.MaxBatchDelay, r.deliver)
	return c
}

// run reads the channel until ctx ends.
func (c *channelReader) run(ctx context.Context) {
	if v, err := c.r.client.Get(ctx, c.key); err != nil {
		if ctx.Err() != nil {
			return
		}
		c.r.warn.Warn("storage-get", "cannot read the channel bookmark from storage; reading from start_at", zap.Error(err))
	} else {
		c.accepted = string(v)
	}
	oldest := false
	for ctx.Err() == nil {
		sub := c.subscribe(oldest)
		if sub == nil {
			if !sleepCtx(ctx, c.r.cfg.ChannelRetryInterval) {
				return
			}
			continue
		}
		err := c.read(ctx, sub)
		if cerr := sub.Close(); cerr != nil {
			c.log.Debug("closing subscription", zap.Error(cerr))
		}
		if err == nil || ctx.Err() != nil {
			return
		}
		var pause bool
		pause, oldest = c.recover(err)
		if pause && !sleepCtx(ctx, c.r.cfg.ChannelRetryInterval) {
			return
		}
	}
}

// subscribe opens a subscription after the last accepted bookmark or, at
// oldest, at the channel's oldest event. It returns nil, after saying why,
// when the channel cannot be subscribed to now.
func (c *channelReader) subscribe(oldest bool) channelSubscription {
	bookmark, startAtEnd := c.accepted, c.accepted == "" && c.r.cfg.StartAt == StartAtEnd
	if oldest {
		bookmark, startAtEnd = "", false
	}
	sub, err := c.r.openChannel(c.channel, bookmark, startAtEnd)
	if errors.Is(err, errBadBookmark) && bookmark != "" {
		// Said once: the bookmark is not offered again, and the next
		// accepted batch replaces it in storage.
		c.log.Warn("the stored bookmark is not valid; reading the channel from start_at",
			zap.String("start_at", string(c.r.cfg.StartAt)), zap.Error(err))
		c.accepted, bookmark = "", ""
		sub, err = c.r.openChannel(c.channel, "", c.r.cfg.StartAt == StartAtEnd)
	}
	if err != nil {
		if !errors.Is(err, errChannelNotFound) {
			c.r.warn.Warn("subscribe/"+c.channel, "cannot subscribe to the channel; trying again", zap.String("channel", c.channel),
				zap.Duration("retry_interval", c.r.cfg.ChannelRetryInterval), zap.Error(err))
		} else if !c.missingLogged {
			c.log.Warn("channel not found (is the Intune Certificate Connector installed?); it is tried again and read once it appears",
				zap.Duration("retry_interval", c.r.cfg.ChannelRetryInterval), zap.Error(err))
			c.missingLogged = true
		}
		return nil
	}
	if c.missingLogged {
		c.log.Info("channel found; reading it")
		c.missingLogged = false
	}
	c.last = bookmarkRecordID(bookmark)
	return sub
}

// recover says what to do after a subscription failed: pause before the
// next one, and whether it starts at the channel's oldest event.
func (c *channelReader) recover(err error) (pause, oldest bool) {
	switch {
	case errors.Is(err, errInvalidBound) && c.readSize > 1:
		c.readSize = max(c.readSize/2, 1)
		c.log.Info("Windows refused to return that many events at once; reading fewer per call",
			zap.Int("events_per_call", c.readSize), zap.Error(err))
		return false, false
	case errors.Is(err, errQueryStale):
		c.r.warn.Warn("stale/"+c.channel, "the channel was cleared or wrapped around while being read; subscribing again after the last delivered event (if it wraps, events are overwritten before they are read: enlarge the channel's maximum size)",
			zap.String("channel", c.channel), zap.Error(err))
		return false, false
	case errors.Is(err, errChannelReset):
		c.log.Warn("the channel was cleared or recreated (its record numbers started again); reading it from its oldest event", zap.Error(err))
		return false, true
	case errors.Is(err, errChannelNotFound):
		// Removed (the connector uninstalled or reinstalled): wait for it
		// as at start.
		return false, false
	}
	c.r.warn.Warn("read/"+c.channel, "reading the channel failed; subscribing again after the last delivered event",
		zap.String("channel", c.channel), zap.Error(err))
	return true, false
}

// read runs one subscription. It returns nil when ctx ended, else the
// error that ended the subscription, after delivering what was read
// before it.
func (c *channelReader) read(ctx context.Context, sub channelSubscription) error {
	// pending counts events taken from the subscription since the last
	// flush, unparsable ones included: the bookmark must move past them too.
	pending := 0
	var first time.Time
	for ctx.Err() == nil {
		evs, err := sub.Next(min(c.readSize, c.r.cfg.MaxBatchSize-pending))
		now := time.Now()
		if pending == 0 && len(evs) > 0 {
			first = now
		}
		pending += len(evs)
		if rerr := c.take(ctx, evs, now); rerr != nil {
			// What came before the reset is delivered without moving the
			// bookmark: it pointed into the old numbering.
			if ferr := c.flush(ctx, nil); ferr != nil {
				return ignoreDone(ctx, ferr)
			}
			return rerr
		}
		var flushErr error
		switch {
		case err != nil:
			if ferr := c.flush(ctx, sub); ferr != nil && ctx.Err() != nil {
				return nil
			}
			return err
		case pending >= c.r.cfg.MaxBatchSize:
			flushErr, pending = c.flush(ctx, sub), 0
		case len(evs) == 0 && pending > 0:
			if wait := c.r.cfg.MaxBatchDelay - now.Sub(first); wait > 0 {
				sub.Wait(ctx, wait)
				continue
			}
			flushErr, pending = c.flush(ctx, sub), 0
		case len(evs) == 0:
			c.idle.Add(1)
			sub.Wait(ctx, channelIdleWait)
		case now.Sub(first) >= c.r.cfg.MaxBatchDelay:
			flushErr, pending = c.flush(ctx, sub), 0
		}
		if flushErr != nil {
			return ignoreDone(ctx, flushErr)
		}
	}
	return nil
}

// take parses events into the batch. It returns errChannelReset, leaving
// the reset event and those after it out, when record numbers go back.
func (c *channelReader) take(ctx context.Context, evs []channelEvent, now time.Time) error {
	for _, x := range evs {
		err := x.Err
		var ev wineventlog.Event
		if err == nil {
			ev, err = wineventlog.ParseEventXML(x.XML)
		}
		if err != nil {
			// The event is passed over; the bookmark still moves past it
			// with the batch.
			c.r.tel.decodeError(ctx, string(wineventlog.FormatXML))
			c.r.warn.Warn("decode/"+c.channel, "cannot parse an event rendered by Windows; it is passed over",
				zap.String("channel", c.channel), zap.Error(err))
			continue
		}
		if ev.RecordID != 0 && ev.RecordID < c.last {
			c.last = 0
			return errChannelReset
		}
		if ev.RecordID != 0 {
			c.last = ev.RecordID
		}
		c.batcher.Add(&ev, "", now)
	}
	return nil
}

// flush delivers the batch with the bookmark of sub's last event, or with
// none when sub is nil. It returns an error only when ctx ended or the
// bookmark cannot be had; the events are then dropped, to be read again
// after the last accepted bookmark.
func (c *channelReader) flush(ctx context.Context, sub channelSubscription) error {
	bm := ""
	if sub != nil {
		var err error
		if bm, err = sub.Bookmark(); err != nil {
			c.batcher.Discard()
			return err
		}
		if bm != "" && bm != c.accepted {
			c.batcher.SetCheckpoint(c.key, []byte(bm))
		}
	}
	if err := c.batcher.Flush(ctx); err != nil {
		return err
	}
	if bm != "" {
		c.accepted = bm
	}
	return nil
}

// bookmarkRecordID reads the record number from a bookmark's XML
// (<BookmarkList><Bookmark Channel='...' RecordId='N' .../></BookmarkList>),
// or returns 0.
func bookmarkRecordID(bookmark string) uint64 {
	if bookmark == "" {
		return 0
	}
	var list struct {
		Bookmarks []struct {
			RecordID uint64 `xml:"RecordId,attr"`
		} `xml:"Bookmark"`
	}
	if err := xml.Unmarshal([]byte(bookmark), &list); err != nil || len(list.Bookmarks) != 1 {
		return 0
	}
	return list.Bookmarks[0].RecordID
}

func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// sleepCtx waits d and reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
