package intunesplunkhecexporter

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// peerBinary is the HEC peer collector built by test/hecpeer/build.sh.
func peerBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("HECPEER_BIN")
	if p == "" {
		p = filepath.Join("..", "..", "test", "hecpeer", "build", "hecpeer")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("HEC peer not built (%s): run `make hecpeer` (test/hecpeer/build.sh) to build the contrib splunk_hec receiver peer, or set HECPEER_BIN", p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

type peer struct {
	url  string
	out  string
	cmd  *exec.Cmd
	logs string
}

// startPeer runs the peer collector: contrib splunk_hec receiver (with the
// ack extension) writing what it accepts to a file as OTLP JSON.
func startPeer(t *testing.T, bin string) *peer {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &peer{url: "http://" + addr, out: filepath.Join(dir, "received.jsonl"), logs: filepath.Join(dir, "peer.log")}
	conf := fmt.Sprintf(`extensions:
  ack:
receivers:
  splunk_hec:
    endpoint: %s
    ack:
      extension: ack
exporters:
  file:
    path: %s
    format: json
    flush_interval: 50ms
service:
  extensions: [ack]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    logs:
      receivers: [splunk_hec]
      exporters: [file]
`, addr, p.out)
	confPath := filepath.Join(dir, "peer.yaml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(p.logs)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "--config", "file:"+confPath)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(p.logs)
			t.Logf("peer log:\n%s", b)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url + "/services/collector/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-exited:
			t.Fatalf("peer exited at start (%v)", p.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stored reads what the peer wrote: one OTLP JSON document per line.
func (p *peer) stored(t *testing.T) []storedEvent {
	t.Helper()
	f, err := os.Open(p.out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []storedEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	var um plog.JSONUnmarshaler
	for sc.Scan() {
		ld, err := um.UnmarshalLogs(sc.Bytes())
		if err != nil {
			// The file exporter may be mid-line; read again later.
			return out
		}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					out = append(out, storedEvent{
						resource: res,
						body:     lr.Body().AsRaw(),
						fields:   lr.Attributes().AsRaw(),
						time:     lr.Timestamp().AsTime(),
					})
				}
			}
		}
	}
	return out
}

type storedEvent struct {
	resource map[string]any
	body     any
	fields   map[string]any
	time     time.Time
}

func (s storedEvent) id() string {
	m, _ := s.body.(map[string]any)
	ev, _ := m["event"].(map[string]any)
	id, _ := ev["id"].(string)
	return id
}

// goldenRecords is every catalog case through the enricher, plus records
// that use the per-record routing attributes.
func goldenRecords(t *testing.T) plog.Logs {
	t.Helper()
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{IncludeOriginal: true})
	if err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "otelcol-intune")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i, c := range eventgen.CatalogCases(cat) {
		ev := eventgen.Event(cat, c, i)
		lr := lrs.AppendEmpty()
		en.Enrich(&ev, lr)
		switch i % 7 {
		case 3:
			lr.Attributes().PutStr(mapping.AttrSplunkIndex, "intune_audit")
		case 5:
			lr.Attributes().PutStr(mapping.AttrSplunkSource, "ndes-export")
			lr.Attributes().PutStr(mapping.AttrSplunkSourcetype, "intune:connector:replay")
		}
	}
	return ld
}

func TestPeerStoresWhatWasSent(t *testing.T) {
	bin := peerBinary(t)
	tests := []struct {
		name string
		ack  bool
		gzip bool
	}{
		{name: "gzip", gzip: true},
		{name: "plain_with_ack", ack: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPeer(t, bin)
			te := newTestExporterURL(t, p.url, func(c *Config) {
				c.Index = "intune"
				c.Ack.Enabled = tt.ack
				c.Ack.PollInterval = 20 * time.Millisecond
				c.Ack.Timeout = 20 * time.Second
				c.MaxContentLength = 32 << 10 // several requests
				c.MaxEventSize = 16 << 10
				if !tt.gzip {
					c.ClientConfig.Compression = "none"
				}
			})
			ld := goldenRecords(t)
			// The exact bytes sent, by event.id.
			sent := map[string]map[string]any{}
			eb := &encoded{}
			te.enc.encode(ld, eb)
			for i := 0; i < eb.len(); i++ {
				var m map[string]any
				if err := json.Unmarshal(eb.event(i), &m); err != nil {
					t.Fatal(err)
				}
				sent[m["event"].(map[string]any)["event"].(map[string]any)["id"].(string)] = m
			}
			if len(sent) != ld.LogRecordCount() {
				t.Fatalf("%d distinct event ids for %d records", len(sent), ld.LogRecordCount())
			}
			if err := te.pushLogs(context.Background(), ld); err != nil {
				t.Fatalf("push to the peer: %v", err)
			}
			if n := te.counter(t, "otelcol_intune_hec_events_delivered"); n != int64(len(sent)) {
				t.Fatalf("delivered %d of %d", n, len(sent))
			}
			if tt.ack {
				if n := te.counter(t, "otelcol_intune_hec_events_retried"); n != 0 {
					t.Fatalf("%d events resent: the peer's acknowledgements were not understood", n)
				}
				// Acknowledged through ackIds the peer issued, not counted
				// as delivered for want of them.
				m, err := te.tel.GetMetric("otelcol_intune_hec_ack_latency")
				if err != nil {
					t.Fatalf("no acknowledgement was observed: %v", err)
				}
				if h := m.Data.(metricdata.Histogram[float64]); h.DataPoints[0].Count < 2 {
					t.Fatalf("%d acknowledgements observed for several requests", h.DataPoints[0].Count)
				}
			}
			var got []storedEvent
			deadline := time.Now().Add(20 * time.Second)
			for len(got) < len(sent) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				got = p.stored(t)
			}
			if len(got) != len(sent) {
				t.Fatalf("the peer stored %d events, %d were sent", len(got), len(sent))
			}
			t.Logf("comparing %d events the peer stored", len(got))
			seen := map[string]bool{}
			for _, s := range got {
				id := s.id()
				want, ok := sent[id]
				if !ok || seen[id] {
					t.Fatalf("peer stored an unknown or repeated event %q", id)
				}
				seen[id] = true
				compareStored(t, id, want, s)
			}
		})
	}
}

// compareStored checks one event the peer stored against the JSON sent:
// the structured event, the index-time fields, host/source/sourcetype/index
// and the time to the microsecond.
func compareStored(t *testing.T, id string, want map[string]any, got storedEvent) {
	t.Helper()
	if !reflect.DeepEqual(got.body, want["event"]) {
		a, _ := json.Marshal(got.body)
		b, _ := json.Marshal(want["event"])
		t.Fatalf("event %s: stored event differs\n got %s\nwant %s", id, a, b)
	}
	if !reflect.DeepEqual(got.fields, want["fields"]) {
		t.Fatalf("event %s: stored fields %v, sent %v", id, got.fields, want["fields"])
	}
	for k, attr := range map[string]string{"host": "host.name", "source": "com.splunk.source", "sourcetype": "com.splunk.sourcetype", "index": "com.splunk.index"} {
		if got.resource[attr] != want[k] {
			t.Fatalf("event %s: %s stored as %v, sent %v", id, k, got.resource[attr], want[k])
		}
	}
	sentTime := want["time"].(float64)
	if d := math.Abs(float64(got.time.UnixNano())/1e9 - sentTime); d > 2e-6 {
		t.Fatalf("event %s: time stored %s, sent %f (off by %gs)", id, got.time, sentTime, d)
	}
}
