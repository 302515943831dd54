package intuneconnectorreceiver

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// fakeChannel stands in for a Windows channel, with the binding's contract
// and Windows's own rules: events come as XML, a bookmark names the record
// number of the last event handed out, in Windows's bookmark XML, and a
// subscription after a bookmark whose event is gone starts after the event
// closest to it.
type fakeChannel struct {
	mu     sync.Mutex
	events [][]byte
	ids    []uint64 // record number of each event, increasing
	opens  []string // the bookmark each open was given
	// missing opens fail as if the channel did not exist.
	missing int
	// openErrs and nextErrs are returned by the next opens and Next calls,
	// in turn (nil entries pass).
	openErrs, nextErrs []error
	// maxRead, when set, makes Next fail with RPC_S_INVALID_BOUND when
	// asked for more events than that.
	maxRead int
	// gen counts the subscriptions opened.
	gen int
}

func (c *fakeChannel) add(from, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := from; i < from+n; i++ {
		ev := genEvent(i)
		c.push(&ev)
	}
}

// addNumbered adds events [from, from+n) as written by the given computer
// with record numbers starting at first: the channel after it was cleared
// or recreated.
func (c *fakeChannel) addNumbered(from, n int, first uint64, computer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range n {
		ev := genEvent(from + k)
		ev.RecordID, ev.Computer = first+uint64(k), computer
		c.push(&ev)
	}
}

func (c *fakeChannel) push(ev *wineventlog.Event) {
	ev.Channel = testChannel
	c.events = append(c.events, wineventlog.AppendEventXML(nil, ev, wineventlog.XMLLine))
	c.ids = append(c.ids, ev.RecordID)
}

// addRaw adds event XML as Windows rendered it; its record number follows
// the last one.
func (c *fakeChannel) addRaw(x string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := uint64(1)
	if len(c.ids) > 0 {
		id = c.ids[len(c.ids)-1]
	}
	c.events = append(c.events, []byte(x))
	c.ids = append(c.ids, id)
}

// clear empties the channel, as wevtutil cl does.
func (c *fakeChannel) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events, c.ids = nil, nil
}

func (c *fakeChannel) failNext(errs ...error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextErrs = append(c.nextErrs, errs...)
}

func (c *fakeChannel) failOpen(errs ...error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.openErrs = append(c.openErrs, errs...)
}

func (c *fakeChannel) openCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.opens)
}

func (c *fakeChannel) lastOpen() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opens[len(c.opens)-1]
}

// bookmarkOf is the bookmark Windows renders after the event with this
// record number.
func bookmarkOf(id uint64) string {
	return fmt.Sprintf("<BookmarkList>\r\n  <Bookmark Channel='%s' RecordId='%d' IsCurrent='true'/>\r\n</BookmarkList>", testChannel, id)
}

// bookmarkAt is the bookmark after the first n events of the channel.
func (c *fakeChannel) bookmarkAt(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bookmarkOf(c.ids[n-1])
}

func (c *fakeChannel) open(channel, bookmark string, startAtEnd bool) (channelSubscription, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opens = append(c.opens, bookmark)
	if len(c.openErrs) > 0 {
		err := c.openErrs[0]
		c.openErrs = c.openErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	if c.missing > 0 {
		c.missing--
		return nil, fmt.Errorf("%w: %s", errChannelNotFound, channel)
	}
	c.gen++
	s := &fakeSub{c: c, gen: c.gen, bookmark: bookmark}
	switch {
	case bookmark != "":
		id, ok := parseFakeBookmark(bookmark)
		if !ok {
			return nil, fmt.Errorf("%w: EvtCreateBookmark: The parameter is incorrect", errBadBookmark)
		}
		for s.pos < len(c.ids) && c.ids[s.pos] <= id {
			s.pos++
		}
	case startAtEnd:
		s.pos = len(c.events)
	}
	return s, nil
}

func parseFakeBookmark(b string) (uint64, bool) {
	_, rest, ok := strings.Cut(b, "RecordId='")
	if !ok || !strings.HasPrefix(b, "<BookmarkList>") {
		return 0, false
	}
	digits, _, _ := strings.Cut(rest, "'")
	id, err := strconv.ParseUint(digits, 10, 64)
	return id, err == nil
}

type fakeSub struct {
	c        *fakeChannel
	gen      int
	pos      int
	bookmark string
}

func (s *fakeSub) Next(max int) ([]channelEvent, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if len(s.c.nextErrs) > 0 {
		err := s.c.nextErrs[0]
		s.c.nextErrs = s.c.nextErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	if s.c.maxRead > 0 && max > s.c.maxRead {
		return nil, fmt.Errorf("%w: EvtNext: The array bounds are invalid", errInvalidBound)
	}
	n := min(max, len(s.c.events)-s.pos)
	if n <= 0 {
		return nil, nil
	}
	out := make([]channelEvent, n)
	for i := range out {
		out[i].XML = s.c.events[s.pos+i]
	}
	s.pos += n
	s.bookmark = bookmarkOf(s.c.ids[s.pos-1])
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

func (s *fakeSub) Bookmark() (string, error) { return s.bookmark, nil }

func (s *fakeSub) Close() error { return nil }
