package contentgen

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// projected is one sample event as the two backends store it.
type projected struct {
	ecs, hec Doc
	time     time.Time
}

// loadSample reads an alert's committed sample file the way the collector
// would, and projects every event to ECS and HEC.
func loadSample(t *testing.T, slug string) []projected {
	t.Helper()
	en, err := mapping.NewEnricher(mapping.MustDefault(), mapping.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := eventfile.Open(filepath.Join(contentDir, "testdata", "alerts", slug+".xml"), eventfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []projected
	for {
		rec, err := f.Next()
		if err != nil {
			break
		}
		lr := plog.NewLogRecord()
		en.Enrich(&rec.Event, lr)
		res := pcommon.NewResource()
		var ecs, hec map[string]any
		if err := json.Unmarshal(mapping.AppendECS(nil, res, lr, mapping.ECSOptions{DataStream: true}), &ecs); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(mapping.AppendHEC(nil, res, lr, mapping.HECOptions{Index: DefaultSplunkIndex}), &hec); err != nil {
			t.Fatal(err)
		}
		// What a Splunk search sees: the envelope's metadata, the
		// index-time fields and the event's members by dotted name.
		hd := Flatten(hec["event"])
		for k, v := range Flatten(hec["fields"]) {
			hd[k] = v
		}
		for _, k := range []string{"host", "source", "sourcetype", "index"} {
			if s, ok := hec[k].(string); ok {
				hd[k] = []string{s}
			}
		}
		out = append(out, projected{ecs: Flatten(ecs), hec: hd, time: rec.Event.TimeCreated})
	}
	if len(out) == 0 {
		t.Fatalf("sample %s has no events", slug)
	}
	return out
}

// TestAlertSamplesTrigger shows, for every alert, that its sample event in
// content/testdata/alerts carries the fields and values the Kibana rule
// and the Splunk search filter on, in the ECS and HEC projections, and that
// the sample meets the rule's count or timing condition.
func TestAlertSamplesTrigger(t *testing.T) {
	cat := mapping.MustDefault()
	alerts, err := Alerts(cat)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := AlertSamples(cat, alerts)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		t.Run(a.Slug, func(t *testing.T) {
			evs := loadSample(t, a.Slug)
			at := samples[a.Slug].At

			var kib Cond
			switch a.Kind {
			case KindESQL:
				kib, err = ParseESQLWhere(a.ESQL)
			default:
				kib, err = ParseKQL(a.KQL)
			}
			if err != nil {
				t.Fatal(err)
			}
			spl, err := ParseSPLSearch(a.SPL)
			if err != nil {
				t.Fatal(err)
			}
			var kibHits, splHits []projected
			for _, e := range evs {
				if kib.Match(e.ecs) {
					kibHits = append(kibHits, e)
				}
				if spl.Match(e.hec) {
					splHits = append(splHits, e)
				}
			}
			if len(kibHits) == 0 {
				t.Fatalf("no sample event matches the Kibana condition (%s)", strings.Join(Pairs(kib), ", "))
			}
			if len(splHits) == 0 {
				t.Fatalf("no sample event matches the Splunk search (%s)", strings.Join(Pairs(spl), ", "))
			}
			// Each alternative of the Kibana query is exercised by the
			// sample, so none of them can break unnoticed.
			if branches, ok := kib.(orCond); ok {
				for _, b := range branches {
					hit := false
					for _, e := range evs {
						hit = hit || b.Match(e.ecs)
					}
					if !hit {
						t.Errorf("no sample event matches the alternative %s", strings.Join(Pairs(b), ", "))
					}
				}
			}
			for name, hits := range map[string][]projected{"Kibana": kibHits, "Splunk": splHits} {
				hostField := mapping.AttrHostName
				doc := func(p projected) Doc { return p.ecs }
				if name == "Splunk" {
					hostField = "dest"
					doc = func(p projected) Doc { return p.hec }
				}
				byHost := map[string][]projected{}
				for _, h := range hits {
					hs := doc(h)[hostField]
					if len(hs) == 0 {
						t.Fatalf("%s: sample event lacks %s, which the alert groups by", name, hostField)
					}
					byHost[hs[0]] = append(byHost[hs[0]], h)
				}
				switch a.Slug {
				case "scep-verify-burst":
					for host, hs := range byHost {
						span := hs[len(hs)-1].time.Sub(hs[0].time)
						if len(hs) < a.ThresholdValue || span > time.Duration(ScepBurstMinutes)*time.Minute {
							t.Errorf("%s: host %s has %d failures in %s; the rule needs %d within %d minutes", name, host, len(hs), span, a.ThresholdValue, ScepBurstMinutes)
						}
					}
				case "service-stopped":
					// The rule's condition: the host's last stop is later
					// than its last start and between N and N+10 minutes old.
					for host, hs := range byHost {
						var lastStop, lastStart time.Time
						for _, h := range hs {
							if strings.Contains(strings.Join(doc(h)["event.code"], "")+strings.Join(doc(h)["signature_id"], ""), strconv.Itoa(10020)) {
								lastStop = h.time
							} else {
								lastStart = h.time
							}
						}
						age := at.Sub(lastStop)
						if lastStop.IsZero() || lastStart.After(lastStop) || age <= time.Duration(ServiceDownMinutes)*time.Minute || age > time.Duration(ServiceDownMinutes+10)*time.Minute {
							t.Errorf("%s: host %s: last stop %s, last start %s, run at %s: the rule would not fire", name, host, lastStop, lastStart, at)
						}
					}
				case "host-silent":
					for host, hs := range byHost {
						age := at.Sub(hs[len(hs)-1].time)
						if age < time.Duration(SilentHours)*time.Hour || age > time.Duration(SilentHours+1)*time.Hour {
							t.Errorf("%s: host %s last seen %s before the run; the rule needs %d to %d hours", name, host, age, SilentHours, SilentHours+1)
						}
					}
				}
			}
			// Every field either query names exists in the sample's
			// projection (fields the queries compute themselves aside).
			ecsFields, _ := QueryFields(map[bool]string{true: "esql", false: "kuery"}[a.Kind == KindESQL], map[bool]string{true: a.ESQL, false: a.KQL}[a.Kind == KindESQL])
			for _, f := range ecsFields {
				if f != "@timestamp" && len(kibHits[0].ecs[f]) == 0 && !anyHas(kibHits, func(p projected) Doc { return p.ecs }, f) {
					t.Errorf("no matching ECS document has %s", f)
				}
			}
		})
	}
}

func anyHas(ps []projected, doc func(projected) Doc, f string) bool {
	for _, p := range ps {
		if len(doc(p)[f]) > 0 {
			return true
		}
	}
	return false
}

// TestSamplesDoNotMatchEverything guards the evaluator: routine success
// events must not raise the failure alerts.
func TestSamplesDoNotMatchEverything(t *testing.T) {
	cat := mapping.MustDefault()
	alerts, err := Alerts(cat)
	if err != nil {
		t.Fatal(err)
	}
	ok := loadSample(t, "host-silent") // success events only
	for _, a := range alerts {
		if a.Kind == KindESQL || a.Kind == KindNewTerms {
			continue
		}
		kib, err := ParseKQL(a.KQL)
		if err != nil {
			t.Fatal(err)
		}
		spl, err := ParseSPLSearch(a.SPL)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ok {
			if kib.Match(e.ecs) || spl.Match(e.hec) {
				t.Errorf("%s matches a success event: %v", a.Slug, e.ecs["event.action"])
			}
		}
	}
	unknown := loadSample(t, "unknown-event")
	for _, e := range unknown {
		if e.ecs["intune.matched"][0] != "false" || e.hec["intune.matched"][0] != "false" {
			t.Errorf("the unknown-event sample is matched: %v", e.ecs["intune.matched"])
		}
	}
}
