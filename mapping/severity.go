package mapping

import (
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Severity is the project's one severity scale. Every downstream scale (OTel,
// ECS, Splunk CIM, Kibana rules) is derived from it by the table below, so a
// change of severity in the catalog or in config moves all of them together.
type Severity uint8

const (
	SeverityUnset Severity = iota
	SeverityVerbose
	SeverityInformation
	SeverityWarning
	SeverityError
	SeverityCritical
)

// SeverityInfo is one row of the severity table.
type SeverityInfo struct {
	Severity Severity
	// Name is the catalog and config spelling, also ECS log.level.
	Name string
	// Text is the OTel SeverityText.
	Text   string
	Number plog.SeverityNumber
	// SplunkSeverity and SplunkSeverityID follow the CIM severity values and
	// the OCSF-style numeric scale (1 informational ... 5 critical).
	SplunkSeverity   string
	SplunkSeverityID int
	// KibanaSeverity and KibanaRiskScore are what detection rules use.
	KibanaSeverity  string
	KibanaRiskScore int
	// WindowsLevels are the Windows event levels that fall back to this
	// severity when the event is not in the catalog.
	WindowsLevels []uint8
}

// SeverityTable is the documented mapping; README's severity table is
// generated from it.
var SeverityTable = []SeverityInfo{
	{SeverityVerbose, "verbose", "Verbose", plog.SeverityNumberDebug, "informational", 1, "low", 21, []uint8{5}},
	{SeverityInformation, "information", "Information", plog.SeverityNumberInfo, "informational", 1, "low", 21, []uint8{0, 4}},
	{SeverityWarning, "warning", "Warning", plog.SeverityNumberWarn, "medium", 3, "medium", 47, []uint8{3}},
	{SeverityError, "error", "Error", plog.SeverityNumberError, "high", 4, "high", 73, []uint8{2}},
	{SeverityCritical, "critical", "Critical", plog.SeverityNumberFatal, "critical", 5, "critical", 99, []uint8{1}},
}

// Info returns the table row for s; SeverityUnset yields the information row.
func (s Severity) Info() SeverityInfo {
	if s >= SeverityVerbose && int(s) <= len(SeverityTable) {
		return SeverityTable[s-1]
	}
	return SeverityTable[SeverityInformation-1]
}

func (s Severity) String() string {
	if s == SeverityUnset {
		return ""
	}
	return s.Info().Name
}

// severityNames lists the names config takes, mildest first.
const severityNames = "verbose, information, warning, error or critical"

// ParseSeverity accepts the catalog names and the common synonyms users type
// in config (info, warn, err, fatal). Numbers are refused: the Windows level
// (2 is error), ECS event.severity and Splunk severity_id (4 is error) count
// differently, so a number would be read on one scale and meant on another.
func ParseSeverity(s string) (Severity, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "verbose", "debug", "trace":
		return SeverityVerbose, nil
	case "information", "informational", "info":
		return SeverityInformation, nil
	case "warning", "warn":
		return SeverityWarning, nil
	case "error", "err", "high":
		return SeverityError, nil
	case "critical", "fatal", "crit":
		return SeverityCritical, nil
	}
	if n, err := strconv.Atoi(t); err == nil {
		hint := ""
		if n >= 0 && n <= 5 {
			hint = fmt.Sprintf("; Windows level %d is %s", n, SeverityFromWindowsLevel(uint8(n)))
		}
		return SeverityUnset, fmt.Errorf("unknown severity %q: severity takes a name, one of %s, not a number (numbers mean different things on the Windows, ECS and Splunk scales%s)", s, severityNames, hint)
	}
	return SeverityUnset, fmt.Errorf("unknown severity %q: use one of %s", s, severityNames)
}

// UnmarshalText makes Severity usable directly in YAML and collector config.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// SeverityFromWindowsLevel is the fallback for events the catalog does not
// know. Levels above 5 are provider-defined; they are treated as information
// because nothing says they are worse.
func SeverityFromWindowsLevel(level uint8) Severity {
	switch level {
	case 1:
		return SeverityCritical
	case 2:
		return SeverityError
	case 3:
		return SeverityWarning
	case 5:
		return SeverityVerbose
	default:
		return SeverityInformation
	}
}
