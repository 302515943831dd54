//go:build windows

package intuneconnectorreceiver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	stanzawin "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/input/windows"
	"go.uber.org/zap"
	"golang.org/x/sys/windows"
)

// The channel binding is contrib stanza's Windows event log pieces (the
// ones the windowseventlog receiver runs on): Subscription, Bookmark,
// Event and Buffer. Not its operator, which stores the bookmark as soon as
// an entry leaves it, before the pipeline accepted anything.
//
// Our own piece is the remote session: stanza opens sessions only inside
// its operator, so EvtOpenSession and EvtClose for the session handle are
// called here, with the EVT_RPC_LOGIN layout stanza exports.
var (
	wevtapi            = windows.NewLazySystemDLL("wevtapi.dll")
	procEvtOpenSession = wevtapi.NewProc("EvtOpenSession")
	procEvtClose       = wevtapi.NewProc("EvtClose")
)

// errorEvtPublisherNotFound (winerror.h) answers a subscription to a
// channel whose provider is not registered: the connector is not installed.
const errorEvtPublisherNotFound windows.Errno = 15002

// winSubscription is a pull subscription to one channel with an in-memory
// bookmark that follows every event handed out; the receiver stores the
// bookmark's XML only after the pipeline accepted the events.
type winSubscription struct {
	sub      stanzawin.Subscription
	bookmark stanzawin.Bookmark
	marked   bool // the bookmark was opened from XML or updated
	buf      *stanzawin.Buffer
	session  uintptr
	// cancel is signalled when the ctx of a Wait ends: a blocking Windows
	// wait does not see a Go context.
	cancel windows.Handle
}

func platformChannelOpener(remote RemoteConfig, logger *zap.Logger) channelOpener {
	return func(channel, bookmark string, startAtEnd bool) (channelSubscription, error) {
		return subscribe(remote, logger, channel, bookmark, startAtEnd)
	}
}

func subscribe(remote RemoteConfig, logger *zap.Logger, channel, bookmark string, startAtEnd bool) (_ channelSubscription, err error) {
	s := &winSubscription{bookmark: stanzawin.NewBookmark(), buf: stanzawin.NewBuffer()}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if bookmark != "" {
		if err := s.bookmark.Open(bookmark); err != nil {
			return nil, fmt.Errorf("%w: %w", errBadBookmark, err)
		}
		s.marked = true
	}
	s.sub = stanzawin.NewLocalSubscription(logger)
	if remote.Server != "" {
		if s.session, err = openSession(remote); err != nil {
			return nil, err
		}
		s.sub = stanzawin.NewRemoteSubscription(remote.Server, logger)
	}
	if s.cancel, err = windows.CreateEvent(nil, 1, 0, nil); err != nil {
		return nil, fmt.Errorf("creating an event handle: %w", err)
	}
	startAt := "beginning"
	if startAtEnd {
		startAt = "end"
	}
	// A bookmark opened above makes stanza subscribe after it.
	if err := s.sub.Open(startAt, s.session, channel, nil, nil, s.bookmark); err != nil {
		if errors.Is(err, windows.ERROR_EVT_CHANNEL_NOT_FOUND) || errors.Is(err, errorEvtPublisherNotFound) {
			return nil, fmt.Errorf("%w: %s: %w", errChannelNotFound, channel, err)
		}
		return nil, err
	}
	return s, nil
}

// openSession opens an RPC session to a remote server. The password's
// UTF-16 copy is cleared once the call returns.
func openSession(remote RemoteConfig) (uintptr, error) {
	login := stanzawin.EvtRPCLogin{}
	var err error
	if login.Server, err = windows.UTF16PtrFromString(remote.Server); err != nil {
		return 0, fmt.Errorf("remote.server: %w", err)
	}
	if remote.Username != "" {
		if login.User, err = windows.UTF16PtrFromString(remote.Username); err != nil {
			return 0, fmt.Errorf("remote.username: %w", err)
		}
	}
	if remote.Domain != "" {
		if login.Domain, err = windows.UTF16PtrFromString(remote.Domain); err != nil {
			return 0, fmt.Errorf("remote.domain: %w", err)
		}
	}
	var pw []uint16
	if remote.Password != "" {
		if pw, err = windows.UTF16FromString(string(remote.Password)); err != nil {
			return 0, errors.New("remote.password contains a NUL character")
		}
		login.Password = &pw[0]
	}
	h, _, callErr := procEvtOpenSession.Call(uintptr(stanzawin.EvtRPCLoginClass), uintptr(unsafe.Pointer(&login)), 0, 0)
	clear(pw)
	if h == 0 {
		return 0, fmt.Errorf("opening a session on %s: %w", remote.Server, callErr)
	}
	return h, nil
}

// Next renders up to max events that are ready and moves the in-memory
// bookmark past them.
func (s *winSubscription) Next(max int) ([]channelEvent, error) {
	evs, err := s.sub.Read(max)
	if err != nil {
		return nil, classifyReadError(err)
	}
	out := make([]channelEvent, 0, len(evs))
	var firstErr error
	for i := range evs {
		out = append(out, s.render(&evs[i]))
		if err := s.bookmark.Update(evs[i]); err != nil && firstErr == nil {
			firstErr = err
		}
		_ = evs[i].Close()
	}
	if len(evs) > 0 {
		s.marked = true
	}
	return out, firstErr
}

// render returns the event's XML. Stanza's Event renders it (EvtRender)
// and parses it into its own shape, keeping the text in EventXML.Original:
// the text is what the receiver's decoder needs, so that channel and
// exported events give the same records.
func (s *winSubscription) render(ev *stanzawin.Event) channelEvent {
	parsed, err := ev.RenderSimple(s.buf)
	if err != nil {
		return channelEvent{Err: clipError(err)}
	}
	x, ok := any(parsed).(*stanzawin.EventXML)
	if !ok {
		return channelEvent{Err: fmt.Errorf("stanza rendered the event as %T, not as EventXML", parsed)}
	}
	return channelEvent{XML: []byte(x.Original)}
}

// clipError shortens a rendering error: stanza's quotes the whole event.
func clipError(err error) error {
	const limit = 300
	msg := err.Error()
	if len(msg) <= limit {
		return err
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return errors.New(strings.TrimSpace(msg[:cut]) + " ...")
}

// classifyReadError names the errors the channel reader recovers from.
func classifyReadError(err error) error {
	switch {
	case errors.Is(err, windows.RPC_S_INVALID_BOUND):
		return fmt.Errorf("%w: %w", errInvalidBound, err)
	case errors.Is(err, windows.ERROR_EVT_QUERY_RESULT_STALE), errors.Is(err, windows.ERROR_EVT_QUERY_RESULT_INVALID_POSITION):
		return fmt.Errorf("%w: %w", errQueryStale, err)
	case errors.Is(err, windows.ERROR_EVT_CHANNEL_NOT_FOUND), errors.Is(err, errorEvtPublisherNotFound):
		return fmt.Errorf("%w: %w", errChannelNotFound, err)
	}
	// RPC_S_SERVER_UNAVAILABLE, RPC_S_CALL_FAILED, ERROR_INVALID_HANDLE:
	// the Event Log service (or the remote server) restarted.
	return fmt.Errorf("reading events: %w", err)
}

func (s *winSubscription) Bookmark() (string, error) {
	if !s.marked {
		return "", nil
	}
	return s.bookmark.Render(s.buf)
}

func (s *winSubscription) Wait(ctx context.Context, timeout time.Duration) {
	stop := context.AfterFunc(ctx, func() { _ = windows.SetEvent(s.cancel) })
	defer stop()
	// Stanza's wait ends on new events, on cancel or after the timeout;
	// its error (a closed handle) surfaces at the next Next.
	_, _ = s.sub.Wait(s.cancel, uint32(max(timeout, time.Millisecond)/time.Millisecond))
}

func (s *winSubscription) Close() error {
	err := errors.Join(s.sub.Close(), s.bookmark.Close())
	if s.session != 0 {
		_, _, _ = procEvtClose.Call(s.session)
		s.session = 0
	}
	if s.cancel != 0 {
		err = errors.Join(err, windows.CloseHandle(s.cancel))
		s.cancel = 0
	}
	return err
}
