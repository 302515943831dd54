//go:build windows

package intuneconnectorreceiver

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"go.uber.org/zap"
	"golang.org/x/sys/windows"
)

// A small binding over the Windows Event Log API (wevtapi.dll), which
// golang.org/x/sys/windows does not wrap. Only the calls a pull
// subscription with bookmarks needs.
var (
	wevtapi               = windows.NewLazySystemDLL("wevtapi.dll")
	procEvtOpenSession    = wevtapi.NewProc("EvtOpenSession")
	procEvtSubscribe      = wevtapi.NewProc("EvtSubscribe")
	procEvtNext           = wevtapi.NewProc("EvtNext")
	procEvtRender         = wevtapi.NewProc("EvtRender")
	procEvtCreateBookmark = wevtapi.NewProc("EvtCreateBookmark")
	procEvtUpdateBookmark = wevtapi.NewProc("EvtUpdateBookmark")
	procEvtClose          = wevtapi.NewProc("EvtClose")
)

type evtHandle uintptr

// Constants from winevt.h and winerror.h.
const (
	evtSubscribeToFutureEvents      = 1
	evtSubscribeStartAtOldestRecord = 2
	evtSubscribeStartAfterBookmark  = 3

	evtRenderEventXML = 1
	evtRenderBookmark = 2

	evtRPCLogin = 1

	errorEvtChannelNotFound   windows.Errno = 15007
	errorEvtQueryResultStale  windows.Errno = 15011
	errorEvtInvalidQuery      windows.Errno = 15001
	errorEvtPublisherNotFound windows.Errno = 15002
)

// evtRPCLoginInfo is EVT_RPC_LOGIN.
type evtRPCLoginInfo struct {
	Server   *uint16
	User     *uint16
	Domain   *uint16
	Password *uint16
	Flags    uint32
}

func evtClose(h evtHandle) {
	if h != 0 {
		_, _, _ = procEvtClose.Call(uintptr(h))
	}
}

func evtOpenSession(remote RemoteConfig) (evtHandle, error) {
	server, err := windows.UTF16PtrFromString(remote.Server)
	if err != nil {
		return 0, err
	}
	login := evtRPCLoginInfo{Server: server}
	if remote.Username != "" {
		if login.User, err = windows.UTF16PtrFromString(remote.Username); err != nil {
			return 0, err
		}
	}
	if remote.Domain != "" {
		if login.Domain, err = windows.UTF16PtrFromString(remote.Domain); err != nil {
			return 0, err
		}
	}
	var pw []uint16
	if remote.Password != "" {
		if pw, err = windows.UTF16FromString(string(remote.Password)); err != nil {
			return 0, errors.New("remote.password contains a NUL character")
		}
		login.Password = &pw[0]
	}
	r1, _, callErr := procEvtOpenSession.Call(evtRPCLogin, uintptr(unsafe.Pointer(&login)), 0, 0)
	clear(pw) // the password does not outlive the call in our memory
	if r1 == 0 {
		return 0, fmt.Errorf("opening a session on %s: %w", remote.Server, callErr)
	}
	return evtHandle(r1), nil
}

type winSubscription struct {
	session  evtHandle
	sub      evtHandle
	bookmark evtHandle
	signal   windows.Handle
	render   []uint16
	handles  []evtHandle
	any      bool // Next has returned an event, so the bookmark is set
}

func platformChannelOpener(remote RemoteConfig, logger *zap.Logger) channelOpener {
	return func(channel, bookmark string, startAtEnd bool) (channelSubscription, error) {
		return subscribe(remote, logger, channel, bookmark, startAtEnd)
	}
}

func subscribe(remote RemoteConfig, logger *zap.Logger, channel, bookmark string, startAtEnd bool) (_ channelSubscription, err error) {
	s := &winSubscription{render: make([]uint16, 16<<10)}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if remote.Server != "" {
		if s.session, err = evtOpenSession(remote); err != nil {
			return nil, err
		}
	}
	flags := uintptr(evtSubscribeStartAtOldestRecord)
	if startAtEnd {
		flags = evtSubscribeToFutureEvents
	}
	var bmXML *uint16
	if bookmark != "" {
		if bmXML, err = windows.UTF16PtrFromString(bookmark); err != nil {
			return nil, fmt.Errorf("stored bookmark: %w", err)
		}
	}
	r1, _, callErr := procEvtCreateBookmark.Call(uintptr(unsafe.Pointer(bmXML)))
	if r1 == 0 && bmXML != nil {
		logger.Warn("the stored bookmark is not valid; reading the channel from its oldest event",
			zap.String("channel", channel), zap.Error(callErr))
		r1, _, callErr = procEvtCreateBookmark.Call(0)
	} else if bmXML != nil {
		flags = evtSubscribeStartAfterBookmark
	}
	if r1 == 0 {
		return nil, fmt.Errorf("creating a bookmark: %w", callErr)
	}
	s.bookmark = evtHandle(r1)

	// Manual reset, initially set: the first Wait falls through to Next.
	if s.signal, err = windows.CreateEvent(nil, 1, 1, nil); err != nil {
		return nil, err
	}
	path, err := windows.UTF16PtrFromString(channel)
	if err != nil {
		return nil, err
	}
	query, _ := windows.UTF16PtrFromString("*")
	var from uintptr
	if flags == evtSubscribeStartAfterBookmark {
		from = uintptr(s.bookmark)
	}
	r1, _, callErr = procEvtSubscribe.Call(uintptr(s.session), uintptr(s.signal), uintptr(unsafe.Pointer(path)),
		uintptr(unsafe.Pointer(query)), from, 0, 0, flags)
	if r1 == 0 {
		var errno windows.Errno
		if errors.As(callErr, &errno) && (errno == errorEvtChannelNotFound || errno == errorEvtPublisherNotFound) {
			return nil, fmt.Errorf("%w: %s: %v", errChannelNotFound, channel, callErr)
		}
		return nil, fmt.Errorf("subscribing to %s: %w", channel, callErr)
	}
	s.sub = evtHandle(r1)
	return s, nil
}

// Next renders up to max events that are ready and moves the in-memory
// bookmark past them. The stored bookmark moves only when the caller saves
// Bookmark after the pipeline accepted the events.
func (s *winSubscription) Next(max int) ([][]byte, error) {
	if max > 256 {
		max = 256
	}
	if cap(s.handles) < max {
		s.handles = make([]evtHandle, max)
	}
	hs := s.handles[:max]
	var returned uint32
	r1, _, callErr := procEvtNext.Call(uintptr(s.sub), uintptr(max), uintptr(unsafe.Pointer(&hs[0])), 0, 0,
		uintptr(unsafe.Pointer(&returned)))
	if r1 == 0 {
		var errno windows.Errno
		if errors.As(callErr, &errno) && (errno == windows.ERROR_NO_MORE_ITEMS || errno == windows.ERROR_TIMEOUT) {
			return nil, nil
		}
		if errors.As(callErr, &errno) && errno == errorEvtQueryResultStale {
			return nil, fmt.Errorf("events were overwritten before they were read (the channel is too small for the rate): %w", callErr)
		}
		return nil, fmt.Errorf("reading events: %w", callErr)
	}
	out := make([][]byte, 0, returned)
	var firstErr error
	for _, h := range hs[:returned] {
		// An event that cannot be rendered is passed on empty: the caller
		// counts and logs it as undecodable, and the bookmark moves on.
		x, _ := s.renderXML(h, evtRenderEventXML)
		out = append(out, x)
		if r, _, callErr := procEvtUpdateBookmark.Call(uintptr(s.bookmark), uintptr(h)); r == 0 && firstErr == nil {
			firstErr = fmt.Errorf("updating the bookmark: %w", callErr)
		}
		evtClose(h)
	}
	if returned > 0 {
		s.any = true
	}
	return out, firstErr
}

func (s *winSubscription) renderXML(h evtHandle, flags uintptr) ([]byte, error) {
	for {
		var used, props uint32
		r1, _, callErr := procEvtRender.Call(0, uintptr(h), flags, uintptr(len(s.render)*2),
			uintptr(unsafe.Pointer(&s.render[0])), uintptr(unsafe.Pointer(&used)), uintptr(unsafe.Pointer(&props)))
		if r1 != 0 {
			n := int(used / 2)
			if n > 0 && s.render[n-1] == 0 {
				n--
			}
			return []byte(windows.UTF16ToString(s.render[:n])), nil
		}
		var errno windows.Errno
		if errors.As(callErr, &errno) && errno == windows.ERROR_INSUFFICIENT_BUFFER && int(used/2) > len(s.render) {
			s.render = make([]uint16, used/2+1)
			continue
		}
		return nil, fmt.Errorf("rendering: %w", callErr)
	}
}

func (s *winSubscription) Bookmark() (string, error) {
	if !s.any {
		return "", nil
	}
	x, err := s.renderXML(s.bookmark, evtRenderBookmark)
	if err != nil {
		return "", fmt.Errorf("bookmark: %w", err)
	}
	return string(x), nil
}

func (s *winSubscription) Wait(ctx context.Context, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for ctx.Err() == nil {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		slice := min(left, 250*time.Millisecond)
		ev, err := windows.WaitForSingleObject(s.signal, uint32(slice/time.Millisecond))
		if err != nil {
			return
		}
		if ev == windows.WAIT_OBJECT_0 {
			// Reset before the caller drains with Next, so a signal for
			// events that arrive meanwhile is not lost.
			_ = windows.ResetEvent(s.signal)
			return
		}
	}
}

func (s *winSubscription) Close() error {
	evtClose(s.sub)
	evtClose(s.bookmark)
	evtClose(s.session)
	s.sub, s.bookmark, s.session = 0, 0, 0
	if s.signal != 0 {
		err := windows.CloseHandle(s.signal)
		s.signal = 0
		return err
	}
	return nil
}
