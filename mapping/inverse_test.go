package mapping_test

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// contractRecords enriches every catalog case and every event of the
// sample exports (every format, both generations, a real connector log,
// with original text), the records whose projections reach dead-letter
// files.
func contractRecords(t *testing.T) []plog.LogRecord {
	t.Helper()
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{IncludeOriginal: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []plog.LogRecord
	add := func(ev *wineventlog.Event) {
		lr := plog.NewLogRecord()
		en.Enrich(ev, lr)
		out = append(out, lr)
	}
	for i, c := range eventgen.CatalogCases(cat) {
		ev := eventgen.Event(cat, c, i)
		add(&ev)
	}
	files, _ := filepath.Glob("../testdata/samples/*")
	for _, name := range files {
		f, err := eventfile.Open(name, eventfile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := f.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			add(&rec.Event)
		}
		f.Close()
	}
	if len(out) < 1000 {
		t.Fatalf("only %d records", len(out))
	}
	return out
}

func sameRecord(t *testing.T, what string, got, want plog.LogRecord) {
	t.Helper()
	if !reflect.DeepEqual(got.Attributes().AsRaw(), want.Attributes().AsRaw()) {
		t.Fatalf("%s: attributes differ\n got %v\nwant %v", what, got.Attributes().AsRaw(), want.Attributes().AsRaw())
	}
	if got.Body().AsRaw() != want.Body().AsRaw() || got.SeverityNumber() != want.SeverityNumber() || got.SeverityText() != want.SeverityText() {
		t.Fatalf("%s: body or severity differ: %v %v %q, want %v %v %q", what,
			got.Body().AsRaw(), got.SeverityNumber(), got.SeverityText(), want.Body().AsRaw(), want.SeverityNumber(), want.SeverityText())
	}
}

// Every contract record comes back from its ECS document and from its HEC
// event with the same attributes (types included), body and severity; the
// time exactly from ECS and to the microsecond from HEC; and projecting
// the rebuilt record writes the same document again.
func TestRecordFromProjections(t *testing.T) {
	res := pcommon.NewResource()
	ecsOpts := mapping.ECSOptions{DataStream: true}
	for i, lr := range contractRecords(t) {
		doc := mapping.AppendECS(nil, res, lr, ecsOpts)
		back := plog.NewLogRecord()
		if err := mapping.RecordFromECS(doc, back); err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, doc)
		}
		sameRecord(t, "ECS", back, lr)
		if back.Timestamp() != lr.Timestamp() {
			t.Fatalf("record %d: ECS time %v, want %v", i, back.Timestamp(), lr.Timestamp())
		}
		if again := mapping.AppendECS(nil, res, back, ecsOpts); !bytes.Equal(again, doc) {
			t.Fatalf("record %d: ECS document changed\n got %s\nwant %s", i, again, doc)
		}

		hec := mapping.AppendHEC(nil, res, lr, mapping.HECOptions{})
		back = plog.NewLogRecord()
		if err := mapping.RecordFromHEC(hec, back); err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, hec)
		}
		sameRecord(t, "HEC", back, lr)
		if got, want := back.Timestamp().AsTime(), lr.Timestamp().AsTime().Truncate(1000); !got.Equal(want) {
			t.Fatalf("record %d: HEC time %v, want %v", i, got, want)
		}
		if again := mapping.AppendHEC(nil, res, back, mapping.HECOptions{}); !bytes.Equal(again, hec) {
			t.Fatalf("record %d: HEC event changed\n got %s\nwant %s", i, again, hec)
		}
	}
}

// What the projections add from an exporter's config or take from routing
// attributes is not turned into attributes; resource attributes come back
// on the record; trace context and structured bodies survive, and so does
// the severity of a record outside the contract, through HEC only.
func TestRecordFromProjectionsEdges(t *testing.T) {
	res := pcommon.NewResource()
	res.Attributes().PutStr("service.name", "gateway")
	lr := plog.NewLogRecord()
	lr.SetTimestamp(pcommon.Timestamp(1700000000123456789))
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	lr.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText("Error")
	lr.Body().SetEmptyMap().PutStr("k", "v")
	a := lr.Attributes()
	a.PutStr("a", "x")
	a.PutStr("a.b", "y")
	a.PutInt("n", 7)
	a.PutBool("ok", true)
	a.PutEmptySlice("list").AppendEmpty().SetStr("one")
	a.PutStr(mapping.AttrSplunkIndex, "secops")
	a.PutStr(mapping.AttrDataStreamDataset, "custom")

	want := plog.NewLogRecord()
	lr.CopyTo(want)
	want.Attributes().Remove(mapping.AttrSplunkIndex)
	want.Attributes().Remove(mapping.AttrDataStreamDataset)
	want.Attributes().PutStr("service.name", "gateway")

	for name, tc := range map[string]struct {
		doc     []byte
		rebuild func([]byte, plog.LogRecord) error
		sev     plog.SeverityNumber // no log.level: only HEC's CIM severity tells
	}{
		"ECS": {mapping.AppendECS(nil, res, lr, mapping.ECSOptions{DataStream: true, Namespace: "prod"}), mapping.RecordFromECS, plog.SeverityNumberUnspecified},
		"HEC": {mapping.AppendHEC(nil, res, lr, mapping.HECOptions{Index: "main"}), mapping.RecordFromHEC, plog.SeverityNumberError},
	} {
		t.Run(name, func(t *testing.T) {
			back := plog.NewLogRecord()
			if err := tc.rebuild(tc.doc, back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Attributes().AsRaw(), want.Attributes().AsRaw()) {
				t.Errorf("attributes\n got %v\nwant %v", back.Attributes().AsRaw(), want.Attributes().AsRaw())
			}
			if !reflect.DeepEqual(back.Body().AsRaw(), want.Body().AsRaw()) {
				t.Errorf("body %v", back.Body().AsRaw())
			}
			if back.TraceID() != want.TraceID() || back.SpanID() != want.SpanID() {
				t.Errorf("trace %v span %v", back.TraceID(), back.SpanID())
			}
			if back.SeverityNumber() != tc.sev {
				t.Errorf("severity %v", back.SeverityNumber())
			}
			if got := back.Timestamp().AsTime(); got.UnixMicro() != want.Timestamp().AsTime().UnixMicro() {
				t.Errorf("time %v", got)
			}
		})
	}
}

func TestRecordFromProjectionsRefusesOtherJSON(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		rebuild   func([]byte, plog.LogRecord) error
		want      string
	}{
		{"ECS without time", `{"event":{"code":"1"}}`, mapping.RecordFromECS, "no @timestamp"},
		{"HEC without event", `{"time":1,"host":"x"}`, mapping.RecordFromHEC, "no event object"},
		{"not an object", `[1]`, mapping.RecordFromECS, "expected {"},
		{"cut off", `{"@timestamp":"2026-01-01T00:00:00Z","a":`, mapping.RecordFromECS, "EOF"},
		{"bad time", `{"@timestamp":"yesterday"}`, mapping.RecordFromECS, "@timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rebuild([]byte(tc.doc), plog.NewLogRecord())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// Whatever a rebuild accepts projects to a document that rebuilds to the
// same document again: one round reaches a fixed point.
func FuzzRecordFromECS(f *testing.F) {
	cat := mapping.MustDefault()
	en, err := mapping.NewEnricher(cat, mapping.Config{})
	if err != nil {
		f.Fatal(err)
	}
	res := pcommon.NewResource()
	for i, c := range eventgen.CatalogCases(cat)[:20] {
		ev := eventgen.Event(cat, c, i)
		lr := plog.NewLogRecord()
		en.Enrich(&ev, lr)
		f.Add(mapping.AppendECS(nil, res, lr, mapping.ECSOptions{DataStream: true}), false)
		f.Add(mapping.AppendHEC(nil, res, lr, mapping.HECOptions{}), true)
	}
	f.Add([]byte(`{"@timestamp":"2026-01-01T00:00:00Z","a":{"b.c":[1,2.5,null,{"d":true}]},"message":"m"}`), false)
	f.Fuzz(func(t *testing.T, doc []byte, hec bool) {
		rebuild, project := mapping.RecordFromECS, func(lr plog.LogRecord) []byte {
			return mapping.AppendECS(nil, res, lr, mapping.ECSOptions{})
		}
		if hec {
			rebuild, project = mapping.RecordFromHEC, func(lr plog.LogRecord) []byte {
				return mapping.AppendHEC(nil, res, lr, mapping.HECOptions{})
			}
		}
		lr := plog.NewLogRecord()
		if rebuild(doc, lr) != nil {
			return
		}
		doc2 := project(lr)
		lr2 := plog.NewLogRecord()
		if err := rebuild(doc2, lr2); err != nil {
			t.Fatalf("the projection of an accepted document is refused: %v\n%s", err, doc2)
		}
		if doc3 := project(lr2); !bytes.Equal(doc3, doc2) {
			t.Fatalf("no fixed point:\n%s\n%s", doc2, doc3)
		}
	})
}
