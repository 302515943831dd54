package intuneconnectorreceiver

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/goleak"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/metadatatest"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	testCat   = mapping.MustDefault()
	testCases = eventgen.CatalogCases(testCat)
)

// genEvent is the i-th generated event; its record ID is unique per i.
func genEvent(i int) wineventlog.Event { return eventgen.EventAt(testCat, testCases, i) }

// wevtutilXML renders events [from, from+n) as wevtutil qe /f:xml does.
func wevtutilXML(from, n int) []byte {
	var b []byte
	for i := from; i < from+n; i++ {
		ev := genEvent(i)
		b = wineventlog.AppendEventXML(b, &ev, wineventlog.XMLLine)
		b = append(b, '\r', '\n')
	}
	return b
}

func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// testConfig reads dir/* with short intervals.
func testConfig(dir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Channels = nil
	cfg.Include = []string{filepath.Join(dir, "*")}
	cfg.PollInterval = 10 * time.Millisecond
	cfg.MaxBatchDelay = 10 * time.Millisecond
	cfg.Retry.InitialInterval = 5 * time.Millisecond
	cfg.Retry.MaxInterval = 20 * time.Millisecond
	return cfg
}

// host offers extensions to the receiver.
type host = testutil.Host

func receiverSettings() receiver.Settings { return receivertest.NewNopSettings(metadata.Type) }

func nopHost() host { return testutil.NewHost() }

var storageID = component.MustNewIDWithName("file_storage", "test")

// startStorage starts a real file_storage extension over dir, as the
// collector would, and stops it at the end of the test.
func startStorage(t *testing.T, dir string) (host, func()) {
	t.Helper()
	h, _, stop := testutil.StartFileStorage(t, storageID, dir)
	return h, stop
}

type started struct {
	r  *intuneReceiver
	tt *componenttest.Telemetry
}

// startReceiver creates and starts a receiver; it is shut down at the end
// of the test unless stopped before.
func startReceiver(t *testing.T, cfg *Config, next consumer.Logs, h component.Host, tweak ...func(*intuneReceiver)) started {
	t.Helper()
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	set := receivertest.NewNopSettings(metadata.Type)
	// A fixed ID, as in a collector config: the storage client is per ID.
	set.ID = component.NewID(metadata.Type)
	set.TelemetrySettings = tt.NewTelemetrySettings()
	r, err := newReceiver(set, cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tweak {
		f(r)
	}
	if err := r.Start(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return started{r, tt}
}

func (s started) stop(t *testing.T) {
	t.Helper()
	if err := s.r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// counter returns the sum of a counter metric, or 0 when not recorded. It
// fails t when any metric carries attributes metadata.yaml does not declare.
func (s started) counter(t *testing.T, name string) int64 {
	t.Helper()
	metadatatest.AssertDeclared(t, s.tt)
	m, err := s.tt.GetMetric(name)
	if err != nil {
		return 0
	}
	return sumOf(m)
}

// recorded is a consumer that keeps the identity of every record it
// accepted, in order, and can be told to refuse.
type recorded struct {
	mu   sync.Mutex
	keys []string
	fail func(call int) error
	call int
	// key names a record; recordKey when nil.
	key func(plog.LogRecord) string
}

func (c *recorded) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *recorded) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	c.call++
	call := c.call
	c.mu.Unlock()
	if c.fail != nil {
		if err := c.fail(call); err != nil {
			return err
		}
	}
	key := c.key
	if key == nil {
		key = recordKey
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				c.keys = append(c.keys, key(lr))
			}
		}
	}
	return nil
}

func (c *recorded) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.call
}

func (c *recorded) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

func (c *recorded) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys...)
}

// recordKey identifies a record by file name and Windows record ID.
func recordKey(lr plog.LogRecord) string {
	var name, id string
	if v, ok := lr.Attributes().Get(attrLogFileName); ok {
		name = v.AsString()
	}
	if v, ok := lr.Attributes().Get(mapping.AttrWinlogRecordID); ok {
		id = v.AsString()
	}
	return name + "#" + id
}

// checkExactlyOnce fails unless keys holds each of want exactly once.
func checkExactlyOnce(t *testing.T, keys []string, want map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, k := range keys {
		seen[k]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("record %s delivered %d times", k, n)
		}
		if !want[k] {
			t.Errorf("unexpected record %s", k)
		}
	}
	missing := 0
	for k := range want {
		if seen[k] == 0 {
			missing++
			if missing <= 5 {
				t.Errorf("record %s never delivered", k)
			}
		}
	}
	if missing > 5 {
		t.Errorf("... %d records missing in all", missing)
	}
}

// wantKeys lists the keys of generated events [from, from+n) in file name.
func wantKeys(m map[string]bool, name string, from, n int) map[string]bool {
	if m == nil {
		m = map[string]bool{}
	}
	for i := from; i < from+n; i++ {
		ev := genEvent(i)
		m[name+"#"+uitoa(ev.RecordID)] = true
	}
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, 20*time.Second, what, cond)
}

// settled waits for the receiver to show that nothing more arrives: the
// file source has completed two more polls (so at least one that started
// after this call) with no batch left to deliver, and every channel reader
// has twice more found nothing new with nothing pending (channel batches
// are delivered before the next read).
func (s started) settled(t *testing.T) {
	t.Helper()
	var polls int64
	if s.r.files != nil {
		polls = s.r.files.polls.Load()
	}
	idle := make([]int64, len(s.r.channels))
	for i, c := range s.r.channels {
		idle[i] = c.idle.Load()
	}
	waitFor(t, "two more polls of every source with nothing left to deliver", func() bool {
		if f := s.r.files; f != nil && (f.inFlight.Load() != 0 || f.polls.Load() < polls+2) {
			return false
		}
		for i, c := range s.r.channels {
			if c.idle.Load() < idle[i]+2 {
				return false
			}
		}
		return true
	})
}
