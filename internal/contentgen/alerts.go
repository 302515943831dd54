// Package contentgen writes the SOC content under content/: the Kibana data
// view, dashboard and saved search, the Elastic Security detection rules,
// and the Splunk app. Everything that names an event, a diagnostic code, a
// severity or a remediation hint is derived here from the catalog and the
// severity table, so the content cannot disagree with the records the
// collector writes. The generated files are committed; a test fails when
// they drift from what this package produces (fix with
// `go run ./internal/tools/contentgen`).
package contentgen

import (
	"crypto/sha1"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// RuleKind is the Elastic Security rule type an alert is written as.
type RuleKind string

const (
	KindQuery     RuleKind = "query"
	KindThreshold RuleKind = "threshold"
	KindNewTerms  RuleKind = "new_terms"
	KindESQL      RuleKind = "esql"
)

// Index is the index pattern the content reads: every namespace of the
// connector's data stream.
const Index = "logs-intune_connector.*"

// Sourcetype is the Splunk sourcetype of HEC events.
const Sourcetype = mapping.DefaultSourcetype

// Windows of the absence rules, shared by the Kibana and Splunk versions.
const (
	// ServiceDownMinutes is how long the legacy connector service may stay
	// stopped before the alert fires.
	ServiceDownMinutes = 15
	// SilentHours is how long a connector host that sent events may stay
	// quiet before the alert fires.
	SilentHours = 4
	// ScepBurst is how many SCEP verification failures from one host within
	// ScepBurstMinutes raise the burst alert.
	ScepBurst        = 10
	ScepBurstMinutes = 15
	// NewTermsHistoryDays is how far back an event ID must be absent for the
	// unknown-event rule to call it new.
	NewTermsHistoryDays = 14
)

// Alert is one detection, written both as an Elastic Security rule and as
// a Splunk saved search.
type Alert struct {
	// Slug names the alert in file names and tests.
	Slug        string
	Name        string
	Description string
	// Events and Codes are the catalog entries the alert is about. Their
	// severities set the alert's severity and their remediation hints make
	// up its note.
	Events []*mapping.EventEntry
	Codes  []*mapping.CodeEntry
	// Severity is the alert's severity: the worst of its entries, or a
	// stated level when the alert is about a situation rather than one
	// event (SeverityReason says why).
	Severity       mapping.Severity
	SeverityReason string
	// ExtraNote is written before the catalog remediation, for alerts that
	// the catalog alone cannot explain (absence of events).
	ExtraNote string

	Kind RuleKind
	// KQL is the query of query, threshold and new_terms rules.
	KQL string
	// ESQL is the query of esql rules.
	ESQL string
	// ThresholdField and ThresholdValue: an alert per value of the field
	// that reaches the count.
	ThresholdField string
	ThresholdValue int
	// NewTermsFields and NewTermsHistory: an alert when a value was not seen
	// in the history window.
	NewTermsFields  []string
	NewTermsHistory string
	// Interval and From: how often the rule runs and how far back it looks.
	Interval, From string
	// Threat is the MITRE ATT&CK mapping, where one honestly applies.
	Threat []Threat

	// SPL is the Splunk search; Earliest and Cron schedule it.
	SPL      string
	Earliest string
	Cron     string
	// SuppressFields names the fields by which Splunk throttles the alert.
	SuppressFields []string
}

// Threat is one MITRE ATT&CK tactic and technique.
type Threat struct {
	TacticID, TacticName, TechniqueID, TechniqueName string
}

// RuleID is the stable rule_id of the alert's detection rule.
func (a *Alert) RuleID() string { return stableUUID("rule/" + a.Slug) }

// SeverityInfo is the alert's row in the severity table.
func (a *Alert) SeverityInfo() mapping.SeverityInfo { return a.Severity.Info() }

// Note is the rule's investigation guide: the catalog remediation of every
// entry the alert covers, in Markdown.
func (a *Alert) Note() string {
	var b strings.Builder
	b.WriteString("## What to do\n\n")
	if a.ExtraNote != "" {
		b.WriteString(a.ExtraNote)
		b.WriteString("\n\n")
	}
	for _, e := range a.Events {
		if e.Remediation == "" {
			continue
		}
		fmt.Fprintf(&b, "**Event %d %s** (%s connector): %s\n\n", e.ID, e.Name, e.Generation, e.Remediation)
	}
	for _, c := range a.Codes {
		if c.Remediation == "" {
			continue
		}
		fmt.Fprintf(&b, "**Diagnostic code %s %s**: %s\n\n", c.Code, c.Name, c.Remediation)
	}
	return strings.TrimRight(b.String(), "\n")
}

// PlainNote is Note without Markdown, for Splunk's one-line descriptions.
func (a *Alert) PlainNote() string {
	var parts []string
	if a.ExtraNote != "" {
		parts = append(parts, a.ExtraNote)
	}
	for _, e := range a.Events {
		if e.Remediation != "" {
			parts = append(parts, fmt.Sprintf("Event %d %s: %s", e.ID, e.Name, e.Remediation))
		}
	}
	for _, c := range a.Codes {
		if c.Remediation != "" {
			parts = append(parts, fmt.Sprintf("Code %s %s: %s", c.Code, c.Name, c.Remediation))
		}
	}
	return strings.Join(parts, " ")
}

// Alerts builds the alert set from the catalog. It fails when an event or
// code the alerts rely on has left the catalog, so a catalog change cannot
// silently hollow out a rule.
func Alerts(cat *mapping.Catalog) ([]*Alert, error) {
	var errs []string
	ev := func(name string) *mapping.EventEntry {
		e := cat.EventByName(name)
		if e == nil {
			errs = append(errs, "event "+name+" is not in the catalog")
			return &mapping.EventEntry{Name: name}
		}
		return e
	}
	code := func(c string) *mapping.CodeEntry {
		ce, _, ok := cat.Code(c)
		if !ok {
			errs = append(errs, "code "+c+" is not in the catalog")
			return &mapping.CodeEntry{Code: c}
		}
		return ce
	}
	// Connector certificate events: every legacy failure in that category.
	var certEvents []*mapping.EventEntry
	for _, e := range cat.EventsSorted() {
		if e.Category == "connector_certificate" && e.Outcome == mapping.OutcomeFailure {
			certEvents = append(certEvents, e)
		}
	}
	if len(certEvents) == 0 {
		errs = append(errs, "the catalog has no connector_certificate failures")
	}

	stopped, started := ev("StoppedConnectorService"), ev("StartedConnectorService")
	scep := []*mapping.EventEntry{ev("CRPVerifyMetric_Failure"), ev("ScepVerifyFailure")}

	alerts := []*Alert{
		{
			Slug: "connector-certificate",
			Name: "Intune connector: connector certificate expired or renewal failing",
			Description: "The Intune Certificate Connector cannot renew or load the client certificate it authenticates to Intune with, " +
				"or reports it expired. Once that certificate is unusable the connector stops issuing and revoking certificates for Intune.",
			Events: certEvents,
			Codes:  []*mapping.CodeEntry{code("0x00000405")},
			Kind:   KindQuery,
			KQL:    orQuery(kqlIn(mapping.AttrEventAction, names(certEvents)), kqlIn(mapping.AttrIntuneDiagCode, []string{"0x00000405"})),
			SPL: search(splIn("signature", names(certEvents))+" OR diagnostic_code=\"0x00000405\"") +
				" | stats count min(_time) AS first_seen max(_time) AS last_seen values(signature) AS signature values(diagnostic_code) AS diagnostic_code BY dest",
			Interval: "5m", From: "now-6m", Earliest: "-6m", Cron: "*/5 * * * *",
			SuppressFields: []string{"dest"},
		},
		{
			Slug: "ca-unavailable",
			Name: "Intune connector: certification authority unavailable",
			Description: "PKCS certificates are not being issued because the connector cannot reach the certification authority " +
				"(diagnostic code 0x00000400) or the CA gave up on requests (PkcsIssuedFailure).",
			Events:   []*mapping.EventEntry{ev("PkcsIssuedFailure")},
			Codes:    []*mapping.CodeEntry{code("0x00000400")},
			Kind:     KindQuery,
			KQL:      orQuery(kqlIn(mapping.AttrIntuneDiagCode, []string{"0x00000400"}), kqlIn(mapping.AttrEventAction, []string{"PkcsIssuedFailure"})),
			SPL:      search("diagnostic_code=\"0x00000400\" OR signature=\"PkcsIssuedFailure\"") + " | stats count values(intune.certificate_authority) AS certificate_authority values(intune.certificate.template) AS template BY dest",
			Interval: "5m", From: "now-6m", Earliest: "-6m", Cron: "*/5 * * * *",
			SuppressFields: []string{"dest"},
		},
		{
			Slug: "revocation-failing",
			Name: "Intune connector: certificate revocation denied or failing",
			Description: "Certificates Intune wants revoked stay valid: the legacy connector reports access denied on the CA " +
				"(0x00000402), or the current connector reports revocation failures (RevokeRequestFailure, RevokeFailure), whose " +
				"exception text gives the reason, access denied included.",
			Events:   []*mapping.EventEntry{ev("RevokeRequestFailure"), ev("RevokeFailure")},
			Codes:    []*mapping.CodeEntry{code("0x00000402")},
			Kind:     KindQuery,
			KQL:      orQuery(kqlIn(mapping.AttrIntuneDiagCode, []string{"0x00000402"}), kqlIn(mapping.AttrEventAction, []string{"RevokeRequestFailure", "RevokeFailure"})),
			SPL:      search("diagnostic_code=\"0x00000402\" OR "+splIn("signature", []string{"RevokeRequestFailure", "RevokeFailure"})) + " | stats count values(intune.certificate_authority) AS certificate_authority values(intune.certificate.serial_number) AS serial_number BY dest signature",
			Interval: "5m", From: "now-6m", Earliest: "-6m", Cron: "*/5 * * * *",
			SuppressFields: []string{"dest", "signature"},
		},
		{
			Slug: "scep-verify-burst",
			Name: "Intune connector: burst of SCEP verification failures",
			Description: fmt.Sprintf("At least %d SCEP challenge verification failures from one connector host within %d minutes: "+
				"devices are not getting SCEP certificates.", ScepBurst, ScepBurstMinutes),
			Events:         scep,
			Kind:           KindThreshold,
			KQL:            kqlIn(mapping.AttrEventAction, names(scep)),
			ThresholdField: mapping.AttrHostName,
			ThresholdValue: ScepBurst,
			SPL:            search(splIn("signature", names(scep))) + fmt.Sprintf(" | stats count BY dest | where count >= %d", ScepBurst),
			Interval:       "5m", From: fmt.Sprintf("now-%dm", ScepBurstMinutes), Earliest: fmt.Sprintf("-%dm", ScepBurstMinutes), Cron: "*/5 * * * *",
			SuppressFields: []string{"dest"},
		},
		{
			Slug: "service-stopped",
			Name: "Intune connector: connector service stopped and not started again",
			Description: fmt.Sprintf("The legacy Intune connector service stopped (%s, %d) and did not start again (%s, %d) within %d minutes.",
				stopped.Name, stopped.ID, started.Name, started.ID, ServiceDownMinutes),
			Events:         []*mapping.EventEntry{stopped},
			Severity:       mapping.SeverityError,
			SeverityReason: "a stop alone is a warning in the catalog; a stop that lasts means no certificates are issued or revoked",
			Kind:           KindESQL,
			// The rule runs every 10 minutes and reports a stop once, in the
			// run where it has lasted between N and N+10 minutes; From
			// covers that span plus a margin for late events.
			ESQL: fmt.Sprintf(`FROM %s
| WHERE event.code IN ("%d", "%d")
| EVAL stop_time = CASE(event.code == "%d", @timestamp, null), start_time = CASE(event.code == "%d", @timestamp, null)
| STATS last_stop = MAX(stop_time), last_start = MAX(start_time) BY host.name
| WHERE last_stop IS NOT NULL AND (last_start IS NULL OR last_start < last_stop) AND last_stop <= NOW() - %d minutes AND last_stop > NOW() - %d minutes`,
				Index, stopped.ID, started.ID, stopped.ID, started.ID, ServiceDownMinutes, ServiceDownMinutes+10),
			SPL: search(fmt.Sprintf("signature_id IN (%d, %d)", stopped.ID, started.ID)) +
				fmt.Sprintf(` | eval stop_time=if(signature_id="%d", _time, null()), start_time=if(signature_id="%d", _time, null())`, stopped.ID, started.ID) +
				" | stats max(stop_time) AS last_stop max(start_time) AS last_start BY dest" +
				fmt.Sprintf(` | where isnotnull(last_stop) AND (isnull(last_start) OR last_start < last_stop) AND last_stop <= relative_time(now(), "-%dm") AND last_stop > relative_time(now(), "-%dm")`, ServiceDownMinutes, ServiceDownMinutes+10),
			Interval: "10m", From: fmt.Sprintf("now-%dm", ServiceDownMinutes+15), Earliest: fmt.Sprintf("-%dm", ServiceDownMinutes+15), Cron: "*/10 * * * *",
			Threat:         []Threat{{"TA0040", "Impact", "T1489", "Service Stop"}},
			SuppressFields: []string{"dest"},
		},
		{
			Slug: "host-silent",
			Name: "Intune connector: no events from a connector host",
			Description: fmt.Sprintf("A connector host that sent events has sent none for %d hours. The connector service, the server "+
				"or the collector that ships its events may be down.", SilentHours),
			Events:         []*mapping.EventEntry{stopped},
			Severity:       mapping.SeverityError,
			SeverityReason: "no events means no view of issuance and revocation on that server",
			ExtraNote: "Check that the server is up, that the connector services run (legacy: Intune Connector Service; current: the " +
				"PKI create and revoke connector services), and that the OpenTelemetry collector on it runs and can reach the " +
				"backend (its own logs and its otelcol_intune_ metrics tell). If the server was retired on purpose, the alert stops once " +
				"its last events leave the look-back window.",
			Kind: KindESQL,
			// Reported once, in the hourly run where the silence crosses N
			// hours; hosts quiet for longer fall out of the window.
			ESQL: fmt.Sprintf(`FROM %s
| STATS last_seen = MAX(@timestamp), events = COUNT(*) BY host.name
| WHERE last_seen <= NOW() - %d hours`, Index, SilentHours),
			SPL:      search("") + fmt.Sprintf(` | stats max(_time) AS last_seen count AS events BY dest | where last_seen <= relative_time(now(), "-%dh")`, SilentHours),
			Interval: "1h", From: fmt.Sprintf("now-%dh", SilentHours+1), Earliest: fmt.Sprintf("-%dh", SilentHours+1), Cron: "5 * * * *",
			SuppressFields: []string{"dest"},
		},
		{
			Slug: "unknown-event",
			Name: "Intune connector: unknown event ID appeared",
			Description: "The connector wrote an event ID the catalog does not know, for the first time in " + strconv.Itoa(NewTermsHistoryDays) +
				" days. A new connector version probably added it; it passes through unexplained until the catalog learns it.",
			Severity:       mapping.SeverityWarning,
			SeverityReason: "not a fault in itself, but alerts and dashboards do not cover the new event yet",
			ExtraNote: "Look the event up in the connector's release notes and Microsoft's documentation, run `intunectl explain <id>` " +
				"with the newest otelcol-intune, and update the collector when its catalog knows the event. Check the event's " +
				"winlog.event_data and message for failures meanwhile.",
			Kind:            KindNewTerms,
			KQL:             mapping.AttrIntuneMatched + ": false",
			NewTermsFields:  []string{mapping.AttrEventCode},
			NewTermsHistory: fmt.Sprintf("now-%dd", NewTermsHistoryDays),
			// Splunk has no new-terms search: look back over the history
			// window and keep the IDs first seen in the last run's span.
			SPL: search("intune.matched=false") + " | stats min(_time) AS first_seen count values(dest) AS dest BY signature_id" +
				` | where first_seen > relative_time(now(), "-65m")`,
			Interval: "1h", From: "now-65m", Earliest: fmt.Sprintf("-%dd", NewTermsHistoryDays), Cron: "0 * * * *",
			SuppressFields: []string{"signature_id"},
		},
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("contentgen: the alerts need catalog entries that are missing: %s", strings.Join(errs, "; "))
	}
	for _, a := range alerts {
		if a.Severity == mapping.SeverityUnset {
			for _, e := range a.Events {
				a.Severity = max(a.Severity, e.Severity)
			}
			for _, c := range a.Codes {
				a.Severity = max(a.Severity, c.Severity)
			}
		}
	}
	return alerts, nil
}

func names(es []*mapping.EventEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

// kqlIn is `field: ("a" or "b")`, or `field: "a"` for one value.
func kqlIn(field string, values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	if len(q) == 1 {
		return field + ": " + q[0]
	}
	return field + ": (" + strings.Join(q, " or ") + ")"
}

func orQuery(parts ...string) string { return strings.Join(parts, " or ") }

// search starts a Splunk search over the connector's index (through the
// app's macro) and sourcetype.
func search(terms string) string {
	s := "search " + splunkBase
	if terms != "" {
		s += " (" + terms + ")"
	}
	return s
}

func splIn(field string, values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	return field + " IN (" + strings.Join(q, ", ") + ")"
}

// stableUUID derives a UUID-shaped identifier from a name, so generated
// saved objects and rules keep their IDs from one generation to the next
// and a re-import updates rather than duplicates them.
func stableUUID(name string) string {
	h := sha1.Sum([]byte("otelcol-intune/" + name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// sortedCopy returns s sorted, leaving s alone.
func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
