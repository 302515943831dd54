package intuneenrichprocessor

import (
	"fmt"
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// contribRelease is a release of the contrib windowseventlog receiver, by
// the shape of the map body it writes. The shapes are facts of each
// release's pkg/stanza/operator/input/windows xml.go formattedBody, and of
// the stanza converter that turns the body into pdata (integers become
// Int, []string a slice, and a map[string]string, which it has no case
// for, its fmt text).
type contribRelease struct {
	name string
	// version: the body carries version always, 0 when the event has no
	// <Version> (v0.149 on); v0.130 writes none.
	version bool
	// mapEventData: event_data is {Name: value, paramN: unnamed value}
	// (v0.165's default, event_data_format: map); otherwise
	// {data: [{Name: value}]}, unnamed items keyed "".
	mapEventData bool
	// renderingInfo: the rendered text is repeated under rendering_info
	// and UserData is written as user_data {name, data} (v0.165).
	renderingInfo bool
}

var contribReleases = []contribRelease{
	{name: "v0.130"},
	{name: "v0.149", version: true},
	{name: "v0.165-map", version: true, mapEventData: true, renderingInfo: true},
	{name: "v0.165-array", version: true, renderingInfo: true},
}

// contribBody is the body the release writes for ev, as the receiver on
// Windows would render it (ev's rendered fields set) or not.
func contribBody(ev *wineventlog.Event, r contribRelease) pcommon.Value {
	body := pcommon.NewValueMap()
	m := body.Map()
	id := m.PutEmptyMap("event_id")
	q := int64(0)
	if ev.Qualifiers != nil {
		q = int64(*ev.Qualifiers)
	}
	id.PutInt("qualifiers", q)
	id.PutInt("id", int64(ev.EventID))
	p := m.PutEmptyMap("provider")
	p.PutStr("name", ev.ProviderName)
	p.PutStr("guid", ev.ProviderGUID)
	p.PutStr("event_source", ev.EventSourceName)
	m.PutStr("system_time", string(appendSystemTime(ev)))
	m.PutStr("computer", ev.Computer)
	m.PutStr("channel", ev.Channel)
	m.PutInt("record_id", int64(ev.RecordID))
	// Rendered names replace the raw values when Windows rendered them.
	m.PutStr("level", firstNonEmpty(ev.LevelText, strconv.Itoa(int(ev.Level))))
	m.PutStr("message", ev.Message)
	m.PutStr("task", firstNonEmpty(ev.TaskText, strconv.Itoa(int(ev.Task))))
	opcode := ""
	if ev.Opcode != nil {
		opcode = strconv.Itoa(int(*ev.Opcode))
	}
	m.PutStr("opcode", firstNonEmpty(ev.OpcodeText, opcode))
	kw := m.PutEmptySlice("keywords")
	if len(ev.KeywordsText) > 0 {
		for _, k := range ev.KeywordsText {
			kw.AppendEmpty().SetStr(k)
		}
	} else {
		kw.AppendEmpty().SetStr("0x" + strconv.FormatUint(ev.Keywords, 16))
	}
	putEventData(m.PutEmptyMap("event_data"), ev.EventData, r.mapEventData)
	if r.version {
		v := int64(0)
		if ev.Version != nil {
			v = int64(*ev.Version)
		}
		m.PutInt("version", v)
	}
	if ev.ProcessID != nil {
		ex := m.PutEmptyMap("execution")
		ex.PutInt("process_id", int64(*ev.ProcessID))
		ex.PutInt("thread_id", int64(*ev.ThreadID))
	}
	if ev.UserSID != "" {
		m.PutEmptyMap("security").PutStr("user_id", ev.UserSID)
	}
	if r.renderingInfo && ev.LevelText != "" {
		ri := m.PutEmptyMap("rendering_info")
		ri.PutStr("culture", "en-US")
		ri.PutStr("message", ev.Message)
		ri.PutStr("level", ev.LevelText)
		ri.PutStr("task", ev.TaskText)
		ri.PutStr("opcode", ev.OpcodeText)
		ri.PutStr("channel", ev.Channel)
		ri.PutStr("provider", ev.ProviderName)
		rk := ri.PutEmptySlice("keywords")
		for _, k := range ev.KeywordsText {
			rk.AppendEmpty().SetStr(k)
		}
	}
	if r.renderingInfo && ev.UserDataRoot != "" {
		ud := m.PutEmptyMap("user_data")
		ud.PutStr("name", ev.UserDataRoot)
		data := map[string]string{}
		for _, d := range ev.UserData {
			data[d.Name] = d.Value
		}
		ud.PutStr("data", fmt.Sprint(data))
	}
	return body
}

func putEventData(m pcommon.Map, data []wineventlog.Data, asMap bool) {
	if !asMap {
		if len(data) == 0 {
			return
		}
		items := m.PutEmptySlice("data")
		for _, d := range data {
			items.AppendEmpty().SetEmptyMap().PutStr(d.Name, d.Value)
		}
		return
	}
	n := 0
	for _, d := range data {
		if d.Name == "" {
			n++
			m.PutStr("param"+strconv.Itoa(n), d.Value)
			continue
		}
		m.PutStr(d.Name, d.Value)
	}
}

func appendSystemTime(ev *wineventlog.Event) []byte {
	// As Windows writes SystemTime: 7 fractional digits.
	return []byte(ev.TimeCreated.UTC().Format("2006-01-02T15:04:05.0000000Z"))
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// receiverRecord is what the intune_connector receiver makes of the same
// event: its XML as Windows renders it (or not), decoded and enriched.
func receiverRecord(t *testing.T, en *mapping.Enricher, ev *wineventlog.Event) plog.LogRecord {
	t.Helper()
	style := wineventlog.XMLLine
	if ev.LevelText != "" {
		style = wineventlog.XMLRendered
	}
	dec, err := wineventlog.ParseEventXML(wineventlog.AppendEventXML(nil, ev, style))
	if err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	en.Enrich(&dec, lr)
	return lr
}

// TestContribBodiesSameRecordAsReceiver feeds every catalog case, rendered
// and not, with and without an event version, through the processor as
// each contrib release's map body, and compares with the receiver's record
// for the same event. The one difference allowed is the one the body
// cannot carry: v0.130 writes no version, so a version other than 0 is
// lost there.
func TestContribBodiesSameRecordAsReceiver(t *testing.T) {
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	three, zero := uint8(3), uint8(0)
	variants := []struct {
		name    string
		version func(ev *wineventlog.Event)
	}{
		{"as generated", func(*wineventlog.Event) {}},
		{"no Version element", func(ev *wineventlog.Event) { ev.Version = nil }},
		{"Version 0", func(ev *wineventlog.Event) { ev.Version = &zero }},
		{"Version 3", func(ev *wineventlog.Event) { ev.Version = &three }},
	}
	for _, r := range contribReleases {
		for _, rendered := range []bool{true, false} {
			for _, v := range variants {
				t.Run(fmt.Sprintf("%s rendered=%v %s", r.name, rendered, v.name), func(t *testing.T) {
					sink, consume := newTestProcessor(t, createDefaultConfig().(*Config))
					var want []plog.LogRecord
					var bodies []pcommon.Value
					for i, c := range eventgen.CatalogCases(cat) {
						ev := eventgen.Event(cat, c, i)
						if rendered {
							ev = eventgen.Rendered(cat, ev)
						}
						v.version(&ev)
						bodies = append(bodies, contribBody(&ev, r))
						want = append(want, receiverRecord(t, en, &ev))
					}
					consume(logsWith(bodies...))
					got := records(sink)
					if len(got) != len(want) {
						t.Fatalf("%d records out, want %d", len(got), len(want))
					}
					for i := range got {
						w := want[i].Attributes()
						if !r.version {
							w.Remove(mapping.AttrWinlogVersion)
						}
						if !got[i].Attributes().Equal(w) {
							t.Fatalf("record %d differs from the receiver's:\n got %v\nwant %v", i, got[i].Attributes().AsRaw(), w.AsRaw())
						}
						if got[i].Body().Str() != want[i].Body().Str() || got[i].Timestamp() != want[i].Timestamp() ||
							got[i].SeverityNumber() != want[i].SeverityNumber() || got[i].SeverityText() != want[i].SeverityText() {
							t.Fatalf("record %d: body/time/severity differ from the receiver's:\n got %q %v %v\nwant %q %v %v", i,
								got[i].Body().Str(), got[i].Timestamp(), got[i].SeverityText(), want[i].Body().Str(), want[i].Timestamp(), want[i].SeverityText())
						}
					}
				})
			}
		}
	}
}

// A level-0 event (LogAlways) that Windows rendered as Information: the
// body carries only the rendered name, and the record still says
// information, as the receiver's does.
func TestContribBodyLevelZero(t *testing.T) {
	cat := mapping.MustDefault()
	en, _ := mapping.NewEnricher(cat, mapping.Config{})
	ev := eventgen.Rendered(cat, eventgen.Event(cat, eventgen.CatalogCases(cat)[0], 0))
	ev.Level, ev.LevelText = 0, "Information"
	for _, r := range contribReleases {
		sink, consume := newTestProcessor(t, createDefaultConfig().(*Config))
		consume(logsWith(contribBody(&ev, r)))
		got, _ := records(sink)[0].Attributes().Get(mapping.AttrWinlogLevel)
		want, _ := receiverRecord(t, en, &ev).Attributes().Get(mapping.AttrWinlogLevel)
		if got.Str() != "information" || want.Str() != "information" {
			t.Errorf("%s: winlog.level %q, receiver %q; want information", r.name, got.Str(), want.Str())
		}
	}
}

// v0.165 writes user_data.data as text (the stanza converter has no case
// for a map of strings), so UserData items cannot be read back from it.
// The rest of the event is still enriched; connector events carry no
// UserData.
func TestContribUserDataAsText(t *testing.T) {
	cat := mapping.MustDefault()
	en, _ := mapping.NewEnricher(cat, mapping.Config{})
	ev := eventgen.Rendered(cat, eventgen.Event(cat, eventgen.CatalogCases(cat)[0], 0))
	// UserData stands instead of EventData in an event.
	ev.EventData = nil
	ev.UserDataRoot, ev.UserData = "State", []wineventlog.Data{{Name: "Params.Value", Value: "on"}}
	sink, consume := newTestProcessor(t, createDefaultConfig().(*Config))
	body := contribBody(&ev, contribReleases[2])
	if v, _ := body.Map().Get("user_data"); v.Map().Len() != 2 {
		t.Fatalf("user_data %v", v.AsRaw())
	}
	consume(logsWith(body))
	got := records(sink)[0].Attributes()
	want := receiverRecord(t, en, &ev).Attributes()
	if _, ok := want.Get(mapping.AttrWinlogUserData); !ok {
		t.Fatal("the receiver kept no user data")
	}
	want.Remove(mapping.AttrWinlogUserData)
	if !got.Equal(want) {
		t.Errorf("record differs beyond winlog.user_data:\n got %v\nwant %v", got.AsRaw(), want.AsRaw())
	}
}

// Another collector may forward the receiver's records unchanged over OTLP
// to a gateway running the processor (config/gateway.yaml): the map body
// crosses OTLP as it is, and the gateway's record is the one a local
// processor makes.
func TestContribBodyAcrossOTLP(t *testing.T) {
	cat := mapping.MustDefault()
	ev := eventgen.Rendered(cat, eventgen.Event(cat, eventgen.CatalogCases(cat)[1], 1))
	local, consumeLocal := newTestProcessor(t, createDefaultConfig().(*Config))
	consumeLocal(logsWith(contribBody(&ev, contribReleases[2])))

	wire, err := (&plog.ProtoMarshaler{}).MarshalLogs(logsWith(contribBody(&ev, contribReleases[2])))
	if err != nil {
		t.Fatal(err)
	}
	received, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(wire)
	if err != nil {
		t.Fatal(err)
	}
	gateway, consumeGateway := newTestProcessor(t, createDefaultConfig().(*Config))
	consumeGateway(received)
	got, want := records(gateway)[0], records(local)[0]
	if _, ok := got.Attributes().Get(mapping.AttrIntuneEnrichmentVersion); !ok || !got.Attributes().Equal(want.Attributes()) {
		t.Errorf("record after OTLP differs:\n got %v\nwant %v", got.Attributes().AsRaw(), want.Attributes().AsRaw())
	}
}
