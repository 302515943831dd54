package mapping

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

const exampleLayer = "../config/catalog/example.yaml"

func layered(t *testing.T, files ...CatalogLayer) *Catalog {
	t.Helper()
	cat, err := MustDefault().Layered(files...)
	if err != nil {
		t.Fatalf("layering: %v", err)
	}
	return cat
}

func exampleFile(t *testing.T) CatalogLayer {
	t.Helper()
	b, err := os.ReadFile(exampleLayer)
	if err != nil {
		t.Fatal(err)
	}
	return CatalogLayer{Name: "example.yaml", Data: b}
}

func currentEvent(id uint32, channel string, data ...wineventlog.Data) wineventlog.Event {
	return wineventlog.Event{
		ProviderName: "Microsoft-Intune-CertificateConnectors",
		ProviderGUID: "{BFD22B4F-4968-5F48-A37C-42AD34E3EEDB}",
		EventID:      id, Level: 3,
		TimeCreated: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), RecordID: 7,
		Channel:  "Microsoft-Intune-CertificateConnectors/" + channel,
		Computer: "NDES01", EventData: data,
	}
}

func enrichWith(t *testing.T, cat *Catalog, ev wineventlog.Event) (Result, plog.LogRecord) {
	t.Helper()
	en, err := NewEnricher(cat, Config{})
	if err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	return en.Enrich(&ev, lr), lr
}

// TestLayeredCatalogReachesRecords: the three things a site layers most —
// an event the catalog lacks, its own remediation, a runbook link and
// labels — change the records, and the embedded catalog stays as it was.
func TestLayeredCatalogReachesRecords(t *testing.T) {
	cat := layered(t, exampleFile(t))
	tests := []struct {
		name    string
		cat     *Catalog
		event   wineventlog.Event
		matched bool
		want    map[string]string
	}{
		{
			name: "unknown event without the file", cat: MustDefault(), event: currentEvent(1999, "Operational"),
			want: map[string]string{AttrIntuneMatched: "false", AttrEventAction: "<absent>", AttrIntuneRunbookURL: "<absent>", AttrLabels: "<absent>"},
		},
		{
			name: "the file adds the event", cat: cat, event: currentEvent(1999, "Operational"), matched: true,
			want: map[string]string{
				AttrIntuneMatched: "true", AttrEventAction: "ExampleSitePkcsEvent", AttrEventOutcome: "failure",
				AttrLogLevel: "warning", AttrIntuneCategory: "pkcs",
				AttrIntuneRemediation: "Read the event's exception text and follow the PKCS runbook.",
				AttrIntuneRunbookURL:  "https://wiki.example.com/pki/runbooks/pkcs",
				AttrLabels:            `{"team":"pki-operations"}`,
			},
		},
		{
			name: "remediation replaced by name", cat: cat, event: realRevokeFailure(), matched: true,
			want: map[string]string{
				AttrEventAction:       "RevokeRequestFailure",
				AttrIntuneRemediation: "Open a ticket for the PKI team with the serial number from the event. Until the CA revokes it, the certificate stays valid: if the device is lost, disable it in Entra ID.",
				AttrIntuneRunbookURL:  "https://wiki.example.com/pki/runbooks/revocation",
				// The description is the catalog's: the file did not write one.
				AttrIntuneDescription: MustDefault().Event(3001).Description,
			},
		},
		{
			name: "embedded remediation without the file", cat: MustDefault(), event: realRevokeFailure(), matched: true,
			want: map[string]string{AttrIntuneRemediation: MustDefault().Event(3001).Remediation, AttrIntuneRunbookURL: "<absent>"},
		},
		{
			name: "runbook and labels added by ID", cat: cat, event: currentEvent(1001, "Admin"), matched: true,
			want: map[string]string{
				AttrIntuneRunbookURL:  "https://wiki.example.com/pki/runbooks/pkcs-request-failure",
				AttrLabels:            `{"escalation":"tier2","team":"pki-operations"}`,
				AttrIntuneRemediation: MustDefault().Event(1001).Remediation,
			},
		},
		{
			name: "the code's runbook and labels win when it reports the error", cat: cat, matched: true,
			event: legacyEvent(20102, `{"Metric":{"Dimensions":{"DiagnosticCode":"0x00000400"},"Name":"PkcsCertIssue_Failure","Value":0}}`),
			want: map[string]string{
				AttrIntuneRunbookURL: "https://wiki.example.com/pki/runbooks/ca-unreachable",
				AttrLabels:           `{"escalation":"tier1"}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, lr := enrichWith(t, tt.cat, tt.event)
			if res.Matched != tt.matched {
				t.Errorf("matched %v, want %v", res.Matched, tt.matched)
			}
			for k, want := range tt.want {
				if got := attr(lr, k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
	if e := MustDefault().Event(1001); e.RunbookURL != "" || len(e.Labels) > 0 {
		t.Errorf("layering changed the embedded catalog: %+v", e)
	}
	if MustDefault().Event(1999) != nil {
		t.Error("layering added an event to the embedded catalog")
	}
}

// TestLayeredFieldsInProjections: the ECS document carries labels as an
// object of keywords and the runbook under intune, as does the HEC event.
func TestLayeredFieldsInProjections(t *testing.T) {
	_, lr := enrichWith(t, layered(t, exampleFile(t)), currentEvent(1001, "Admin"))
	for name, doc := range map[string][]byte{
		"ecs": AppendECS(nil, pcommon.NewResource(), lr, ECSOptions{}),
		"hec": AppendHEC(nil, pcommon.NewResource(), lr, HECOptions{}),
	} {
		var v struct {
			Labels map[string]string `json:"labels"`
			Intune struct {
				RunbookURL string `json:"runbook_url"`
			} `json:"intune"`
			Event *struct {
				Labels map[string]string `json:"labels"`
				Intune struct {
					RunbookURL string `json:"runbook_url"`
				} `json:"intune"`
			} `json:"event"`
		}
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		labels, runbook := v.Labels, v.Intune.RunbookURL
		if name == "hec" {
			labels, runbook = v.Event.Labels, v.Event.Intune.RunbookURL
		}
		if labels["team"] != "pki-operations" || labels["escalation"] != "tier2" || runbook != "https://wiki.example.com/pki/runbooks/pkcs-request-failure" {
			t.Errorf("%s: labels %v, runbook %q in %s", name, labels, runbook, doc)
		}
	}
}

func TestLaterLayerWins(t *testing.T) {
	first := CatalogLayer{Name: "a.yaml", Data: []byte("version: 1\nevents:\n  - {id: 1001, remediation: first, labels: {team: a, site: x}}\n")}
	second := CatalogLayer{Name: "b.yaml", Data: []byte("version: 1\nevents:\n  - {name: PkcsRequestFailure, remediation: second, labels: {team: b}}\n")}
	e := layered(t, first, second).Event(1001)
	if e.Remediation != "second" || e.Labels["team"] != "b" || e.Labels["site"] != "x" {
		t.Errorf("got remediation %q, labels %v", e.Remediation, e.Labels)
	}
	if same, err := MustDefault().Layered(); err != nil || same != MustDefault() {
		t.Errorf("no layers: %p %v", same, err)
	}
}

// TestLayerErrors: every mistake names the file, the line and what to do,
// and unknown keys are refused rather than ignored.
func TestLayerErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"not YAML", "version: 1\nevents: [\n", []string{"site.yaml: not valid YAML", "line"}},
		{"empty", "", []string{"site.yaml: the file is empty"}},
		{"a list", "- id: 1\n", []string{"site.yaml:1: the file must be a mapping"}},
		{"no version", "events:\n  - {id: 1001, remediation: x}\n", []string{"site.yaml:1: version is missing: start the file with version: 1"}},
		{"wrong version", "version: 2\n", []string{`site.yaml:1: version "2" is not supported`}},
		{"unknown top key", "version: 1\nevent:\n  - {id: 1001}\n", []string{`site.yaml:2: unknown key "event" (did you mean "events"?)`}},
		{"sources", "version: 1\nsources: []\n", []string{"site.yaml:2: sources cannot be changed"}},
		{"unknown event key", "version: 1\nevents:\n  - id: 1001\n    remedation: x\n", []string{`site.yaml:4: event 1001: unknown key "remedation" (did you mean "remediation"?)`}},
		{"unknown code key", "version: 1\ncodes:\n  - code: \"0x00000400\"\n    runbook: https://x.example/\n", []string{`site.yaml:4: code 0x00000400: unknown key "runbook" (did you mean "runbook_url"?)`}},
		{"bad severity", "version: 1\nevents:\n  - id: 1001\n    severity: eror\n", []string{`site.yaml:4: event 1001: severity: "eror" is not a severity: use verbose, information, warning, error or critical`}},
		{"bad id", "version: 1\nevents:\n  - id: abc\n", []string{`site.yaml:3: event: id: "abc" is not an event ID`}},
		{"labels not a map", "version: 1\nevents:\n  - id: 1001\n    labels: [a]\n", []string{"site.yaml:4: event 1001: labels: write a mapping of names to text"}},
		{"bad runbook", "version: 1\nevents:\n  - id: 1001\n    description: d\n    runbook_url: wiki/pki\n", []string{`site.yaml:5: event 1001 (PkcsRequestFailure): runbook_url "wiki/pki" is not an absolute http or https URL`}},
		{"dotted label", "version: 1\nevents:\n  - id: 1001\n    labels: {team.name: pki}\n", []string{`site.yaml:4: event 1001 (PkcsRequestFailure): label "team.name" must start with a letter`}},
		{"empty label", "version: 1\nevents:\n  - id: 1001\n    labels: {team: \"\"}\n", []string{`label "team" has no value`}},
		{"entry names nothing", "version: 1\nevents:\n  - {remediation: x}\n", []string{"site.yaml:3: event: name the event to change with id (or name)"}},
		{"unknown ID alone", "version: 1\nevents:\n  - {id: 1999, remediation: x}\n", []string{"site.yaml:3: event 1999: event 1999 is not in the catalog; to add it, give it a name"}},
		{"unknown name alone", "version: 1\nevents:\n  - {name: NoSuchEvent, remediation: x}\n", []string{"site.yaml:3: event NoSuchEvent: no event is called NoSuchEvent"}},
		{
			"new event incomplete", "version: 1\nevents:\n  - id: 1999\n    name: NewOne\n    outcome: failure\n",
			[]string{"site.yaml:3: event 1999 (NewOne) is not in the catalog, so it is added, and a new event needs generation, channel, severity, description"},
		},
		{
			"new failure without remediation",
			"version: 1\nevents:\n  - id: 1999\n    name: NewOne\n    generation: current\n    channel: Microsoft-Intune-CertificateConnectors/Operational\n    outcome: failure\n    severity: error\n    description: d\n",
			[]string{"site.yaml:3: event 1999 (NewOne): a failure needs a remediation hint"},
		},
		{
			"new event on a channel of the other generation",
			"version: 1\nevents:\n  - {id: 1999, name: NewOne, generation: current, channel: Microsoft Intune Connector, outcome: success, severity: information, description: d}\n",
			[]string{`site.yaml:3: event 1999 (NewOne): channel "Microsoft Intune Connector" is not a current source channel`},
		},
		{
			"new legacy event without category",
			"version: 1\nevents:\n  - {id: 20900, name: NewOne, generation: legacy, channel: Microsoft Intune Connector, outcome: success, severity: information, description: d}\n",
			[]string{"site.yaml:3: event 20900 (NewOne): no category"},
		},
		{"new code without name", "version: 1\ncodes:\n  - {code: \"0x00000412\", message: m}\n", []string{"site.yaml:3: code 0x00000412 is not in the catalog, so it is added, and a new code needs a name and a message"}},
		{"code not hex", "version: 1\ncodes:\n  - {code: CA_down, message: m}\n", []string{`site.yaml:3: code "CA_down" is not a diagnostic code`}},
		{"new code not canonical", "version: 1\ncodes:\n  - {code: \"0x412\", name: N, message: m}\n", []string{`site.yaml:3: code "0x412" must be written as 0x followed by 8 upper-case hex digits`}},
		{"existing category", "version: 1\ncategories:\n  - {slug: pkcs, title: P, generation: current, id_from: 1000, id_to: 1999}\n", []string{`site.yaml:3: category "pkcs" is already in the catalog`}},
		{"event list is a map", "version: 1\nevents: {id: 1001}\n", []string{"site.yaml:2: events must be a list of entries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MustDefault().Layered(CatalogLayer{Name: "site.yaml", Data: []byte(tt.yaml)})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n  %v\nlacks\n  %s", err, w)
				}
			}
		})
	}
}

// TestLayerConflicts: an entry whose ID and name disagree, a rename, a new
// event taking a name or ID that is taken, one event changed twice.
func TestLayerConflicts(t *testing.T) {
	newEvent := func(id, name string) string {
		return "  - {id: " + id + ", name: " + name + ", generation: current, channel: Microsoft-Intune-CertificateConnectors/Operational, outcome: success, severity: information, description: d}\n"
	}
	tests := []struct {
		name   string
		events string
		want   string
	}{
		{"id and name of two events", "  - {id: 1001, name: PkcsRequestSuccess, remediation: x}\n", "site.yaml:3: event 1001 (PkcsRequestSuccess): id 1001 is PkcsRequestFailure in the catalog but name PkcsRequestSuccess is event 1000"},
		{"rename", "  - {id: 1001, name: PkcsFailed, remediation: x}\n", "event 1001 is called PkcsRequestFailure in the catalog and cannot be renamed; leave name out, or add PkcsFailed under name_aliases"},
		{"new event with a taken name", newEvent("1999", "pkcsrequestfailure"), "the name pkcsrequestfailure already belongs to event 1001"},
		{"new event with a taken alias ID", "  - {id: 1999, id_aliases: [2002], name: NewOne, generation: current, channel: Microsoft-Intune-CertificateConnectors/Operational, outcome: success, severity: information, description: d}\n", "ID 2002 is already event PkcsImportDownloadSuccess"},
		{"alias taken by another event", "  - {id: 1001, name_aliases: [PkcsRequestSuccess]}\n", "name alias PkcsRequestSuccess is already event 1000"},
		{"same event twice", "  - {id: 1001, remediation: a}\n  - {name: PkcsRequestFailure, remediation: b}\n", "site.yaml:4: event 1001 (PkcsRequestFailure) is changed twice in this file (also at line 3)"},
		{"same new event twice", newEvent("1999", "NewOne") + newEvent("1999", "NewOne"), "site.yaml:4: event 1999 (NewOne) is added at line 3 of this file"},
		{"two new events, one ID", newEvent("1999", "NewOne") + newEvent("1999", "OtherOne"), "event 1999 (OtherOne) is added at line 3"},
		{"identity change", "  - {id: 1001, outcome: success}\n", `site.yaml:3: event 1001 (PkcsRequestFailure): outcome is "failure" in the catalog and a catalog file cannot change it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MustDefault().Layered(CatalogLayer{Name: "site.yaml", Data: []byte("version: 1\nevents:\n" + tt.events)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n  %v\nwant\n  %s", err, tt.want)
			}
		})
	}
	// Across files, a later file changes what an earlier one added, but
	// cannot rename it.
	a := CatalogLayer{Name: "a.yaml", Data: []byte("version: 1\nevents:\n" + newEvent("1999", "NewOne"))}
	b := CatalogLayer{Name: "b.yaml", Data: []byte("version: 1\nevents:\n" + newEvent("1999", "OtherOne"))}
	if _, err := MustDefault().Layered(a, b); err == nil || !strings.Contains(err.Error(), "b.yaml:3: event 1999 (OtherOne): event 1999 is called NewOne") {
		t.Errorf("second file renaming the first one's event: %v", err)
	}
	// Both files' problems are reported, not only the first's.
	bad1 := CatalogLayer{Name: "one.yaml", Data: []byte("version: 1\nevents:\n  - {id: 1001, remedation: x}\n")}
	bad2 := CatalogLayer{Name: "two.yaml", Data: []byte("version: 3\n")}
	_, err := MustDefault().Layered(bad1, bad2)
	if err == nil || !strings.Contains(err.Error(), "one.yaml:3") || !strings.Contains(err.Error(), "two.yaml:1") {
		t.Errorf("two bad files: %v", err)
	}
}

// TestOverridesNameEventsOfCatalogFiles: a severity override may name an
// event a catalog file adds; Validate leaves that name to the component,
// which checks it against the layered catalog.
func TestOverridesNameEventsOfCatalogFiles(t *testing.T) {
	cfg := Config{CatalogFiles: []string{"site.yaml"}, SeverityOverrides: []SeverityOverride{{Event: "ExampleSitePkcsEvent", Severity: SeverityCritical}}}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := cfg.CheckOverrideNames(layered(t, exampleFile(t))); err != nil {
		t.Errorf("against the layered catalog: %v", err)
	}
	if err := cfg.CheckOverrideNames(MustDefault()); err == nil || !strings.Contains(err.Error(), "ExampleSitePkcsEvent") {
		t.Errorf("against the embedded catalog: %v", err)
	}
	cfg.CatalogFiles = nil
	if err := cfg.Validate(); err == nil {
		t.Error("an unknown name without catalog files passed Validate")
	}
	cfg = Config{CatalogFiles: []string{" "}, SeverityOverrides: []SeverityOverride{{Event: "X"}}}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "catalog_files[0]: the path is empty") || !strings.Contains(err.Error(), "severity is required") {
		t.Errorf("Validate: %v", err)
	}

	en, err := NewEnricher(layered(t, exampleFile(t)), Config{SeverityOverrides: []SeverityOverride{{Event: "ExampleSitePkcsEvent", Severity: SeverityCritical}}})
	if err != nil {
		t.Fatal(err)
	}
	ev := currentEvent(1999, "Operational")
	if res := en.Enrich(&ev, plog.NewLogRecord()); res.Severity != SeverityCritical {
		t.Errorf("severity %v, want critical", res.Severity)
	}
}

func TestAnnotationsMerge(t *testing.T) {
	cat := layered(t, CatalogLayer{Name: "x.yaml", Data: []byte(`version: 1
events:
  - {id: 20102, runbook_url: "https://e.example/20102", labels: {a: "1", m: ev, z: "26"}}
codes:
  - {code: "0x00000400", labels: {b: "2", m: code}}
  - {code: "0x00000000", runbook_url: "https://e.example/ok", labels: {ok: "yes"}}
`)})
	e := cat.Event(20102)
	ca, _, _ := cat.Code("0x00000400")
	ok, _, _ := cat.Code("0x00000000")
	tests := []struct {
		name    string
		code    *CodeEntry
		isError bool
		runbook string
		labels  string
	}{
		{"no code", nil, false, "https://e.example/20102", "a=1 m=ev z=26"},
		{"error code with labels, no link", ca, true, "https://e.example/20102", "a=1 b=2 m=code z=26"},
		{"success code adds nothing", ok, false, "https://e.example/20102", "a=1 m=ev z=26"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, ls := Annotations(e, tt.code, tt.isError)
			var got []string
			for _, l := range ls {
				got = append(got, l.Name+"="+l.Value)
			}
			if rb != tt.runbook || strings.Join(got, " ") != tt.labels {
				t.Errorf("got %q %v, want %q %s", rb, got, tt.runbook, tt.labels)
			}
		})
	}
	if rb, ls := Annotations(nil, ca, true); rb != "" || len(ls) != 2 {
		t.Errorf("unknown event with a known code: %q %v", rb, ls)
	}
}
