package main

import "github.com/otelcol-intune/otelcol-intune/mapping"

// The report's "devices with failures" section: the devices with the most
// failing events, each with the latest steps of its journey.
const (
	reportDevices    = 10
	reportChainSteps = 8
)

type deviceView struct {
	ID            string
	Failures      int
	LastFailure   string
	Steps         []stepView
	Shown, Total  int
	LatestFailure *stepView
}

type stepView struct {
	N                                         int
	Time, Outcome, OutcomeClass, Title, Code  string
	Host, CodeName, Message, Remediation, URL string
}

func (r *reportData) deviceViews() []deviceView {
	var out []deviceView
	for _, d := range r.journeys.devicesWithFailures(reportDevices) {
		steps := d.steps
		v := deviceView{ID: d.id, Failures: d.failures, LastFailure: fmtTime(d.last), Total: len(steps)}
		if len(steps) > reportChainSteps {
			steps = steps[len(steps)-reportChainSteps:]
		}
		v.Shown = len(steps)
		for _, s := range steps {
			sv := stepView{
				N: s.N, Time: fmtTime(s.Time), Outcome: s.Outcome, OutcomeClass: outcomeClass(s.Outcome), Title: stepTitle(s),
				Code: s.Code, CodeName: s.CodeName, Host: s.Host, Message: s.Message, Remediation: s.Remediation, URL: s.RunbookURL,
			}
			v.Steps = append(v.Steps, sv)
			if s.Outcome == string(mapping.OutcomeFailure) {
				latest := sv
				v.LatestFailure = &latest
			}
		}
		out = append(out, v)
	}
	return out
}

func outcomeClass(o string) string {
	switch o {
	case string(mapping.OutcomeFailure):
		return "st-bad"
	case string(mapping.OutcomeSuccess):
		return "st-ok"
	}
	return "st-warn"
}
