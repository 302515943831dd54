//go:build windows

package intuneconnectorreceiver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/windows"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// The Windows errors the channel reader recovers from are named for it.
func TestClassifyReadError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{name: "RPC_S_INVALID_BOUND", err: windows.RPC_S_INVALID_BOUND, want: errInvalidBound},
		{name: "query result stale", err: fmt.Errorf("EvtNext: %w", windows.ERROR_EVT_QUERY_RESULT_STALE), want: errQueryStale},
		{name: "invalid position", err: windows.ERROR_EVT_QUERY_RESULT_INVALID_POSITION, want: errQueryStale},
		{name: "channel removed", err: windows.ERROR_EVT_CHANNEL_NOT_FOUND, want: errChannelNotFound},
		{name: "service restarted", err: windows.RPC_S_SERVER_UNAVAILABLE},
		{name: "handle gone", err: windows.ERROR_INVALID_HANDLE},
	}
	sentinels := []error{errInvalidBound, errQueryStale, errChannelNotFound}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyReadError(tt.err)
			if !errors.Is(got, tt.err) {
				t.Errorf("%v does not keep the Windows error %v", got, tt.err)
			}
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tt.want) {
					t.Errorf("%v: errors.Is(%v) = %v", got, s, !(s == tt.want))
				}
			}
		})
	}
}

func TestClipError(t *testing.T) {
	long := errors.New("failed to unmarshal xml bytes into event: EOF (" + strings.Repeat("é", 400) + ")")
	got := clipError(long).Error()
	if len(got) > 310 || !strings.HasSuffix(got, "...") || !strings.HasPrefix(got, "failed to unmarshal") {
		t.Errorf("clipped to %d bytes: %q", len(got), got)
	}
	short := errors.New("short")
	if clipError(short) != short {
		t.Error("a short error was changed")
	}
}

// Against the local Event Log service: a channel that does not exist and a
// bookmark Windows cannot parse are named as such, and the Application
// channel (on every Windows) is read with a bookmark that resumes after
// the last event read.
func TestWindowsBinding(t *testing.T) {
	open := platformChannelOpener(RemoteConfig{}, zap.NewNop())
	if _, err := open("Intune-No-Such-Channel/Admin", "", false); !errors.Is(err, errChannelNotFound) {
		t.Errorf("missing channel: %v, want errChannelNotFound", err)
	}
	if _, err := open("Application", "<BookmarkList><Bookmark", false); !errors.Is(err, errBadBookmark) {
		t.Errorf("broken bookmark: %v, want errBadBookmark", err)
	}
	sub, err := open("Application", "", false)
	if err != nil {
		t.Skipf("cannot subscribe to Application here: %v", err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var evs []channelEvent
	for len(evs) == 0 && ctx.Err() == nil {
		if evs, err = sub.Next(5); err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			sub.Wait(ctx, time.Second)
		}
	}
	if len(evs) == 0 {
		t.Skip("the Application channel is empty")
	}
	var last wineventlog.Event
	for _, x := range evs {
		if x.Err != nil {
			t.Fatal(x.Err)
		}
		if last, err = wineventlog.ParseEventXML(x.XML); err != nil {
			t.Fatalf("event XML from Windows does not parse: %v", err)
		}
	}
	bm, err := sub.Bookmark()
	if err != nil {
		t.Fatal(err)
	}
	if id := bookmarkRecordID(bm); id != last.RecordID {
		t.Errorf("bookmark %q names record %d, want the last event read, %d", bm, id, last.RecordID)
	}
	again, err := open("Application", bm, false)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	next, err := again.Next(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) == 1 {
		ev, err := wineventlog.ParseEventXML(next[0].XML)
		if err != nil || ev.RecordID <= last.RecordID {
			t.Errorf("resumed at record %d (%v), want one after %d", ev.RecordID, err, last.RecordID)
		}
	}
}
