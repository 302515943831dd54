// Package eventgen generates deterministic Intune connector events from the
// catalog: every catalog entry with each of its related diagnostic codes,
// for golden tests, sample exports and benchmarks.
//
// Only event 3001's EventData field names are confirmed from a real log, and
// no source publishes the legacy connector's Metric dimension names or
// provider name; the generator uses plausible names for those, so generated
// events show the shapes enrichment handles, not a claim about what a given
// connector version writes.
package eventgen

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

const (
	// LegacyProvider is an illustrative source name for legacy events.
	LegacyProvider = "Microsoft Intune Connector"
	Computer       = "NDES01.contoso.example"
	LocalSystemSID = "S-1-5-18"
)

// Case is one generated event: a catalog entry with one of its codes.
type Case struct {
	Entry *mapping.EventEntry
	// Code is the diagnostic code as written into the event ("" for none).
	Code string
}

// Name identifies the case in golden files.
func (c Case) Name() string {
	if c.Code == "" {
		return strconv.FormatUint(uint64(c.Entry.ID), 10) + "_" + c.Entry.Name
	}
	return strconv.FormatUint(uint64(c.Entry.ID), 10) + "_" + c.Entry.Name + "_" + c.Code
}

// CatalogCases lists every entry with each of its related codes (legacy) or
// once (current events, which carry no code field), in catalog order.
func CatalogCases(cat *mapping.Catalog) []Case {
	var out []Case
	for _, e := range cat.EventsSorted() {
		if len(e.Codes) == 0 {
			out = append(out, Case{Entry: e})
			continue
		}
		for _, c := range e.Codes {
			out = append(out, Case{Entry: e, Code: c})
		}
	}
	return out
}

// Base is the time of the first generated event.
var Base = time.Date(2026, 3, 2, 9, 15, 0, 123456700, time.UTC)

// Event builds the n-th event of a case. Everything in it is a function of
// the case and n, so runs are reproducible.
func Event(cat *mapping.Catalog, c Case, n int) wineventlog.Event {
	e := c.Entry
	ev := wineventlog.Event{
		EventID:     e.ID,
		Level:       windowsLevel(e.Severity),
		TimeCreated: Base.Add(time.Duration(n) * 1500 * time.Millisecond),
		RecordID:    uint64(10000 + n),
		Channel:     e.Channel,
		Computer:    Computer,
	}
	pid, tid := uint32(3768), uint32(5868+n%7)
	ev.ProcessID, ev.ThreadID = &pid, &tid
	code := c.Code
	if e.Generation == mapping.GenerationLegacy {
		ev.ProviderName = LegacyProvider
		q := uint16(0)
		ev.Qualifiers = &q
		ev.Task = 0
		ev.Keywords = 0x80000000000000
		ev.EventData = []wineventlog.Data{{Value: legacyMetric(cat, e, code, n)}}
		return ev
	}
	for _, s := range cat.Sources {
		if s.Generation == mapping.GenerationCurrent {
			ev.ProviderName, ev.ProviderGUID = s.Provider, s.ProviderGUID
		}
	}
	v, op := uint8(0), uint8(0)
	ev.Version, ev.Opcode = &v, &op
	ev.Task = uint16(65534 - e.ID)
	ev.Keywords = 0x2000f00000000000
	if strings.HasSuffix(e.Channel, "/Operational") {
		ev.Keywords = 0x4000f00000000000
	}
	ev.UserSID = LocalSystemSID
	ev.EventData = currentData(cat, e, code, n)
	return ev
}

func windowsLevel(s mapping.Severity) uint8 {
	switch s {
	case mapping.SeverityCritical:
		return 1
	case mapping.SeverityError:
		return 2
	case mapping.SeverityWarning:
		return 3
	case mapping.SeverityVerbose:
		return 5
	}
	return 4
}

func guid(prefix uint32, n int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", prefix, n&0xffff, n%0xfff, (n*7)%0xfff, uint64(n)*2654435761%0xffffffffffff)
}

func legacyMetric(cat *mapping.Catalog, e *mapping.EventEntry, code string, n int) string {
	dims := map[string]string{}
	if code != "" {
		dims["DiagnosticCode"] = code
		if ce, _, ok := cat.Code(code); ok {
			dims["DiagnosticText"] = ce.Name
		}
	}
	slug := e.Category
	switch slug {
	case "pkcs_issue", "revocation", "scep_verify", "scep_notify", "upload", "download":
		dims["DeviceId"] = guid(0x04aae477, n)
		dims["UserId"] = guid(0x54c5bdfb, n)
	}
	switch slug {
	case "pkcs_issue":
		dims["CAName"] = `ca01.contoso.example\Contoso-Issuing-CA`
		dims["TemplateName"] = "IntuneUserPKCS"
		dims["Thumbprint"] = fmt.Sprintf("%040X", uint64(n)*0x9E3779B97F4A7C15)
	case "revocation":
		dims["CAName"] = `ca01.contoso.example\Contoso-Issuing-CA`
		dims["SerialNumber"] = fmt.Sprintf("6C0000%014X", n)
	case "upload":
		dims["UploadState"] = "UploadCompleted"
		dims["RequestId"] = strconv.Itoa(7000 + n)
	case "download":
		dims["RequestId"] = strconv.Itoa(7000 + n)
	case "connector_certificate":
		dims["Thumbprint"] = fmt.Sprintf("%040X", uint64(n+1)*0x9E3779B97F4A7C15)
	}
	b, _ := json.Marshal(map[string]any{"Metric": map[string]any{"Dimensions": dims, "Name": e.Name, "Value": 0}})
	return string(b)
}

func currentData(cat *mapping.Catalog, e *mapping.EventEntry, code string, n int) []wineventlog.Data {
	if len(e.DataFields) > 0 {
		out := make([]wineventlog.Data, 0, len(e.DataFields))
		for _, f := range e.DataFields {
			out = append(out, wineventlog.Data{Name: f, Value: fieldValue(f, e, code, n)})
		}
		return out
	}
	fields := []string{"userId", "deviceId"}
	if cat := cat.CategoryOf(e); cat != nil && cat.Slug == "connector_health" {
		fields = []string{"messageCount"}
	}
	if e.Outcome == mapping.OutcomeFailure {
		fields = append(fields, "exception")
	}
	out := make([]wineventlog.Data, 0, len(fields))
	for _, f := range fields {
		out = append(out, wineventlog.Data{Name: f, Value: fieldValue(f, e, code, n)})
	}
	return out
}

func fieldValue(f string, e *mapping.EventEntry, code string, n int) string {
	switch f {
	case "userId":
		return guid(0x54c5bdfb, n)
	case "deviceId":
		return guid(0x04aae477, n)
	case "serialNumber":
		return fmt.Sprintf("6C0000%014X", n)
	case "thumbprint":
		return fmt.Sprintf("%040X", uint64(n)*0x9E3779B97F4A7C15)
	case "certificateAuthority":
		return `ca01.contoso.example\Contoso-Issuing-CA`
	case "messageCount":
		return strconv.Itoa(3 + n%5)
	case "exception":
		msg := "System.InvalidOperationException: " + e.Name + " while talking to the certification authority"
		if code != "" {
			msg += " (DiagnosticException: " + code + ")"
		}
		return msg + "\r\n   at Microsoft.Intune.Connectors.Processor.Run()\r\n   at Microsoft.Intune.Connectors.Worker.Execute()"
	}
	return ""
}

// oddSpellings are code spellings real exports and documentation use, fed
// into the stream so that normalisation is exercised.
var oddSpellings = map[string]string{
	"0x0FFFFFFF": "0x0FFFFFFFF",
	"0x00000408": "0x408",
	"0x00000400": "0x00000400",
	"0x00000411": "0x00000411",
	"0x00000405": "0X00000405",
}

// Stream returns n events cycling through every catalog case, with some
// codes in their odd spellings, and times and record IDs increasing.
func Stream(cat *mapping.Catalog, n int) []wineventlog.Event {
	cases := CatalogCases(cat)
	out := make([]wineventlog.Event, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, EventAt(cat, cases, i))
	}
	return out
}

// EventAt is the i-th event of Stream, for writing large inputs without
// holding them.
func EventAt(cat *mapping.Catalog, cases []Case, i int) wineventlog.Event {
	c := cases[i%len(cases)]
	if odd, ok := oddSpellings[c.Code]; ok && (i/len(cases))%2 == 1 {
		c.Code = odd
	}
	return Event(cat, c, i)
}
