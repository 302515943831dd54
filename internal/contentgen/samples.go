package contentgen

import (
	"bytes"
	"fmt"
	"time"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/eventgen"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Sample is the input that should trigger one alert, and the time at which
// the alert's rule would run over it.
type Sample struct {
	Events []wineventlog.Event
	// At is when the rule runs; absence rules need time to pass after the
	// last event.
	At time.Time
}

// SilentHost is the connector host of the host-silent sample.
const SilentHost = "NDES02.contoso.example"

// AlertSamples builds a sample per alert from the catalog through the
// event generator, so every alert has events in testdata that should
// raise it.
func AlertSamples(cat *mapping.Catalog, alerts []*Alert) (map[string]Sample, error) {
	gen := func(name, code string, n int) (wineventlog.Event, error) {
		e := cat.EventByName(name)
		if e == nil {
			return wineventlog.Event{}, fmt.Errorf("contentgen: sample event %s is not in the catalog", name)
		}
		return eventgen.Rendered(cat, eventgen.Event(cat, eventgen.Case{Entry: e, Code: code}, n)), nil
	}
	type spec struct {
		name, code string
		n          int
		host       string
	}
	build := func(specs ...spec) ([]wineventlog.Event, error) {
		var out []wineventlog.Event
		for _, s := range specs {
			ev, err := gen(s.name, s.code, s.n)
			if err != nil {
				return nil, err
			}
			if s.host != "" {
				ev.Computer = s.host
			}
			out = append(out, ev)
		}
		return out, nil
	}
	base := eventgen.Base
	out := map[string]Sample{}
	for _, a := range alerts {
		var specs []spec
		at := base.Add(time.Minute)
		switch a.Slug {
		case "connector-certificate":
			specs = []spec{{name: "CertificateRenewal_Failure", code: "0x00000405"}}
		case "ca-unavailable":
			specs = []spec{{name: "PkcsCertIssue_Failure", code: "0x00000400"}, {name: "PkcsIssuedFailure", n: 1}}
		case "revocation-failing":
			specs = []spec{{name: "RevokeCert_Failure", code: "0x00000402"}, {name: "RevokeFailure", n: 1}, {name: "RevokeRequestFailure", n: 2}}
		case "scep-verify-burst":
			for i := 0; i < ScepBurst+2; i++ {
				name := "ScepVerifyFailure"
				if i%3 == 0 {
					name = "CRPVerifyMetric_Failure"
				}
				// 1.5 s apart: well inside the window.
				specs = append(specs, spec{name: name, code: "0x00000408", n: i})
			}
			for i := range specs {
				if specs[i].name == "ScepVerifyFailure" {
					specs[i].code = ""
				}
			}
		case "service-stopped":
			specs = []spec{{name: "StartedConnectorService", code: "0x00000000"}, {name: "StoppedConnectorService", code: "0x00000000", n: 400}}
			at = base.Add(400*1500*time.Millisecond + time.Duration(ServiceDownMinutes+5)*time.Minute)
		case "host-silent":
			specs = []spec{{name: "PkcsCertIssue_Success", code: "0x00000000", host: SilentHost}, {name: "RevokeCert_Success", code: "0x00000000", n: 1, host: SilentHost}}
			at = base.Add(time.Duration(SilentHours)*time.Hour + 30*time.Minute)
		case "unknown-event":
			evs, err := build(spec{name: "RevokeFailure"})
			if err != nil {
				return nil, err
			}
			// An ID no catalog range or entry holds, from the current
			// connector's provider: what a new connector version writes.
			ev := evs[0]
			ev.EventID, ev.Task, ev.TaskText, ev.Message = 6101, 65534-6101, "", "A new connector event."
			out[a.Slug] = Sample{Events: []wineventlog.Event{ev}, At: at}
			continue
		default:
			return nil, fmt.Errorf("contentgen: alert %s has no sample; add one", a.Slug)
		}
		evs, err := build(specs...)
		if err != nil {
			return nil, err
		}
		out[a.Slug] = Sample{Events: evs, At: at}
	}
	return out, nil
}

// sampleXML writes a sample as a wevtutil export with rendering info, with
// the run time recorded in a comment-free way: the file name carries the
// slug, and tests rebuild At from AlertSamples.
func sampleXML(s Sample) ([]byte, error) {
	var b bytes.Buffer
	if err := wineventlog.WriteEventsDocument(&b, s.Events, wineventlog.XMLRendered); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
