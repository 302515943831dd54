package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
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

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := lineWriter{c: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", esbulktest.Options{Version: "9.1.0"}, out) }()
	var line string
	select {
	case line = <-out.c:
	case <-time.After(10 * time.Second):
		t.Fatal("no address announced")
	}
	url, ok := strings.CutPrefix(line, "listening on ")
	if !ok {
		t.Fatalf("announcement %q", line)
	}
	client := &http.Client{Transport: &http.Transport{}}
	res, err := client.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	client.CloseIdleConnections()
	if res.Header.Get("X-Elastic-Product") != "Elasticsearch" || !strings.Contains(string(body), `"9.1.0"`) {
		t.Errorf("GET / answered %s %s", res.Header, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}
