//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	// The otlp_grpc exporter compresses with gzip by default.
	_ "google.golang.org/grpc/encoding/gzip"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// The metric names as sent over OTLP and as Prometheus shows them.
const (
	metricEvents    = "intune.connector.events"
	metricSinceLast = "intune.connector.time_since_last_event"
	promEvents      = "intune_connector_events_total"
	promSinceLast   = "intune_connector_time_since_last_event_seconds"
)

// eventDims are the attributes intune.connector.events groups by.
var eventDims = []string{
	mapping.AttrEventAction, mapping.AttrEventCode, mapping.AttrEventOutcome, mapping.AttrIntuneCategory,
	mapping.AttrIntuneDiagCode, mapping.AttrHostName, mapping.AttrIntuneCA, mapping.AttrIntuneTemplate,
}

// TestMetricsFromSamples runs config/metrics.yaml with the intune_connector
// receiver on the sample exports in place of the OTLP receiver (what the
// README shows for a single collector), an OTLP peer in this process and
// the Prometheus endpoint. The counts per attribute set and the age of each
// host and channel's latest event must equal what the mapping package makes
// of the same files here, over OTLP and at the scrape; and the age must
// grow while nothing arrives.
func TestMetricsFromSamples(t *testing.T) {
	t.Parallel()
	collector, _ := binaries(t)
	root := moduleRoot(t)
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(root, "testdata", "samples", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	wantCounts, wantLatest := expectMetrics(t, files...)
	total := 0
	for _, n := range wantCounts {
		total += int(n)
	}
	if total != sampleEvents {
		t.Fatalf("the samples hold %d events, want %d", total, sampleEvents)
	}
	var withCA, withTemplate int
	for k := range wantCounts {
		if strings.Contains(k, mapping.AttrIntuneCA+"=") {
			withCA++
		}
		if strings.Contains(k, mapping.AttrIntuneTemplate+"=") {
			withTemplate++
		}
	}
	if withCA == 0 || withTemplate == 0 {
		t.Fatalf("the samples have %d attribute sets with a CA and %d with a template; the test needs both", withCA, withTemplate)
	}
	t.Logf("expecting %d attribute sets (%d with a CA, %d with a template) and %d host/channel pairs", len(wantCounts), withCA, withTemplate, len(wantLatest))

	peer := startOTLPMetricsPeer(t)
	promAddr := freeAddr(t)
	overlay := filepath.Join(dir, "samples.yaml")
	writeFile(t, overlay, fmt.Sprintf(`receivers:
  intune_connector/samples:
    include: [%q]
    start_at: beginning
    poll_interval: 500ms
connectors:
  intune_metrics:
    interval: 1s
service:
  pipelines:
    logs/metrics:
      receivers: [intune_connector/samples]
  telemetry:
    metrics:
      level: none
`, filepath.Join(root, "testdata", "samples", "*")))
	env := []string{
		"METRICS_OTLP_ENDPOINT=" + peer.addr, "METRICS_OTLP_INSECURE=true",
		"METRICS_PROMETHEUS_ENDPOINT=" + promAddr,
	}
	c := startProc(t, "collector", dir, root, env, collector,
		"--config", filepath.Join(root, "config", "metrics.yaml"), "--config", overlay)

	waitSettled(t, 90*time.Second, 3*time.Second, "the events counted over OTLP", sampleEvents, func() int {
		c.alive()
		return int(peer.total())
	})

	// Over OTLP: every attribute set and its count.
	got := peer.counts()
	if !maps.Equal(got, wantCounts) {
		for _, k := range slices.Sorted(maps.Keys(wantCounts)) {
			if got[k] != wantCounts[k] {
				t.Errorf("{%s}: %d, want %d", k, got[k], wantCounts[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(got)) {
			if _, ok := wantCounts[k]; !ok {
				t.Errorf("{%s}: %d, want no such series", k, got[k])
			}
		}
	}
	if others := peer.otherMetrics(); len(others) > 0 {
		t.Errorf("unexpected metrics: %v", others)
	}

	// The age: exactly the send time minus the latest event's own time,
	// and growing from one send to the next, as nothing new arrives.
	n := peer.exportCount()
	waitFor(t, 30*time.Second, "two more sends", func() bool { c.alive(); return peer.exportCount() >= n+2 })
	ages := peer.ages()
	if !slices.Equal(slices.Sorted(maps.Keys(ages)), slices.Sorted(maps.Keys(wantLatest))) {
		t.Fatalf("%s series %q, want %q", metricSinceLast, slices.Sorted(maps.Keys(ages)), slices.Sorted(maps.Keys(wantLatest)))
	}
	for k, pts := range ages {
		if len(pts) < 2 {
			t.Errorf("{%s}: %d points, want at least two", k, len(pts))
			continue
		}
		for _, p := range pts {
			want := p.ts.Sub(wantLatest[k]).Seconds()
			if math.Abs(p.value-want) > 1e-6 {
				t.Errorf("{%s} at %s: %.6f s, want %.6f s (since %s)", k, p.ts.Format(time.RFC3339Nano), p.value, want, wantLatest[k].Format(time.RFC3339Nano))
			}
		}
		a, b := pts[len(pts)-2], pts[len(pts)-1]
		if !(b.value > a.value) {
			t.Errorf("{%s}: %.3f s then %.3f s; want it to grow while nothing arrives", k, a.value, b.value)
		}
	}

	// At the Prometheus endpoint: the same counts under the translated
	// names, and an age for every host and channel.
	fams := scrape(t, "http://"+promAddr+"/metrics")
	promCounts := map[string]int64{}
	for _, m := range fams[promEvents].GetMetric() {
		promCounts[labelKey(m.GetLabel())] = int64(m.GetCounter().GetValue())
	}
	wantProm := map[string]int64{}
	for k, v := range wantCounts {
		wantProm[promLabels(k)] = v
	}
	if !maps.Equal(promCounts, wantProm) {
		t.Errorf("%s at the scrape:\n got %v\nwant %v", promEvents, promCounts, wantProm)
	}
	wantLatestProm := map[string]time.Time{}
	for k, v := range wantLatest {
		wantLatestProm[promLabels(k)] = v
	}
	scraped := time.Now()
	var promAges []string
	for _, m := range fams[promSinceLast].GetMetric() {
		k := labelKey(m.GetLabel())
		promAges = append(promAges, k)
		latest, ok := wantLatestProm[k]
		if !ok {
			continue
		}
		// The endpoint shows the last value sent: at most an interval old.
		if v, max := m.GetGauge().GetValue(), scraped.Sub(latest).Seconds(); v > max || v < max-10 {
			t.Errorf("%s{%s} = %.3f, want between %.3f and %.3f", promSinceLast, k, v, max-10, max)
		}
	}
	if want := slices.Sorted(maps.Keys(wantLatestProm)); !slices.Equal(slices.Sorted(slices.Values(promAges)), want) {
		t.Errorf("%s series %q, want %q", promSinceLast, slices.Sorted(slices.Values(promAges)), want)
	}
	c.stop(20 * time.Second)
}

// expectMetrics reads every event of the files and enriches it with the
// mapping package, as the receiver does, then counts the records by the
// attributes the connector groups by and finds each host and channel's
// latest event time.
func expectMetrics(t *testing.T, files ...string) (counts map[string]int64, latest map[string]time.Time) {
	t.Helper()
	en, err := mapping.NewEnricher(mapping.MustDefault(), mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	counts, latest = map[string]int64{}, map[string]time.Time{}
	for _, path := range files {
		eachEvent(t, path, func(ev *wineventlog.Event) {
			lr := plog.NewLogRecord()
			en.Enrich(ev, lr)
			dims := map[string]string{}
			for _, k := range eventDims {
				if v, ok := lr.Attributes().Get(k); ok && v.AsString() != "" {
					dims[k] = v.AsString()
				}
			}
			counts[attrKey(dims)]++
			ch := map[string]string{}
			for _, k := range []string{mapping.AttrHostName, mapping.AttrWinlogChannel} {
				if v, ok := lr.Attributes().Get(k); ok && v.Str() != "" {
					ch[k] = v.Str()
				}
			}
			key := attrKey(ch)
			if ts := lr.Timestamp().AsTime(); ts.After(latest[key]) {
				latest[key] = ts
			}
		})
	}
	return counts, latest
}

// attrKey writes an attribute set as sorted k=v pairs, one per line.
func attrKey(m map[string]string) string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return strings.Join(kv, "\n")
}

// promLabels rewrites an attrKey as Prometheus labels: the dots of the
// attribute names become underscores; the values stay as they are.
func promLabels(key string) string {
	m := map[string]string{}
	for _, kv := range strings.Split(key, "\n") {
		k, v, _ := strings.Cut(kv, "=")
		m[strings.ReplaceAll(k, ".", "_")] = v
	}
	return attrKey(m)
}

func labelKey(ls []*dto.LabelPair) string {
	m := map[string]string{}
	for _, l := range ls {
		m[l.GetName()] = l.GetValue()
	}
	return attrKey(m)
}

func pointAttrs(m pcommon.Map) string {
	out := map[string]string{}
	for k, v := range m.All() {
		out[k] = v.AsString()
	}
	return attrKey(out)
}

// otlpMetricsPeer is an OTLP/gRPC metrics endpoint that keeps, per series,
// the latest count and every age it was sent.
type otlpMetricsPeer struct {
	pmetricotlp.UnimplementedGRPCServer
	addr string

	mu      sync.Mutex
	exports int
	count   map[string]timedValue
	age     map[string][]timedValue
	others  map[string]bool
}

type timedValue struct {
	ts    time.Time
	value float64
}

func startOTLPMetricsPeer(t *testing.T) *otlpMetricsPeer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &otlpMetricsPeer{addr: l.Addr().String(), count: map[string]timedValue{}, age: map[string][]timedValue{}, others: map[string]bool{}}
	s := grpc.NewServer()
	pmetricotlp.RegisterGRPCServer(s, p)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return p
}

func (p *otlpMetricsPeer) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exports++
	for _, rm := range req.Metrics().ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				switch {
				case m.Name() == metricEvents && m.Type() == pmetric.MetricTypeSum &&
					m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityCumulative:
					for _, dp := range m.Sum().DataPoints().All() {
						k, ts := pointAttrs(dp.Attributes()), dp.Timestamp().AsTime()
						if !ts.Before(p.count[k].ts) {
							p.count[k] = timedValue{ts, float64(dp.IntValue())}
						}
					}
				case m.Name() == metricSinceLast && m.Type() == pmetric.MetricTypeGauge:
					for _, dp := range m.Gauge().DataPoints().All() {
						k := pointAttrs(dp.Attributes())
						p.age[k] = append(p.age[k], timedValue{dp.Timestamp().AsTime(), dp.DoubleValue()})
					}
				default:
					p.others[fmt.Sprintf("%s (%s)", m.Name(), m.Type())] = true
				}
			}
		}
	}
	return pmetricotlp.NewExportResponse(), nil
}

func (p *otlpMetricsPeer) exportCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exports
}

func (p *otlpMetricsPeer) total() int64 {
	var n int64
	for _, v := range p.counts() {
		n += v
	}
	return n
}

func (p *otlpMetricsPeer) counts() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int64{}
	for k, v := range p.count {
		out[k] = int64(v.value)
	}
	return out
}

// ages returns each series' points in time order.
func (p *otlpMetricsPeer) ages() map[string][]timedValue {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]timedValue{}
	for k, v := range p.age {
		pts := slices.Clone(v)
		slices.SortFunc(pts, func(a, b timedValue) int { return a.ts.Compare(b.ts) })
		out[k] = pts
	}
	return out
}

func (p *otlpMetricsPeer) otherMetrics() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.others))
}

// scrape reads a Prometheus text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return fams
}

// TestMetricsOverOTLP runs the shipped config/metrics.yaml as a gateway
// would: records arrive at its OTLP receiver. Every sample event comes
// enriched, as our agents send them; the events of the XML samples come
// once more as raw event XML, as another collector's windowseventlog
// receiver (raw: true) sends them, for intune_enrich to enrich; and a
// record of another application comes along, which is not counted. The
// counts per attribute set must be the sum of what the mapping makes of
// both.
func TestMetricsOverOTLP(t *testing.T) {
	t.Parallel()
	collector, _ := binaries(t)
	root := moduleRoot(t)
	dir := t.TempDir()
	samples := filepath.Join(root, "testdata", "samples")
	all, err := filepath.Glob(filepath.Join(samples, "*"))
	if err != nil || len(all) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	rawFiles := []string{filepath.Join(samples, "current-admin.wevtutil.xml"), filepath.Join(samples, "legacy.eventviewer.xml")}
	want, _ := expectMetrics(t, all...)
	rawWant, _ := expectMetrics(t, rawFiles...)
	for k, n := range rawWant {
		want[k] += n
	}
	var total int64
	for _, n := range want {
		total += n
	}

	peer := startOTLPMetricsPeer(t)
	otlpAddr := freeAddr(t)
	overlay := filepath.Join(dir, "otlp.yaml")
	writeFile(t, overlay, fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
connectors:
  intune_metrics:
    interval: 1s
exporters:
  prometheus/metrics:
    endpoint: %s
service:
  telemetry:
    metrics:
      level: none
`, otlpAddr, freeAddr(t)))
	c := startProc(t, "collector", dir, root,
		[]string{"METRICS_OTLP_ENDPOINT=" + peer.addr, "METRICS_OTLP_INSECURE=true"}, collector,
		"--config", filepath.Join(root, "config", "metrics.yaml"), "--config", overlay)

	conn, err := grpc.NewClient(otlpAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := plogotlp.NewGRPCClient(conn)
	en, err := mapping.NewEnricher(mapping.MustDefault(), mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var batches []plog.Logs
	add := func() plog.LogRecordSlice {
		if len(batches) == 0 || batches[len(batches)-1].LogRecordCount() >= 500 {
			ld := plog.NewLogs()
			ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
			batches = append(batches, ld)
		}
		return batches[len(batches)-1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	}
	for _, path := range all {
		eachEvent(t, path, func(ev *wineventlog.Event) { en.Enrich(ev, add().AppendEmpty()) })
	}
	for _, path := range rawFiles {
		eachEventWithOriginal(t, path, func(ev *wineventlog.Event) {
			if !strings.HasPrefix(ev.Original, "<Event") {
				t.Fatalf("%s: an event's original text is not event XML: %.40q", path, ev.Original)
			}
			add().AppendEmpty().Body().SetStr(ev.Original)
		})
	}
	add().AppendEmpty().Body().SetStr("GET /healthz 200 another application's log line")

	for _, ld := range batches {
		// The receiver may not listen yet right after the start.
		waitFor(t, 30*time.Second, "the OTLP receiver to take a batch", func() bool {
			c.alive()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
			return err == nil
		})
	}
	waitSettled(t, 90*time.Second, 3*time.Second, "the events counted over OTLP", int(total), func() int {
		c.alive()
		return int(peer.total())
	})
	if got := peer.counts(); !maps.Equal(got, want) {
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Errorf("{%s}: %d, want %d", k, got[k], want[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(got)) {
			if _, ok := want[k]; !ok {
				t.Errorf("{%s}: %d, want no such series", k, got[k])
			}
		}
	}
	c.stop(20 * time.Second)
}

// eachEventWithOriginal is eachEvent with the event's original text kept.
func eachEventWithOriginal(t *testing.T, path string, fn func(*wineventlog.Event)) {
	t.Helper()
	f, err := eventfile.Open(path, eventfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fn(&rec.Event)
	}
}
