package intuneconnectorreceiver

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/batch"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// errChannelNotFound is wrapped by a channelOpener when the channel does
// not exist (yet): the connector is not installed, or not on that server.
var errChannelNotFound = errors.New("the event log channel does not exist")

// channelSubscription is a live subscription to one event log channel. The
// Windows binding implements it over EvtSubscribe; tests use a fake. It is
// used by one goroutine.
type channelSubscription interface {
	// Next returns up to max events available now, each as event XML,
	// without waiting.
	Next(max int) ([][]byte, error)
	// Wait returns when more events may be available, after timeout, or
	// when ctx ends.
	Wait(ctx context.Context, timeout time.Duration)
	// Bookmark returns the bookmark XML of the last event Next returned,
	// or "" when Next has returned nothing yet.
	Bookmark() (string, error)
	Close() error
}

// channelOpener subscribes to a channel after the bookmark (XML, may be
// empty) or, without one, at the oldest event or only future ones.
type channelOpener func(channel, bookmark string, startAtEnd bool) (channelSubscription, error)

const channelKeyPrefix = "channel/"

func (r *intuneReceiver) channelKey(channel string) string {
	server := strings.ToLower(r.cfg.Remote.Server)
	if server == "" {
		server = "localhost"
	}
	return channelKeyPrefix + server + "/" + channel
}

// channelIdleWait bounds one wait for events, so that a subscription
// whose signal is lost is still polled.
const channelIdleWait = time.Second

// runChannel reads one channel until ctx ends: it subscribes after the
// stored bookmark, delivers batches and stores the bookmark of a batch's
// last event only once the pipeline accepted the batch.
func (r *intuneReceiver) runChannel(ctx context.Context, channel string) {
	key := r.channelKey(channel)
	log := r.logger.With(zap.String("channel", channel), zap.String("server", r.cfg.Remote.Server))
	missingLogged := false
	for ctx.Err() == nil {
		bookmark := ""
		if v, err := r.client.Get(ctx, key); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.warn.Warn("storage-get", "cannot read the channel bookmark from storage; reading from start_at", zap.Error(err))
		} else {
			bookmark = string(v)
		}
		sub, err := r.openChannel(channel, bookmark, bookmark == "" && r.cfg.StartAt == StartAtEnd)
		if err != nil {
			if errors.Is(err, errChannelNotFound) {
				if !missingLogged {
					log.Warn("channel not found (is the Intune Certificate Connector installed?); it is tried again and read once it appears",
						zap.Duration("retry_interval", r.cfg.ChannelRetryInterval), zap.Error(err))
					missingLogged = true
				}
			} else {
				r.warn.Warn("subscribe/"+channel, "cannot subscribe to the channel; trying again", zap.String("channel", channel),
					zap.Duration("retry_interval", r.cfg.ChannelRetryInterval), zap.Error(err))
			}
			if !sleepCtx(ctx, r.cfg.ChannelRetryInterval) {
				return
			}
			continue
		}
		if missingLogged {
			log.Info("channel found; reading it")
			missingLogged = false
		}
		err = r.readChannel(ctx, sub, channel, key)
		if cerr := sub.Close(); cerr != nil {
			log.Debug("closing subscription", zap.Error(cerr))
		}
		if err == nil || ctx.Err() != nil {
			return
		}
		r.warn.Warn("read/"+channel, "reading the channel failed; subscribing again after the last delivered event",
			zap.String("channel", channel), zap.Error(err))
		if !sleepCtx(ctx, r.cfg.ChannelRetryInterval) {
			return
		}
	}
}

// readChannel runs one subscription. It returns nil when ctx ended, else
// the subscription's error after delivering what was read before it.
func (r *intuneReceiver) readChannel(ctx context.Context, sub channelSubscription, channel, key string) error {
	bt := batch.NewBatcher(sourceChannel, r.cfg.MaxBatchSize, r.cfg.MaxBatchDelay, r.deliver)
	// pending counts events taken from the subscription since the last
	// flush, unparsable ones included: the bookmark must move past them too.
	pending := 0
	var first time.Time
	flush := func() error {
		if pending == 0 {
			return nil
		}
		bm, err := sub.Bookmark()
		if err != nil {
			return err
		}
		if bm != "" {
			bt.SetCheckpoint(key, []byte(bm))
		}
		if err := bt.Flush(ctx); err != nil {
			return err
		}
		pending = 0
		return nil
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		xmls, err := sub.Next(r.cfg.MaxBatchSize - pending)
		now := time.Now()
		if pending == 0 && len(xmls) > 0 {
			first = now
		}
		pending += len(xmls)
		for _, x := range xmls {
			ev, perr := wineventlog.ParseEventXML(x)
			if perr != nil {
				// The event is passed over; the bookmark still moves past
				// it with the batch.
				r.tel.decodeError(ctx, string(wineventlog.FormatXML))
				r.warn.Warn("decode/"+channel, "cannot parse an event rendered by Windows; it is passed over",
					zap.String("channel", channel), zap.Error(perr))
				continue
			}
			bt.Add(&ev, "", now)
		}
		if err != nil {
			if ferr := flush(); ferr != nil && ctx.Err() != nil {
				return nil
			}
			return err
		}
		switch {
		case pending >= r.cfg.MaxBatchSize:
			if err := flush(); err != nil {
				return ignoreDone(ctx, err)
			}
		case len(xmls) == 0 && pending > 0:
			if wait := r.cfg.MaxBatchDelay - now.Sub(first); wait > 0 {
				sub.Wait(ctx, wait)
				continue
			}
			if err := flush(); err != nil {
				return ignoreDone(ctx, err)
			}
		case len(xmls) == 0:
			sub.Wait(ctx, channelIdleWait)
		case pending > 0 && now.Sub(first) >= r.cfg.MaxBatchDelay:
			if err := flush(); err != nil {
				return ignoreDone(ctx, err)
			}
		}
	}
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
