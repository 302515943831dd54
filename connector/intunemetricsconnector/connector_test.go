package intunemetricsconnector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-intune/otelcol-intune/connector/intunemetricsconnector/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the test clock's start.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// record is one log record to feed in: its attributes, and its time.
type record struct {
	attrs map[string]any
	ts    time.Time
}

// pkcsFailure is a legacy PKCS failure as the mapping enriches it.
func pkcsFailure(host string) map[string]any {
	return map[string]any{
		mapping.AttrEventAction: "PkcsCertIssue_Failure", mapping.AttrEventCode: "20102",
		mapping.AttrEventOutcome: "failure", mapping.AttrIntuneCategory: "pkcs_issue",
		mapping.AttrIntuneDiagCode: "0x00000400", mapping.AttrHostName: host,
		mapping.AttrIntuneCA: `ca01.example.com\Issuing CA`, mapping.AttrIntuneTemplate: "WiFi",
		mapping.AttrWinlogChannel: "Microsoft Intune Connector", mapping.AttrIntuneEnrichmentVersion: mapping.EnrichmentVersion,
		mapping.AttrLogLevel: "error", mapping.AttrEventSeverity: 4, // attributes the metrics ignore
	}
}

// scepVerify is a current-connector SCEP success without CA or template.
func scepVerify(host string) map[string]any {
	return map[string]any{
		mapping.AttrEventAction: "ScepVerifySuccess", mapping.AttrEventCode: "4004",
		mapping.AttrEventOutcome: "success", mapping.AttrIntuneCategory: "scep", mapping.AttrHostName: host,
		mapping.AttrWinlogChannel:           "Microsoft-Intune-CertificateConnectors/Operational",
		mapping.AttrIntuneEnrichmentVersion: mapping.EnrichmentVersion,
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func logsOf(t *testing.T, resource map[string]any, recs ...record) plog.Logs {
	t.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if err := rl.Resource().Attributes().FromRaw(resource); err != nil {
		t.Fatal(err)
	}
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, r := range recs {
		lr := lrs.AppendEmpty()
		if err := lr.Attributes().FromRaw(r.attrs); err != nil {
			t.Fatal(err)
		}
		if !r.ts.IsZero() {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(r.ts))
		}
	}
	return ld
}

// point is one data point, read back.
type point struct {
	value float64
	start time.Time
}

// points returns the data points of a metric by their attributes written
// as sorted k=v pairs.
func points(t *testing.T, md pmetric.Metrics, name string) map[string]point {
	t.Helper()
	out := map[string]point{}
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			if sm.Scope().Name() != metadata.ScopeName {
				t.Errorf("scope %q, want %q", sm.Scope().Name(), metadata.ScopeName)
			}
			for _, m := range sm.Metrics().All() {
				if m.Name() != name {
					continue
				}
				var dps pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeSum:
					if !m.Sum().IsMonotonic() || m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
						t.Errorf("%s is not a cumulative monotonic sum", name)
					}
					dps = m.Sum().DataPoints()
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				default:
					t.Fatalf("%s has type %s", name, m.Type())
				}
				for _, dp := range dps.All() {
					k := attrString(dp.Attributes())
					if _, dup := out[k]; dup {
						t.Errorf("%s: two points for {%s}", name, k)
					}
					v := dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						v = float64(dp.IntValue())
					}
					out[k] = point{v, dp.StartTimestamp().AsTime()}
				}
			}
		}
	}
	return out
}

func attrString(m pcommon.Map) string {
	var kv []string
	for k, v := range m.All() {
		kv = append(kv, k+"="+v.AsString())
	}
	slices.Sort(kv)
	return strings.Join(kv, ",")
}

func values(p map[string]point) map[string]float64 {
	out := map[string]float64{}
	for k, v := range p {
		out[k] = v.value
	}
	return out
}

type harness struct {
	c     *metricsConnector
	sink  *consumertest.MetricsSink
	clock *clock
	logs  *observer.ObservedLogs
}

func newHarness(t *testing.T, cfg *Config) *harness {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	set := componenttest.NewNopTelemetrySettings()
	set.Logger = zap.New(core)
	sink := &consumertest.MetricsSink{}
	c, err := newConnector(set, "test", cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: t0}
	c.now = clk.Now
	return &harness{c: c, sink: sink, clock: clk, logs: logs}
}

func (h *harness) consume(t *testing.T, ld plog.Logs) {
	t.Helper()
	if err := h.c.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
}

// sendNow sends as the ticker would and returns what arrived, or an empty
// Metrics when nothing was sent.
func (h *harness) sendNow(t *testing.T) pmetric.Metrics {
	t.Helper()
	before := len(h.sink.AllMetrics())
	h.c.send(context.Background())
	all := h.sink.AllMetrics()
	if len(all) == before {
		return pmetric.NewMetrics()
	}
	return all[len(all)-1]
}

func defaultConfig() *Config { return createDefaultConfig().(*Config) }

func TestCountsByAttributes(t *testing.T) {
	const (
		legacyCh = "channel=Microsoft Intune Connector"
		opCh     = "channel=Microsoft-Intune-CertificateConnectors/Operational"
	)
	pkcsA := "event.action=PkcsCertIssue_Failure,event.code=20102,event.outcome=failure,host.name=ndes01,intune.category=pkcs_issue," +
		`intune.certificate.template=WiFi,intune.certificate_authority=ca01.example.com\Issuing CA,intune.diagnostic.code=0x00000400`
	scepA := "event.action=ScepVerifySuccess,event.code=4004,event.outcome=success,host.name=ndes01,intune.category=scep"
	tests := []struct {
		name       string
		resource   map[string]any
		records    []map[string]any
		wantEvents map[string]float64
		// wantChannels lists the gauge's attribute sets.
		wantChannels []string
	}{
		{
			name:         "one attribute set counted twice",
			records:      []map[string]any{pkcsFailure("ndes01"), pkcsFailure("ndes01")},
			wantEvents:   map[string]float64{pkcsA: 2},
			wantChannels: []string{"host.name=ndes01,winlog." + legacyCh},
		},
		{
			name:         "no CA or template: those attributes are left out",
			records:      []map[string]any{scepVerify("ndes01")},
			wantEvents:   map[string]float64{scepA: 1},
			wantChannels: []string{"host.name=ndes01,winlog." + opCh},
		},
		{
			name: "a different diagnostic code or template is its own series",
			records: []map[string]any{
				pkcsFailure("ndes01"),
				with(pkcsFailure("ndes01"), mapping.AttrIntuneDiagCode, "0x00000401"),
				with(pkcsFailure("ndes01"), mapping.AttrIntuneTemplate, "VPN"),
			},
			wantEvents: map[string]float64{
				pkcsA: 1,
				strings.Replace(pkcsA, "0x00000400", "0x00000401", 1):      1,
				strings.Replace(pkcsA, "template=WiFi", "template=VPN", 1): 1,
			},
			wantChannels: []string{"host.name=ndes01,winlog." + legacyCh},
		},
		{
			name: "an event the catalog does not know: no name or category, its ID and outcome unknown",
			records: []map[string]any{{
				mapping.AttrEventCode: "9999", mapping.AttrEventOutcome: "unknown", mapping.AttrHostName: "ndes01",
				mapping.AttrIntuneEnrichmentVersion: mapping.EnrichmentVersion,
			}},
			wantEvents:   map[string]float64{"event.code=9999,event.outcome=unknown,host.name=ndes01": 1},
			wantChannels: []string{"host.name=ndes01"},
		},
		{
			name: "records outside the record contract are not counted",
			records: []map[string]any{
				with(pkcsFailure("ndes01"), mapping.AttrIntuneEnrichmentVersion, nil),
				{"message": "some other log"},
			},
		},
		{
			name:         "host.name from the resource when the record has none",
			resource:     map[string]any{mapping.AttrHostName: "ndes02"},
			records:      []map[string]any{with(scepVerify("x"), mapping.AttrHostName, nil)},
			wantEvents:   map[string]float64{strings.Replace(scepA, "ndes01", "ndes02", 1): 1},
			wantChannels: []string{"host.name=ndes02,winlog." + opCh},
		},
		{
			name:         "the record's host.name wins over the resource's",
			resource:     map[string]any{mapping.AttrHostName: "gateway"},
			records:      []map[string]any{scepVerify("ndes01")},
			wantEvents:   map[string]float64{scepA: 1},
			wantChannels: []string{"host.name=ndes01,winlog." + opCh},
		},
		{
			name:         "hosts and channels are separate series",
			records:      []map[string]any{scepVerify("ndes01"), scepVerify("ndes02"), pkcsFailure("ndes01")},
			wantEvents:   map[string]float64{scepA: 1, strings.Replace(scepA, "ndes01", "ndes02", 1): 1, pkcsA: 1},
			wantChannels: []string{"host.name=ndes01,winlog." + opCh, "host.name=ndes02,winlog." + opCh, "host.name=ndes01,winlog." + legacyCh},
		},
		{
			name:         "a value of another type is counted under its text",
			records:      []map[string]any{with(scepVerify("ndes01"), mapping.AttrEventCode, 4004)},
			wantEvents:   map[string]float64{scepA: 1},
			wantChannels: []string{"host.name=ndes01,winlog." + opCh},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, defaultConfig())
			var recs []record
			for _, a := range tc.records {
				recs = append(recs, record{attrs: a, ts: t0.Add(-time.Minute)})
			}
			h.consume(t, logsOf(t, tc.resource, recs...))
			md := h.sendNow(t)
			if len(tc.wantEvents) == 0 {
				if md.MetricCount() != 0 {
					t.Fatalf("sent %d metrics for records that are not counted, want none", md.MetricCount())
				}
				return
			}
			if got := values(points(t, md, MetricEvents)); !maps.Equal(got, tc.wantEvents) {
				t.Errorf("%s:\n got %v\nwant %v", MetricEvents, got, tc.wantEvents)
			}
			got := slices.Sorted(maps.Keys(points(t, md, MetricSinceLast)))
			want := slices.Sorted(slices.Values(tc.wantChannels))
			if !slices.Equal(got, want) {
				t.Errorf("%s series:\n got %q\nwant %q", MetricSinceLast, got, want)
			}
		})
	}
}

// The sum is cumulative: each send carries the total since the series
// began, with the same start time.
func TestCumulativeAcrossBatches(t *testing.T) {
	h := newHarness(t, defaultConfig())
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01")}))
	first := points(t, h.sendNow(t), MetricEvents)
	h.clock.Add(15 * time.Second)
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01")}, record{attrs: scepVerify("ndes01")}))
	h.clock.Add(15 * time.Second)
	second := points(t, h.sendNow(t), MetricEvents)
	h.clock.Add(15 * time.Second)
	third := points(t, h.sendNow(t), MetricEvents)
	if len(first) != 1 || len(second) != 1 || len(third) != 1 {
		t.Fatalf("series: %v, %v, %v; want one each", first, second, third)
	}
	for k := range first {
		if first[k].value != 1 || second[k].value != 3 || third[k].value != 3 {
			t.Errorf("values %v, %v, %v; want 1, 3, 3 (a send with nothing new repeats the total)", first[k].value, second[k].value, third[k].value)
		}
		if !first[k].start.Equal(t0) || !second[k].start.Equal(t0) {
			t.Errorf("start times %s, %s; want both %s", first[k].start, second[k].start, t0)
		}
	}
}

func TestTimeSinceLastEvent(t *testing.T) {
	key := "host.name=ndes01,winlog.channel=Microsoft-Intune-CertificateConnectors/Operational"
	age := func(h *harness) float64 {
		t.Helper()
		p, ok := points(t, h.sendNow(t), MetricSinceLast)[key]
		if !ok {
			t.Fatalf("no %s point for {%s}", MetricSinceLast, key)
		}
		return p.value
	}
	h := newHarness(t, defaultConfig())
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01"), ts: t0.Add(-10 * time.Second)}))
	steps := []struct {
		name string
		do   func()
		want float64
	}{
		{"the event's own time counts", func() {}, 10},
		{"grows while nothing arrives", func() { h.clock.Add(50 * time.Second) }, 60},
		{"keeps growing", func() { h.clock.Add(time.Hour) }, 3660},
		{"an older event read late does not make the host look fresher", func() {
			h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01"), ts: t0.Add(-time.Hour)}))
		}, 3660},
		{"a newer event resets it", func() {
			h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01"), ts: h.clock.Now().Add(-2 * time.Second)}))
		}, 2},
		{"an event stamped in the future (host clock ahead) counts as now, not as a negative age", func() {
			h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01"), ts: h.clock.Now().Add(time.Hour)}))
		}, 0},
		{"a record without a time counts as arriving now", func() {
			h.clock.Add(30 * time.Second)
			h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01")}))
			h.clock.Add(5 * time.Second)
		}, 5},
	}
	for _, s := range steps {
		s.do()
		if got := age(h); got != s.want {
			t.Errorf("%s: %g s, want %g s", s.name, got, s.want)
		}
	}
}

// Beyond max_series, new attribute sets go to one overflow series: every
// event is still counted, memory stays bounded, and the log says so once.
func TestMaxSeriesOverflow(t *testing.T) {
	cfg := defaultConfig()
	cfg.MaxSeries = 2
	h := newHarness(t, cfg)
	for i := range 5 {
		h.consume(t, logsOf(t, nil, record{attrs: scepVerify(fmt.Sprintf("host%d", i))}, record{attrs: scepVerify(fmt.Sprintf("host%d", i))}))
	}
	md := h.sendNow(t)
	for _, name := range []string{MetricEvents, MetricSinceLast} {
		pts := points(t, md, name)
		if len(pts) != 3 {
			t.Errorf("%s: %d series, want 2 and the overflow series: %v", name, len(pts), values(pts))
		}
		over, ok := pts[AttrOverflow+"=true"]
		if !ok {
			t.Errorf("%s: no series with only %s=true: %v", name, AttrOverflow, values(pts))
		}
		if name == MetricEvents {
			total := 0.0
			for _, p := range pts {
				total += p.value
			}
			if total != 10 || over.value != 6 {
				t.Errorf("%s: total %g, overflow %g; want 10 and 6 (three hosts past the limit, two events each)", name, total, over.value)
			}
		}
	}
	if n := h.logs.FilterMessageSnippet("max_series reached").Len(); n != 1 {
		t.Errorf("%d warnings about max_series, want 1", n)
	}
}

func TestExpireAfter(t *testing.T) {
	cfg := defaultConfig()
	cfg.ExpireAfter = time.Hour
	h := newHarness(t, cfg)
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("old")}))
	h.clock.Add(45 * time.Minute)
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("new")}))
	h.clock.Add(30 * time.Minute)
	md := h.sendNow(t)
	for _, name := range []string{MetricEvents, MetricSinceLast} {
		var hosts []string
		for k := range points(t, md, name) {
			if strings.Contains(k, "host.name=old") {
				hosts = append(hosts, "old")
			}
			if strings.Contains(k, "host.name=new") {
				hosts = append(hosts, "new")
			}
		}
		if !slices.Equal(hosts, []string{"new"}) {
			t.Errorf("%s: hosts %v after 75 minutes, want only the one seen 30 minutes ago", name, hosts)
		}
	}
	// A series that comes back starts again: a reset, not a jump.
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("old")}))
	for k, p := range points(t, h.sendNow(t), MetricEvents) {
		if strings.Contains(k, "host.name=old") && (p.value != 1 || !p.start.Equal(h.clock.Now())) {
			t.Errorf("the returning series: %g from %s, want 1 from %s", p.value, p.start, h.clock.Now())
		}
	}
	h.clock.Add(2 * time.Hour)
	if md := h.sendNow(t); md.MetricCount() != 0 {
		t.Errorf("everything expired, but %d metrics were sent", md.MetricCount())
	}
}

// A refused send loses nothing: the next one carries the totals. The
// failure is logged once, and so is the recovery.
func TestRefusedSendLosesNothing(t *testing.T) {
	h := newHarness(t, defaultConfig())
	refusing := true
	next := &switchable{refuse: func() bool { return refusing }, sink: h.sink}
	h.c.next = next
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01")}))
	h.c.send(context.Background())
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01")}))
	h.c.send(context.Background())
	if n := len(h.sink.AllMetrics()); n != 0 {
		t.Fatalf("%d sends arrived while refused", n)
	}
	refusing = false
	md := h.sendNow(t)
	for _, p := range points(t, md, MetricEvents) {
		if p.value != 2 {
			t.Errorf("after the pipeline came back: %g, want 2", p.value)
		}
	}
	if n := h.logs.FilterMessageSnippet("refused the event counts").Len(); n != 1 {
		t.Errorf("%d warnings about refused sends, want 1", n)
	}
	if n := h.logs.FilterMessageSnippet("accepts the event counts again").Len(); n != 1 {
		t.Errorf("%d notes about the recovery, want 1", n)
	}
}

type switchable struct {
	consumertest.MetricsSink
	refuse func() bool
	sink   *consumertest.MetricsSink
}

func (s *switchable) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if s.refuse() {
		return errors.New("queue is full")
	}
	return s.sink.ConsumeMetrics(ctx, md)
}

func TestNothingSentBeforeTheFirstEvent(t *testing.T) {
	h := newHarness(t, defaultConfig())
	h.c.send(context.Background())
	if n := len(h.sink.AllMetrics()); n != 0 {
		t.Errorf("%d sends with no events counted, want none", n)
	}
}
