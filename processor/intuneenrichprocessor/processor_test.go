package intuneenrichprocessor

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/goleak"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/schemacheck"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type shape struct {
	name string
	body func(ev *wineventlog.Event) pcommon.Value
}

func strBody(s string) pcommon.Value { return pcommon.NewValueStr(s) }

func mapBody(m map[string]any) pcommon.Value {
	v := pcommon.NewValueMap()
	if err := v.Map().FromRaw(m); err != nil {
		panic(err)
	}
	return v
}

var shapes = []shape{
	{"windowseventlog-v0.130", func(ev *wineventlog.Event) pcommon.Value { return contribBody(ev, contribReleases[0]) }},
	{"windowseventlog-v0.149", func(ev *wineventlog.Event) pcommon.Value { return contribBody(ev, contribReleases[1]) }},
	{"windowseventlog-v0.165-map", func(ev *wineventlog.Event) pcommon.Value { return contribBody(ev, contribReleases[2]) }},
	{"windowseventlog-v0.165-array", func(ev *wineventlog.Event) pcommon.Value { return contribBody(ev, contribReleases[3]) }},
	{"windowseventlog-raw-xml", func(ev *wineventlog.Event) pcommon.Value {
		return strBody(string(wineventlog.AppendEventXML(nil, ev, wineventlog.XMLRendered)))
	}},
	{"filelog-wevtutil-line", func(ev *wineventlog.Event) pcommon.Value {
		return strBody(string(wineventlog.AppendEventXML(nil, ev, wineventlog.XMLLine)))
	}},
	{"filelog-powershell-json-line", func(ev *wineventlog.Event) pcommon.Value {
		return strBody(string(wineventlog.AppendEventJSON(nil, ev, wineventlog.PSCompress)))
	}},
}

func newTestProcessor(t testing.TB, cfg *Config) (*consumertest.LogsSink, func(plog.Logs)) {
	t.Helper()
	sink := new(consumertest.LogsSink)
	f := NewFactory()
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return sink, func(ld plog.Logs) {
		if err := p.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
	}
}

func logsWith(bodies ...pcommon.Value) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, b := range bodies {
		lr := lrs.AppendEmpty()
		b.CopyTo(lr.Body())
		lr.SetObservedTimestamp(pcommon.Timestamp(1))
	}
	return ld
}

func records(sink *consumertest.LogsSink) []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					out = append(out, lrs.At(k))
				}
			}
		}
	}
	return out
}

// TestSameRecordAsReceiver feeds every catalog case through the processor
// in every input shape and compares with what the receiver produces for the
// same event (its decoder and the same enricher). PowerShell JSON lines
// carry no EventData names, so the comparison for them is with the event
// as that format carries it.
func TestSameRecordAsReceiver(t *testing.T) {
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			sink, consume := newTestProcessor(t, createDefaultConfig().(*Config))
			var want []plog.LogRecord
			var bodies []pcommon.Value
			for i, c := range eventgen.CatalogCases(cat) {
				ev := eventgen.Rendered(cat, eventgen.Event(cat, c, i))
				if sh.name == "filelog-wevtutil-line" {
					ev = eventgen.Event(cat, c, i) // wevtutil /f:xml renders nothing
				}
				bodies = append(bodies, sh.body(&ev))
				// What the receiver emits: decode the export, enrich.
				exp := ev
				if sh.name == "filelog-powershell-json-line" {
					exp.TimeCreated = exp.TimeCreated.Truncate(time.Millisecond)
					for j := range exp.EventData {
						exp.EventData[j].Name = ""
					}
				}
				lr := plog.NewLogRecord()
				en.Enrich(&exp, lr)
				want = append(want, lr)
			}
			consume(logsWith(bodies...))
			got := records(sink)
			if len(got) != len(want) {
				t.Fatalf("%d records out, want %d", len(got), len(want))
			}
			for i := range got {
				if !got[i].Attributes().Equal(want[i].Attributes()) {
					t.Fatalf("record %d differs from the receiver's:\n got %v\nwant %v", i, got[i].Attributes().AsRaw(), want[i].Attributes().AsRaw())
				}
				if got[i].Body().Str() != want[i].Body().Str() || got[i].Timestamp() != want[i].Timestamp() ||
					got[i].SeverityNumber() != want[i].SeverityNumber() || got[i].SeverityText() != want[i].SeverityText() {
					t.Fatalf("record %d: body/time/severity differ from the receiver's", i)
				}
				if got[i].ObservedTimestamp() != 1 {
					t.Fatalf("record %d: observed timestamp was not kept", i)
				}
			}
		})
	}
}

// TestGoldenShapes keeps one golden ECS document per input shape, for the
// real current-connector event and a legacy event with a Metric payload.
func TestGoldenShapes(t *testing.T) {
	cat := mapping.MustDefault()
	cases := eventgen.CatalogCases(cat)
	var pick []eventgen.Case
	for _, c := range cases {
		if (c.Entry.ID == 3001) || (c.Entry.ID == 20102 && c.Code == "0x00000400") {
			pick = append(pick, c)
		}
	}
	var buf bytes.Buffer
	for _, sh := range shapes {
		sink, consume := newTestProcessor(t, createDefaultConfig().(*Config))
		for i, c := range pick {
			ev := eventgen.Rendered(cat, eventgen.Event(cat, c, i))
			consume(logsWith(sh.body(&ev)))
		}
		for _, lr := range records(sink) {
			buf.WriteString(sh.name + " ")
			buf.Write(mapping.AppendECS(nil, pcommon.NewResource(), lr, mapping.ECSOptions{}))
			buf.WriteByte('\n')
		}
	}
	path := filepath.Join("testdata", "golden.txt")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("output differs from %s; run go test -run TestGoldenShapes -update and review the diff\n got:\n%s", path, buf.String())
	}
}

func TestForeignRecordsAndIdempotence(t *testing.T) {
	cat := mapping.MustDefault()
	connector := eventgen.Rendered(cat, eventgen.Event(cat, eventgen.CatalogCases(cat)[0], 0))
	security := wineventlog.Event{ProviderName: "Microsoft-Windows-Security-Auditing", EventID: 4624, Channel: "Security",
		Computer: "DC1", Level: 0, TimeCreated: time.Unix(1700000000, 0).UTC()}
	foreign := []pcommon.Value{
		contribBody(&security, contribReleases[2]),
		strBody(string(wineventlog.AppendEventXML(nil, &security, wineventlog.XMLLine))),
		strBody("plain application log line"),
		strBody(`{"level":"info","msg":"an app's JSON log"}`),
		mapBody(map[string]any{"some": "map"}),
	}
	t.Run("pass", func(t *testing.T) {
		sink, consume := newTestProcessor(t, createDefaultConfig().(*Config))
		in := logsWith(append([]pcommon.Value{contribBody(&connector, contribReleases[2])}, foreign...)...)
		orig := plog.NewLogs()
		in.CopyTo(orig)
		consume(in)
		got := records(sink)
		if len(got) != 1+len(foreign) {
			t.Fatalf("%d records, want %d", len(got), 1+len(foreign))
		}
		origRecs := orig.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := 1; i < len(got); i++ {
			if !got[i].Body().Equal(origRecs.At(i).Body()) || got[i].Attributes().Len() != 0 {
				t.Errorf("foreign record %d was changed: %v", i, got[i].Body().AsRaw())
			}
		}
		if v, _ := got[0].Attributes().Get(mapping.AttrEventAction); v.Str() != connector.TaskText && v.Str() == "" {
			t.Errorf("connector record not enriched")
		}
		// Idempotence: the enriched record through the processor again.
		again := plog.NewLogs()
		sink.AllLogs()[0].CopyTo(again)
		before := plog.NewLogs()
		again.CopyTo(before)
		consume(again)
		if !records(sink)[len(got)].Attributes().Equal(before.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()) {
			t.Error("enriching twice changed the record")
		}
	})
	t.Run("drop", func(t *testing.T) {
		sink, consume := newTestProcessor(t, &Config{NonConnector: NonConnectorDrop})
		consume(logsWith(append(foreign, contribBody(&connector, contribReleases[3]))...))
		got := records(sink)
		if len(got) != 1 {
			t.Fatalf("%d records kept, want only the connector event", len(got))
		}
		if _, ok := got[0].Attributes().Get(mapping.AttrIntuneEnrichmentVersion); !ok {
			t.Error("kept record is not enriched")
		}
	})
	t.Run("an all-foreign batch is dropped whole", func(t *testing.T) {
		sink, consume := newTestProcessor(t, &Config{NonConnector: NonConnectorDrop})
		consume(logsWith(foreign...))
		if n := len(records(sink)); n != 0 {
			t.Errorf("%d records kept", n)
		}
	})
}

func TestUnparsableEventKeptUnenriched(t *testing.T) {
	sink, consume := newTestProcessor(t, &Config{NonConnector: NonConnectorDrop})
	broken := "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Intune-CertificateConnectors'/><EventID>3001"
	consume(logsWith(strBody(broken), strBody(`{"Id": 3001, "ProviderName": "Microsoft-Intune-CertificateConnectors", "TimeCreated": `)))
	got := records(sink)
	if len(got) != 2 || got[0].Body().Str() != broken {
		t.Fatalf("damaged events were not kept as they were: %d records", len(got))
	}
}

func BenchmarkProcessor(b *testing.B) {
	cat := mapping.MustDefault()
	evs := eventgen.Stream(cat, 512)
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			bodies := make([]pcommon.Value, len(evs))
			for i := range evs {
				ev := eventgen.Rendered(cat, evs[i])
				bodies[i] = sh.body(&ev)
			}
			sink, consume := newTestProcessor(b, createDefaultConfig().(*Config))
			batches := make([]plog.Logs, 0, 64)
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for n < b.N {
				b.StopTimer()
				batches = batches[:0]
				ld := logsWith(bodies...)
				batches = append(batches, ld)
				b.StartTimer()
				consume(ld)
				n += len(bodies)
				b.StopTimer()
				sink.Reset()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
		})
	}
}

// BenchmarkReceiverEnrichment is the baseline the processor is held to:
// what the receiver spends per event on decoding and enrichment, for the
// same input.
func BenchmarkReceiverEnrichment(b *testing.B) {
	cat := mapping.MustDefault()
	en, _ := mapping.NewEnricher(cat, mapping.Config{})
	evs := eventgen.Stream(cat, 512)
	lines := make([][]byte, len(evs))
	for i := range evs {
		ev := eventgen.Rendered(cat, evs[i])
		lines[i] = wineventlog.AppendEventXML(nil, &ev, wineventlog.XMLRendered)
	}
	lr := plog.NewLogRecord()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev, err := wineventlog.ParseEventXML(lines[i%len(lines)])
		if err != nil {
			b.Fatal(err)
		}
		lr.Attributes().Clear()
		en.Enrich(&ev, lr)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
}

func TestOtherReceiversAttributesKept(t *testing.T) {
	cat := mapping.MustDefault()
	ev := eventgen.Event(cat, eventgen.CatalogCases(cat)[0], 0)
	ld := logsWith(strBody(string(wineventlog.AppendEventXML(nil, &ev, wineventlog.XMLLine))))
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	lr.Attributes().PutStr("log.file.name", "admin.xml")
	lr.Attributes().PutStr(mapping.AttrHostName, "collector-host") // the contract's key wins
	sink, consume := newTestProcessor(t, createDefaultConfig().(*Config))
	consume(ld)
	got := records(sink)[0].Attributes()
	if v, ok := got.Get("log.file.name"); !ok || v.Str() != "admin.xml" {
		t.Errorf("log.file.name lost: %v", got.AsRaw())
	}
	if v, _ := got.Get(mapping.AttrHostName); v.Str() != ev.Computer {
		t.Errorf("host.name = %q, want the event's computer %q", v.Str(), ev.Computer)
	}
	if v, _ := got.Get(mapping.AttrEventAction); v.Str() != "StartedConnectorService" {
		t.Errorf("not enriched: %v", got.AsRaw())
	}
}

// TestGoldenShapesConform checks the processor's golden ECS documents
// against the ECS and Winlogbeat definitions (internal/testsupport/
// schemacheck), as the mapping's golden documents are.
func TestGoldenShapesConform(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "golden.txt"))
	if err != nil {
		t.Fatal(err)
	}
	facts := schemacheck.MustLoad()
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	for i, line := range lines {
		shape, doc, _ := strings.Cut(line, " ")
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if p := facts.CheckDocument(m); len(p) > 0 {
			t.Errorf("line %d (%s):\n  %s", i+1, shape, strings.Join(p, "\n  "))
		}
	}
	if len(lines) < len(shapes) {
		t.Fatalf("%d golden documents for %d shapes", len(lines), len(shapes))
	}
}
