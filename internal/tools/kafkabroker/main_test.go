package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lineWriter hands over the first line written.
type lineWriter struct{ c chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w.c <- strings.TrimSpace(string(p)):
	default:
	}
	return len(p), nil
}

// serve runs the broker until the returned stop is called, and returns
// the address it announced.
func serve(t *testing.T, o options) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := lineWriter{c: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, out) }()
	select {
	case line := <-out.c:
		a, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			t.Fatalf("announcement %q", line)
		}
		addr = a
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no address announced")
	}
	return addr, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
}

// TestDataSurvivesARestart produces a message, stops the broker, starts
// it again on the same address with the same directory, and reads the
// message back.
func TestDataSurvivesARestart(t *testing.T) {
	o := options{addr: "127.0.0.1:0", dataDir: t.TempDir(), topic: "events", partitions: 2}
	addr, stop := serve(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "events", Key: []byte("host"), Value: []byte("kept")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	stop()

	o.addr = addr
	addr, stop = serve(t, o)
	defer stop()
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []string
	for len(got) == 0 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("the message produced before the restart was not read back")
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if len(got) != 1 || got[0] != "kept" {
		t.Errorf("read %q, want [kept]", got)
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    options
		want string
	}{
		{"no port", options{addr: "127.0.0.1"}, "-addr"},
		{"other host", options{addr: "0.0.0.0:9092"}, "127.0.0.1 only"},
		{"bad port", options{addr: "127.0.0.1:x"}, "not a port"},
		{"no partitions", options{addr: "127.0.0.1:0", topic: "t"}, "-partitions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.o, lineWriter{c: make(chan string, 1)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run: %v, want an error naming %q", err, tc.want)
			}
		})
	}
}
