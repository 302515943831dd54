//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// dataStream is where the intune_elasticsearch exporter writes with its
// default data_stream settings.
const dataStream = "logs-intune_connector.events-default"

// esServer is the bulk test server running as its own process.
type esServer struct {
	*proc
	url string
}

// startES runs esbulkserver on addr (a fixed address, so that a test can
// start it after the collector) with extra flags.
func startES(t *testing.T, bin, logDir, addr string, flags ...string) *esServer {
	t.Helper()
	args := append([]string{"-addr", addr}, flags...)
	p := startProc(t, "esbulkserver", logDir, logDir, nil, bin, args...)
	p.waitLog("listening on http://", 30*time.Second)
	return &esServer{proc: p, url: "http://" + addr}
}

// esStats mirrors esbulktest.Stats.
type esStats struct {
	Requests     int64 `json:"requests"`
	BulkRequests int64 `json:"bulk_requests"`
	Items        int64 `json:"items"`
	Created      int64 `json:"created"`
	Conflicts    int64 `json:"conflicts"`
	ItemErrors   int64 `json:"item_errors"`
}

func (s *esServer) stats(t *testing.T) esStats {
	t.Helper()
	var st esStats
	resp, err := http.Get(s.url + "/_esbulktest/stats")
	if err != nil {
		t.Fatalf("bulk test server stats: %v", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("bulk test server stats: %v", err)
	}
	return st
}

type esDoc struct {
	Target string          `json:"target"`
	ID     string          `json:"_id"`
	Source json.RawMessage `json:"_source"`
}

// docs returns the documents stored in target, in the order created.
func (s *esServer) docs(t *testing.T, target string) []esDoc {
	t.Helper()
	resp, err := http.Get(s.url + "/_esbulktest/docs/" + target)
	if err != nil {
		t.Fatalf("bulk test server docs: %v", err)
	}
	defer resp.Body.Close()
	var out []esDoc
	dec := json.NewDecoder(bufio.NewReaderSize(resp.Body, 1<<20))
	for {
		var d esDoc
		if err := dec.Decode(&d); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("bulk test server docs: %v", err)
		}
		out = append(out, d)
	}
}

// hecPeerProc is the contrib splunk_hec receiver (with its ack extension)
// writing what it accepted to a file as length-prefixed OTLP protobuf.
type hecPeerProc struct {
	*proc
	url, out string
}

func startHECPeer(t *testing.T, bin, logDir string) *hecPeerProc {
	t.Helper()
	addr := freeAddr(t)
	out := filepath.Join(logDir, "hec-received.pb")
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
    format: proto
    flush_interval: 100ms
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
`, addr, out)
	confPath := filepath.Join(logDir, "hecpeer.yaml")
	writeFile(t, confPath, conf)
	p := startProc(t, "hecpeer", logDir, logDir, nil, bin, "--config", "file:"+confPath)
	h := &hecPeerProc{proc: p, url: "http://" + addr, out: out}
	waitFor(t, 30*time.Second, "the HEC peer to answer its health check", func() bool {
		p.alive()
		resp, err := http.Get(h.url + "/services/collector/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return h
}

// hecEvent is one event as the peer stored it.
type hecEvent struct {
	resource map[string]any
	event    map[string]any // the HEC "event" object (the log body)
	fields   map[string]any // index-time fields (the log attributes)
	time     time.Time
}

func (e hecEvent) id() string {
	ev, _ := e.event["event"].(map[string]any)
	id, _ := ev["id"].(string)
	return id
}

// received reads everything the peer has written so far; a record the
// file exporter is still writing is left out.
func (h *hecPeerProc) received(t *testing.T, each func(hecEvent)) {
	t.Helper()
	h.read(t, 0, each)
}

// read calls each for every event in the complete records from byte
// offset from on, and returns the offset after the last complete record.
func (h *hecPeerProc) read(t *testing.T, from int64, each func(hecEvent)) int64 {
	t.Helper()
	f, err := os.Open(h.out)
	if errors.Is(err, os.ErrNotExist) {
		return from
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var um plog.ProtoUnmarshaler
	var size [4]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, size[:]); err != nil {
			return from
		}
		n := binary.BigEndian.Uint32(size[:])
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return from
		}
		from += 4 + int64(n)
		ld, err := um.UnmarshalLogs(buf)
		if err != nil {
			t.Fatalf("HEC peer output: %v", err)
		}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					ev, _ := lr.Body().AsRaw().(map[string]any)
					each(hecEvent{resource: res, event: ev, fields: lr.Attributes().AsRaw(), time: lr.Timestamp().AsTime()})
				}
			}
		}
	}
}

// idCounter counts the events the peer stored by event.id, reading only
// what was added since its last call.
type idCounter struct {
	peer   *hecPeerProc
	offset int64
	ids    map[string]int
	total  int
}

func (c *idCounter) update(t *testing.T) int {
	t.Helper()
	if c.ids == nil {
		c.ids = map[string]int{}
	}
	c.offset = c.peer.read(t, c.offset, func(e hecEvent) { c.ids[e.id()]++; c.total++ })
	return c.total
}

// receivedCount is the number of events the peer stored.
func (h *hecPeerProc) receivedCount(t *testing.T) int {
	t.Helper()
	n := 0
	h.received(t, func(hecEvent) { n++ })
	return n
}

// metrics scrapes a Prometheus endpoint and returns samples by their
// series name with labels, e.g. `x_total{format="xml"}`, with any _total
// suffix removed so the names match the instrument names.
func metrics(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[metricKey(line[:i])] = v
	}
	return out
}

var otelLabels = regexp.MustCompile(`,?otel_scope_[a-z_]+="[^"]*"`)

// metricKey drops the _total suffix and the otel_scope_* labels some
// exporter versions add.
func metricKey(series string) string {
	name, labels, _ := strings.Cut(series, "{")
	name = strings.TrimSuffix(name, "_total")
	if labels == "" {
		return name
	}
	labels = otelLabels.ReplaceAllString("{"+labels, "")
	labels = strings.Replace(labels, "{,", "{", 1)
	if labels == "{}" {
		return name
	}
	return name + labels
}

// sum adds the samples of a metric over all label sets.
func sum(m map[string]float64, name string) float64 {
	var s float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			s += v
		}
	}
	return s
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// lines counts the complete lines of a file (0 when it does not exist).
func lines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}
