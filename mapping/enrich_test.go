package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func u8(v uint8) *uint8    { return &v }
func u32(v uint32) *uint32 { return &v }

// realRevokeFailure is the real current-connector event from an NDES server,
// with values shortened.
func realRevokeFailure() wineventlog.Event {
	return wineventlog.Event{
		ProviderName: "Microsoft-Intune-CertificateConnectors",
		ProviderGUID: "{BFD22B4F-4968-5F48-A37C-42AD34E3EEDB}",
		EventID:      3001, Version: u8(0), Level: 2, Task: 62533, Opcode: u8(0),
		Keywords:    0x2000f00000000000,
		TimeCreated: time.Date(2024, 4, 15, 12, 41, 30, 57730600, time.UTC),
		RecordID:    188679, ProcessID: u32(3768), ThreadID: u32(5868),
		Channel:  "Microsoft-Intune-CertificateConnectors/Admin",
		Computer: "NDES.example.com", UserSID: "S-1-5-18",
		EventData: []wineventlog.Data{
			{Name: "userId", Value: "54c5bdfb-0000-0000-0000-000000000001"},
			{Name: "deviceId", Value: "04aae477-0000-0000-0000-000000000002"},
			{Name: "serialNumber", Value: "6C00000010CF"},
			{Name: "thumbprint", Value: "40C302D8"},
			{Name: "certificateAuthority", Value: `ca01.example.com\Example-Issuing-CA`},
			{Name: "exception", Value: "System.InvalidOperationException: Unable to revoke certificate\r\n   at Microsoft.Intune.Connectors.PkiRevokeProcessor.RevokeCertificate()"},
		},
	}
}

func legacyEvent(id uint32, data string) wineventlog.Event {
	return wineventlog.Event{
		ProviderName: "Microsoft Intune Connector", EventID: id, Level: 2,
		TimeCreated: time.Date(2019, 5, 1, 8, 0, 0, 0, time.UTC), RecordID: 42,
		Channel: "Microsoft Intune Connector", Computer: "NDES-OLD",
		EventData: []wineventlog.Data{{Value: data}},
	}
}

func enrich(t *testing.T, cfg Config, ev wineventlog.Event) (Result, plog.LogRecord) {
	t.Helper()
	en, err := NewEnricher(MustDefault(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	return en.Enrich(&ev, lr), lr
}

func attr(lr plog.LogRecord, k string) string {
	v, ok := lr.Attributes().Get(k)
	if !ok {
		return "<absent>"
	}
	return v.AsString()
}

func TestEnrich(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		event wineventlog.Event
		want  map[string]string
		sev   Severity
	}{
		{
			name:  "real current event 3001",
			event: realRevokeFailure(),
			sev:   SeverityError,
			want: map[string]string{
				AttrEventAction: "RevokeRequestFailure", AttrEventOutcome: "failure", AttrEventCode: "3001",
				AttrLogLevel: "error", AttrIntuneGeneration: "current", AttrIntuneCategory: "revoke",
				AttrUserID: "54c5bdfb-0000-0000-0000-000000000001", AttrDeviceID: "04aae477-0000-0000-0000-000000000002",
				AttrIntuneSerialNumber: "6C00000010CF", AttrIntuneThumbprint: "40C302D8",
				AttrIntuneCA: `ca01.example.com\Example-Issuing-CA`, AttrErrorType: "System.InvalidOperationException",
				AttrErrorMessage: "System.InvalidOperationException: Unable to revoke certificate",
				AttrHostName:     "NDES.example.com", AttrWinlogRecordID: "188679", AttrWinlogTask: "62533", AttrWinlogLevel: "error",
				AttrIntuneMatched: "true", AttrIntuneDiagCode: "<absent>", AttrErrorCode: "<absent>",
				AttrWinlogKeywords: `["0x2000f00000000000"]`,
			},
		},
		{
			name:  "legacy metric with the nine-digit Unknown_Error spelling",
			event: legacyEvent(20102, `{"Metric":{"Dimensions":{"DiagnosticCode":"0x0FFFFFFFF","DiagnosticText":"server error","DeviceID":"dev-1","userid":"user-1","CAName":"ca\\X","TemplateName":"T1"},"Name":"PkcsCertIssue_Failure","Value":0}}`),
			sev:   SeverityError,
			want: map[string]string{
				AttrEventAction: "PkcsCertIssue_Failure", AttrIntuneDiagCode: "0x0FFFFFFF", AttrIntuneDiagName: "Unknown_Error",
				AttrErrorCode: "0x0FFFFFFF", AttrIntuneDiagText: "server error", AttrDeviceID: "dev-1", AttrUserID: "user-1",
				AttrIntuneCA: `ca\X`, AttrIntuneTemplate: "T1", AttrIntuneGeneration: "legacy", AttrIntuneCategory: "pkcs_issue",
				AttrIntuneMetricName: "PkcsCertIssue_Failure", AttrIntuneDiagMatched: "true", AttrIntuneWarnings: "<absent>",
			},
		},
		{
			name:  "legacy code raises severity: expired certificate is critical",
			event: legacyEvent(10102, `{"Metric":{"Dimensions":{"DiagnosticCode":"0x405"},"Name":"CertificateRenewal_Failure","Value":0}}`),
			sev:   SeverityCritical,
			want:  map[string]string{AttrIntuneDiagCode: "0x00000405", AttrIntuneDiagName: "Certificate_Expired", AttrLogLevel: "critical"},
		},
		{
			name:  "metric name disagrees with the catalog",
			event: legacyEvent(20200, `{"Metric":{"Dimensions":{},"Name":"SomethingElse","Value":0}}`),
			sev:   SeverityInformation,
			want:  map[string]string{AttrEventAction: "RevokeCert_Success", AttrIntuneWarnings: `["metric name \"SomethingElse\" differs from the catalog name RevokeCert_Success for event 20200"]`},
		},
		{
			name:  "code outside the event's documented codes is flagged, still enriched",
			event: legacyEvent(20200, `{"Metric":{"Dimensions":{"DiagnosticCode":"0x00000405"},"Name":"RevokeCert_Success","Value":0}}`),
			sev:   SeverityCritical,
			want:  map[string]string{AttrIntuneDiagName: "Certificate_Expired", AttrIntuneWarnings: `["diagnostic code 0x00000405 is not among the codes documented for event RevokeCert_Success"]`},
		},
		{
			name:  "unknown code passes through, marked",
			event: legacyEvent(20102, `{"Metric":{"Dimensions":{"DiagnosticCode":"0x00000999"},"Name":"PkcsCertIssue_Failure","Value":0}}`),
			sev:   SeverityError,
			want:  map[string]string{AttrIntuneDiagCode: "0x00000999", AttrIntuneDiagMatched: "false", AttrIntuneDiagName: "<absent>", AttrErrorCode: "0x00000999"},
		},
		{
			name:  "non-hex code is kept as written and flagged",
			event: legacyEvent(20102, `{"Metric":{"Dimensions":{"DiagnosticCode":"oops"},"Name":"PkcsCertIssue_Failure","Value":0}}`),
			sev:   SeverityError,
			want:  map[string]string{AttrIntuneDiagCode: "oops", AttrIntuneDiagMatched: "false", AttrIntuneWarnings: `["diagnostic code \"oops\" is not a hex code"]`},
		},
		{
			name: "code found inside the exception text",
			event: func() wineventlog.Event {
				ev := realRevokeFailure()
				ev.EventData[5].Value = "Microsoft.Intune.DiagnosticException: DiagnosticException: 0x00000402 access denied"
				return ev
			}(),
			sev:  SeverityError,
			want: map[string]string{AttrIntuneDiagCode: "0x00000402", AttrIntuneDiagName: "RevokeCert_AccessDenied", AttrErrorCode: "0x00000402"},
		},
		{
			name:  "unknown event from the current provider: level decides, marked unmatched",
			event: func() wineventlog.Event { ev := realRevokeFailure(); ev.EventID = 9999; ev.Level = 3; return ev }(),
			sev:   SeverityWarning,
			want: map[string]string{AttrIntuneMatched: "false", AttrEventAction: "<absent>", AttrEventOutcome: "unknown",
				AttrIntuneGeneration: "current", AttrLogLevel: "warning", AttrUserID: "54c5bdfb-0000-0000-0000-000000000001"},
		},
		{
			name:  "foreign event",
			event: wineventlog.Event{ProviderName: "Service Control Manager", EventID: 7036, Level: 4, Channel: "System", Computer: "X"},
			sev:   SeverityInformation,
			want:  map[string]string{AttrIntuneMatched: "false", AttrIntuneGeneration: "<absent>", AttrEventProvider: "Service Control Manager"},
		},
		{
			name: "a legacy ID written by the current provider does not borrow the legacy meaning",
			event: func() wineventlog.Event {
				ev := realRevokeFailure()
				ev.EventID = 20102
				return ev
			}(),
			sev:  SeverityError,
			want: map[string]string{AttrIntuneMatched: "false", AttrEventAction: "<absent>"},
		},
		{
			name: "severity overrides: pair beats code beats event",
			cfg: Config{SeverityOverrides: []SeverityOverride{
				{Event: "PkcsCertIssue_Failure", Severity: SeverityWarning},
				{Code: "0x400", Severity: SeverityError},
				{Event: "20102", Code: "0x00000400", Severity: SeverityCritical},
			}},
			event: legacyEvent(20102, `{"Metric":{"Dimensions":{"DiagnosticCode":"0x00000400"},"Name":"PkcsCertIssue_Failure","Value":0}}`),
			sev:   SeverityCritical,
			want:  map[string]string{AttrLogLevel: "critical", AttrEventSeverity: "5"},
		},
		{
			name:  "event override applies without a code",
			cfg:   Config{SeverityOverrides: []SeverityOverride{{Event: "3001", Severity: SeverityCritical}}},
			event: realRevokeFailure(),
			sev:   SeverityCritical,
		},
		{
			name:  "original text kept when asked",
			cfg:   Config{IncludeOriginal: true},
			event: func() wineventlog.Event { ev := realRevokeFailure(); ev.Original = "<Event/>"; return ev }(),
			sev:   SeverityError,
			want:  map[string]string{AttrEventOriginal: "<Event/>"},
		},
		{
			name:  "original text dropped by default",
			event: func() wineventlog.Event { ev := realRevokeFailure(); ev.Original = "<Event/>"; return ev }(),
			sev:   SeverityError,
			want:  map[string]string{AttrEventOriginal: "<absent>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, lr := enrich(t, tc.cfg, tc.event)
			if res.Severity != tc.sev {
				t.Errorf("severity %v, want %v", res.Severity, tc.sev)
			}
			if lr.SeverityNumber() != tc.sev.Info().Number || lr.SeverityText() != tc.sev.Info().Text {
				t.Errorf("OTel severity %v %q does not follow the table for %v", lr.SeverityNumber(), lr.SeverityText(), tc.sev)
			}
			for k, want := range tc.want {
				if got := attr(lr, k); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
			if tc.event.TimeCreated.IsZero() {
				if lr.Timestamp() != 0 {
					t.Errorf("no event time, but timestamp %v", lr.Timestamp())
				}
			} else if got := lr.Timestamp().AsTime(); !got.Equal(tc.event.TimeCreated) {
				t.Errorf("timestamp %v, want the event time %v", got, tc.event.TimeCreated)
			}
			if lr.Body().Str() == "" {
				t.Error("empty body")
			}
		})
	}
}

func TestOverrideValidation(t *testing.T) {
	cfg := Config{SeverityOverrides: []SeverityOverride{
		{Event: "NoSuchEvent", Severity: SeverityError},
		{Code: "0xZZ", Severity: SeverityError},
		{Severity: SeverityError},
		{Event: "3001"},
	}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid overrides accepted")
	}
	for _, want := range []string{"severity_overrides[0]: event \"NoSuchEvent\"", "severity_overrides[1]: code \"0xZZ\"",
		"severity_overrides[2]: set event", "severity_overrides[3]: severity is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestPositionalPropertiesNamedFromCatalog(t *testing.T) {
	named := realRevokeFailure()
	positional := realRevokeFailure()
	for i := range positional.EventData {
		positional.EventData[i].Name = ""
	}
	_, a := enrich(t, Config{}, named)
	_, b := enrich(t, Config{}, positional)
	if !a.Attributes().Equal(b.Attributes()) {
		t.Errorf("named and positional EventData give different records:\n%v\n%v", a.Attributes().AsRaw(), b.Attributes().AsRaw())
	}
	// Without a template in the catalog, unnamed items are param1..N.
	ev := realRevokeFailure()
	ev.EventID = 3000
	for i := range ev.EventData {
		ev.EventData[i].Name = ""
	}
	_, c := enrich(t, Config{}, ev)
	ed, _ := c.Attributes().Get(AttrWinlogEventData)
	if _, ok := ed.Map().Get("param6"); !ok {
		t.Errorf("unnamed data not named by position: %v", ed.Map().AsRaw())
	}
}

func TestFingerprint(t *testing.T) {
	a := realRevokeFailure()
	b := realRevokeFailure()
	b.Computer = strings.ToUpper(b.Computer)
	b.TimeCreated = b.TimeCreated.Truncate(time.Millisecond) // a PowerShell 5.1 export
	if Fingerprint(&a) != Fingerprint(&b) {
		t.Error("the same event from two exports has two fingerprints")
	}
	c := realRevokeFailure()
	c.RecordID++
	if Fingerprint(&a) == Fingerprint(&c) {
		t.Error("different records share a fingerprint")
	}
	if len(Fingerprint(&a)) != 32 {
		t.Errorf("fingerprint %q is not 32 hex digits", Fingerprint(&a))
	}
}

func TestECSTreeAndEscaping(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)))
	lr.Body().SetStr("line1\nline2 \"q\" \x01 \xff")
	a := lr.Attributes()
	a.PutStr("a", "leaf")
	a.PutStr("a.b", "deeper")
	a.PutStr("a-c", "sibling")
	a.PutInt("x.y.z", 7)
	a.PutBool("x.y.w", true)
	a.PutStr("com.splunk.index", "routing-only")
	a.PutStr("data_stream.dataset", "custom.ds")
	res := pcommon.NewResource()
	res.Attributes().PutStr("host.name", "from-resource")
	res.Attributes().PutStr("a", "resource-loses")
	doc := AppendECS(nil, res, lr, ECSOptions{DataStream: true})
	var got map[string]any
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", doc, err)
	}
	want := `{"@timestamp":"2024-01-02T03:04:05.000000006Z","a":"leaf","a-c":"sibling","a.b":"deeper","data_stream":{"dataset":"custom.ds","namespace":"default","type":"logs"},"ecs":{"version":"` + ECSVersion + `"},"host":{"name":"from-resource"},"message":"line1\nline2 \"q\" \u0001 �","x":{"y":{"w":true,"z":7}}}`
	norm, _ := json.Marshal(got)
	if string(norm) != want {
		t.Errorf("ECS document\n got %s\nwant %s", norm, want)
	}
}

func TestHECEnvelope(t *testing.T) {
	_, lr := enrich(t, Config{}, realRevokeFailure())
	res := pcommon.NewResource()
	var got struct {
		Time       json.Number       `json:"time"`
		Host       string            `json:"host"`
		Source     string            `json:"source"`
		Sourcetype string            `json:"sourcetype"`
		Index      string            `json:"index"`
		Event      map[string]any    `json:"event"`
		Fields     map[string]string `json:"fields"`
	}
	doc := AppendHEC(nil, res, lr, HECOptions{Index: "intune"})
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	if got.Time != "1713184890.057730" || got.Host != "NDES.example.com" || got.Index != "intune" ||
		got.Source != "Microsoft-Intune-CertificateConnectors/Admin" || got.Sourcetype != DefaultSourcetype {
		t.Errorf("envelope: %+v", got)
	}
	wantFields := map[string]string{"signature_id": "3001", "signature": "RevokeRequestFailure", "severity": "high",
		"severity_id": "4", "action": "failure", "vendor_product": VendorProduct, "dest": "NDES.example.com",
		"user": "54c5bdfb-0000-0000-0000-000000000001", "generation": "current"}
	for k, v := range wantFields {
		if got.Fields[k] != v {
			t.Errorf("fields.%s = %q, want %q", k, got.Fields[k], v)
		}
	}
	if len(got.Fields) != len(wantFields) {
		t.Errorf("fields has %d entries, want a small fixed set: %v", len(got.Fields), got.Fields)
	}
	if got.Event["message"] == "" || got.Event["event"] == nil {
		t.Errorf("event is not the structured record: %v", got.Event)
	}
	// Per-record routing attributes win over the options and stay out of the event.
	lr.Attributes().PutStr(AttrSplunkIndex, "soc")
	lr.Attributes().PutStr(AttrSplunkSourcetype, "custom:st")
	got.Event = nil
	if err := json.Unmarshal(AppendHEC(nil, res, lr, HECOptions{Index: "intune"}), &got); err != nil {
		t.Fatal(err)
	}
	if got.Index != "soc" || got.Sourcetype != "custom:st" {
		t.Errorf("routing attributes ignored: index %q sourcetype %q", got.Index, got.Sourcetype)
	}
	if _, ok := got.Event["com"]; ok {
		t.Error("routing attributes leaked into the event")
	}
}

// TestEnrichWritesTreeOrder keeps the projections on their fast path: the
// enricher must write attributes in the order the JSON tree needs.
func TestEnrichWritesTreeOrder(t *testing.T) {
	for _, ev := range []wineventlog.Event{
		realRevokeFailure(),
		legacyEvent(20102, `{"Metric":{"Dimensions":{"DiagnosticCode":"0x0FFFFFFFF","DiagnosticText":"x","DeviceID":"d","userid":"u","CAName":"c","TemplateName":"t","RequestId":"1","UploadState":"s","Thumbprint":"th","SerialNumber":"sn"},"Name":"Other","Value":0}}`),
	} {
		ev.ActivityID, ev.RelatedActivityID, ev.Original = "{A}", "{B}", "<x/>"
		ev.UserData = []wineventlog.Data{{Name: "a", Value: "b"}}
		ev.KeywordsText, ev.TaskText, ev.OpcodeText = []string{"k"}, "t", "o"
		_, lr := enrich(t, Config{IncludeOriginal: true}, ev)
		prev := ""
		for k := range lr.Attributes().All() {
			if prev != "" && !lessPath(prev, k) {
				t.Errorf("attribute %s is written after %s; keep Enrich in tree order", k, prev)
			}
			prev = k
		}
	}
}

// Extra attributes land in tree order, with the contract's taking
// precedence and the first of a repeated key winning, so EnrichWith equals
// Enrich followed by PutStr of the new ones; they cost no allocation beyond
// their own values.
func TestEnrichWithExtraAttributes(t *testing.T) {
	en, err := NewEnricher(MustDefault(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ev := realRevokeFailure()
	tests := []struct {
		name  string
		extra []Attr
		added []Attr // what EnrichWith must add to Enrich's attributes
	}{
		{
			name: "many",
			extra: []Attr{
				{Key: "log.file.name", Value: "admin.xml"},
				{Key: "log.file.path", Value: `C:\exports\admin.xml`},
				{Key: "aaa.first", Value: "1"},
				{Key: "zzz.last", Value: "2"},
				{Key: "empty", Value: ""},
				{Key: AttrEventCode, Value: "must not replace"},
			},
			added: []Attr{
				{Key: "log.file.name", Value: "admin.xml"},
				{Key: "log.file.path", Value: `C:\exports\admin.xml`},
				{Key: "aaa.first", Value: "1"},
				{Key: "zzz.last", Value: "2"},
			},
		},
		{
			name: "few_with_a_repeat",
			extra: []Attr{
				{Key: "zzz.last", Value: "2"},
				{Key: "log.file.name", Value: "admin.xml"},
				{Key: "log.file.name", Value: "second.xml"},
				{Key: AttrEventCode, Value: "must not replace"},
			},
			added: []Attr{
				{Key: "zzz.last", Value: "2"},
				{Key: "log.file.name", Value: "admin.xml"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plog.NewLogRecord()
			en.EnrichWith(&ev, got, tt.extra)
			want := plog.NewLogRecord()
			en.Enrich(&ev, want)
			for _, x := range tt.added {
				want.Attributes().PutStr(x.Key, x.Value)
			}
			if !got.Attributes().Equal(want.Attributes()) {
				t.Errorf("EnrichWith = %v\nwant %v", got.Attributes().AsRaw(), want.Attributes().AsRaw())
			}
			prev := ""
			for k := range got.Attributes().All() {
				if prev != "" && !lessPath(prev, k) {
					t.Errorf("attribute %s is written after %s", k, prev)
				}
				prev = k
			}
			if v, _ := got.Attributes().Get(AttrEventCode); v.Str() == "must not replace" {
				t.Errorf("event.code replaced: %q", v.Str())
			}
		})
	}

	two := tests[1].extra[:2]
	n := testing.AllocsPerRun(20, func() { en.EnrichWith(&ev, plog.NewLogRecord(), two) })
	base := testing.AllocsPerRun(20, func() { en.Enrich(&ev, plog.NewLogRecord()) })
	if n > base+2 { // the two extra string values
		t.Errorf("EnrichWith with two extras allocates %v times, Enrich %v", n, base)
	}
}

// TestECSFieldPrecedence pins the order and the winner when the record, its
// resource and the fields the projection adds name the same key: the
// record, then the resource, then the added field; each key written once.
func TestECSFieldPrecedence(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)))
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	lr.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	a := lr.Attributes()
	a.PutStr("host.name", "from-record")
	a.PutStr("z", "last")
	res := pcommon.NewResource()
	// Out of tree order on purpose.
	res.Attributes().PutStr("service.name", "svc")
	res.Attributes().PutStr("host.name", "resource-loses")
	res.Attributes().PutStr("span.id", "resource-span")
	res.Attributes().PutStr("data_stream.type", "routing-only") // never a field
	doc := AppendECS(nil, res, lr, ECSOptions{DataStream: true})
	want := `{"@timestamp":"2024-01-02T03:04:05.000000000Z","ecs":{"version":"` + ECSVersion + `"},` +
		`"data_stream":{"dataset":"intune_connector.events","namespace":"default","type":"logs"},` +
		`"host":{"name":"from-record"},"service":{"name":"svc"},"span":{"id":"resource-span"},` +
		`"trace":{"id":"0102030405060708090a0b0c0d0e0f10"},"z":"last"}`
	if string(doc) != want {
		t.Errorf("ECS document\n got %s\nwant %s", doc, want)
	}
}
