package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Enricher turns events into contract records. It is safe for concurrent
// use: it holds only read-only tables.
type Enricher struct {
	cat             *Catalog
	ov              overrides
	includeOriginal bool
}

// NewEnricher builds an enricher over a catalog with the given config.
func NewEnricher(cat *Catalog, cfg Config) (*Enricher, error) {
	ov, err := compileOverrides(cat, cfg.SeverityOverrides)
	if err != nil {
		return nil, err
	}
	return &Enricher{cat: cat, ov: ov, includeOriginal: cfg.IncludeOriginal}, nil
}

// Catalog returns the catalog the enricher reads.
func (en *Enricher) Catalog() *Catalog { return en.cat }

// Result summarises one enrichment for the caller's telemetry.
type Result struct {
	Matched     bool // event ID in the catalog
	HasCode     bool
	CodeMatched bool
	Generation  Generation
	Severity    Severity
	Outcome     Outcome
}

// Enrich writes the record for ev into lr, which should be empty. It never
// fails: unknown events and codes pass through, marked unmatched.
func (en *Enricher) Enrich(ev *wineventlog.Event, lr plog.LogRecord) Result {
	entry := en.cat.Event(ev.EventID)
	gen, fromConnector := en.cat.SourceOf(ev.ProviderName, ev.ProviderGUID, ev.Channel)
	if entry != nil && fromConnector && gen != entry.Generation {
		// The ID belongs to the other product; an ID match alone is not
		// enough to attach the wrong meaning.
		entry = nil
	}
	var fieldNames []string
	if entry != nil {
		fieldNames = entry.DataFields
		gen = entry.Generation
	}
	d := ExtractDetails(ev, fieldNames)

	res := Result{Matched: entry != nil, Generation: gen, Outcome: OutcomeUnknown}
	var warnings []string

	// Diagnostic code.
	var code *CodeEntry
	var codeText string
	if d.DiagCode != "" {
		res.HasCode = true
		c, canon, ok := en.cat.Code(d.DiagCode)
		codeText = canon
		if ok {
			code, res.CodeMatched = c, true
		} else if _, hexOK := en.cat.NormalizeCode(d.DiagCode); !hexOK {
			warnings = append(warnings, "diagnostic code "+strconv.Quote(d.DiagCode)+" is not a hex code")
		}
		if entry != nil && len(entry.Codes) > 0 && ok && !containsString(entry.Codes, canon) {
			warnings = append(warnings, "diagnostic code "+canon+" is not among the codes documented for event "+entry.Name)
		}
	}
	if d.Metric != nil && entry != nil && d.Metric.Name != "" && !entry.hasName(d.Metric.Name) {
		warnings = append(warnings, "metric name "+strconv.Quote(d.Metric.Name)+" differs from the catalog name "+entry.Name+" for event "+strconv.FormatUint(uint64(ev.EventID), 10))
	}

	// Severity: catalog entry, raised by the code, then config overrides;
	// the Windows level decides for events the catalog does not know.
	sev := SeverityFromWindowsLevel(ev.Level)
	if entry != nil {
		sev = entry.Severity
		res.Outcome = entry.Outcome
	}
	if code != nil && code.Severity > sev {
		sev = code.Severity
	}
	sev = en.ov.apply(ev.EventID, codeText, sev)
	res.Severity = sev
	si := sev.Info()

	if !ev.TimeCreated.IsZero() {
		// A missing time stays unset so that exporters fall back to the
		// observed time instead of a date in 1754.
		lr.SetTimestamp(pcommon.NewTimestampFromTime(ev.TimeCreated))
	}
	lr.SetSeverityNumber(si.Number)
	lr.SetSeverityText(si.Text)

	// Values first, then the attributes in tree order (see lessPath), which
	// lets the projections skip sorting.
	idText := strconv.FormatUint(uint64(ev.EventID), 10)
	provider := firstNonEmpty(ev.ProviderName, ev.EventSourceName, ev.Channel)
	errType, exFirst := "", ""
	if d.Exception != "" {
		errType, exFirst = exceptionSummary(d.Exception)
	}
	codeIsError := codeText != "" && codeText != "0x00000000"
	errMsg := ""
	withError := res.Outcome == OutcomeFailure || codeIsError || d.Exception != ""
	if withError {
		switch {
		case code != nil && codeIsError:
			errMsg = code.Message
		case d.DiagText != "":
			errMsg = d.DiagText
		case exFirst != "":
			errMsg = exFirst
		}
	}
	remediation := ""
	if code != nil && codeIsError && code.Remediation != "" {
		remediation = code.Remediation
	} else if entry != nil {
		remediation = entry.Remediation
	}

	a := lr.Attributes()
	a.EnsureCapacity(48)
	putNonEmpty(a, AttrDeviceID, d.DeviceID)
	if res.HasCode && codeIsError {
		a.PutStr(AttrErrorCode, codeText)
	}
	if withError {
		putNonEmpty(a, AttrErrorMessage, errMsg)
		putNonEmpty(a, AttrErrorStack, d.Exception)
		putNonEmpty(a, AttrErrorType, errType)
	}
	if entry != nil {
		a.PutStr(AttrEventAction, entry.Name)
	}
	a.PutStr(AttrEventCode, idText)
	a.PutStr(AttrEventDataset, EventDataset)
	a.PutStr(AttrEventID, Fingerprint(ev))
	a.PutStr(AttrEventKind, EventKind)
	a.PutStr(AttrEventModule, EventModule)
	if en.includeOriginal && ev.Original != "" {
		a.PutStr(AttrEventOriginal, ev.Original)
	}
	a.PutStr(AttrEventOutcome, string(res.Outcome))
	putNonEmpty(a, AttrEventProvider, provider)
	a.PutInt(AttrEventSeverity, int64(si.SplunkSeverityID))
	putNonEmpty(a, AttrHostName, ev.Computer)

	if entry != nil {
		if cat := en.cat.CategoryOf(entry); cat != nil {
			a.PutStr(AttrIntuneCategory, cat.Slug)
		}
	}
	putNonEmpty(a, AttrIntuneSerialNumber, d.SerialNumber)
	putNonEmpty(a, AttrIntuneTemplate, d.Template)
	putNonEmpty(a, AttrIntuneThumbprint, d.Thumbprint)
	putNonEmpty(a, AttrIntuneCA, d.CA)
	if entry != nil {
		a.PutStr(AttrIntuneDescription, entry.Description)
	}
	if d.Metric != nil && len(d.Metric.Dimensions) > 0 {
		putData(a.PutEmptyMap(AttrIntuneDetails), d.Metric.Dimensions)
	}
	if res.HasCode {
		a.PutStr(AttrIntuneDiagCode, codeText)
		a.PutBool(AttrIntuneDiagMatched, res.CodeMatched)
		if code != nil {
			a.PutStr(AttrIntuneDiagMessage, code.Message)
			a.PutStr(AttrIntuneDiagName, code.Name)
		}
	}
	putNonEmpty(a, AttrIntuneDiagText, d.DiagText)
	a.PutStr(AttrIntuneEnrichmentVersion, EnrichmentVersion)
	if len(warnings) > 0 {
		s := a.PutEmptySlice(AttrIntuneWarnings)
		for _, w := range warnings {
			s.AppendEmpty().SetStr(w)
		}
	}
	if gen != "" {
		a.PutStr(AttrIntuneGeneration, string(gen))
	}
	a.PutBool(AttrIntuneMatched, entry != nil)
	if d.Metric != nil {
		putNonEmpty(a, AttrIntuneMetricName, d.Metric.Name)
		putNonEmpty(a, AttrIntuneMetricValue, d.Metric.Value)
	}
	putNonEmpty(a, AttrIntuneRemediation, remediation)
	putNonEmpty(a, AttrIntuneRequestID, d.RequestID)
	putNonEmpty(a, AttrIntuneUploadState, d.UploadState)
	a.PutStr(AttrLogLevel, si.Name)
	putNonEmpty(a, AttrUserID, d.UserID)

	putNonEmpty(a, AttrWinlogActivityID, ev.ActivityID)
	putNonEmpty(a, AttrWinlogChannel, ev.Channel)
	putNonEmpty(a, AttrWinlogComputerName, ev.Computer)
	if len(d.Data) > 0 {
		putData(a.PutEmptyMap(AttrWinlogEventData), d.Data)
	}
	a.PutStr(AttrWinlogEventID, idText)
	if len(ev.KeywordsText) > 0 {
		s := a.PutEmptySlice(AttrWinlogKeywords)
		s.EnsureCapacity(len(ev.KeywordsText))
		for _, k := range ev.KeywordsText {
			s.AppendEmpty().SetStr(k)
		}
	} else if ev.Keywords != 0 {
		a.PutEmptySlice(AttrWinlogKeywords).AppendEmpty().SetStr("0x" + strconv.FormatUint(ev.Keywords, 16))
	}
	a.PutInt(AttrWinlogLevel, int64(ev.Level))
	if ev.OpcodeText != "" {
		a.PutStr(AttrWinlogOpcode, ev.OpcodeText)
	} else if ev.Opcode != nil {
		a.PutStr(AttrWinlogOpcode, strconv.FormatUint(uint64(*ev.Opcode), 10))
	}
	if ev.ProcessID != nil {
		a.PutInt(AttrWinlogProcessPID, int64(*ev.ProcessID))
	}
	if ev.ThreadID != nil {
		a.PutInt(AttrWinlogThreadID, int64(*ev.ThreadID))
	}
	putNonEmpty(a, AttrWinlogProviderGUID, ev.ProviderGUID)
	putNonEmpty(a, AttrWinlogProviderName, ev.ProviderName)
	if ev.RecordID != 0 {
		a.PutStr(AttrWinlogRecordID, strconv.FormatUint(ev.RecordID, 10))
	}
	putNonEmpty(a, AttrWinlogRelatedActivityID, ev.RelatedActivityID)
	if ev.TaskText != "" {
		a.PutStr(AttrWinlogTask, ev.TaskText)
	} else if ev.Task != 0 {
		a.PutStr(AttrWinlogTask, strconv.FormatUint(uint64(ev.Task), 10))
	}
	putNonEmpty(a, AttrWinlogUserIdentifier, ev.UserSID)
	if len(ev.UserData) > 0 {
		putData(a.PutEmptyMap(AttrWinlogUserData), ev.UserData)
	}
	if ev.Version != nil {
		a.PutInt(AttrWinlogVersion, int64(*ev.Version))
	}

	lr.Body().SetStr(bodyText(ev, entry, errMsg))
	return res
}

// bodyText is the record's message: what Windows rendered when the export
// carries it, otherwise a sentence built from the catalog.
func bodyText(ev *wineventlog.Event, entry *EventEntry, errMsg string) string {
	if m := strings.TrimSpace(ev.Message); m != "" {
		return m
	}
	var b strings.Builder
	if entry != nil {
		b.WriteString(entry.Name)
		b.WriteString(": ")
		b.WriteString(entry.Description)
	} else {
		b.WriteString("Event ")
		b.WriteString(strconv.FormatUint(uint64(ev.EventID), 10))
		if ev.ProviderName != "" {
			b.WriteString(" from ")
			b.WriteString(ev.ProviderName)
		} else if ev.Channel != "" {
			b.WriteString(" in ")
			b.WriteString(ev.Channel)
		}
		b.WriteString(" (not in the catalog)")
	}
	if errMsg != "" {
		b.WriteString(" Error: ")
		b.WriteString(errMsg)
	}
	return b.String()
}

// Fingerprint identifies an event across re-reads and formats: the same
// event read from EVTX, XML or JSON gets the same value. Time counts to the
// millisecond only, because Windows PowerShell 5.1 exports no finer.
func Fingerprint(ev *wineventlog.Event) string {
	where := ev.Channel
	if where == "" {
		where = ev.ProviderName
	}
	var buf [256]byte
	b := append(buf[:0], strings.ToLower(where)...)
	b = append(b, 0)
	b = append(b, strings.ToLower(ev.Computer)...)
	b = append(b, 0)
	b = strconv.AppendUint(b, ev.RecordID, 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, ev.TimeCreated.UnixMilli(), 10)
	b = append(b, 0)
	b = strconv.AppendUint(b, uint64(ev.EventID), 10)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func (e *EventEntry) hasName(n string) bool {
	if strings.EqualFold(e.Name, n) {
		return true
	}
	for _, a := range e.NameAliases {
		if strings.EqualFold(a, n) {
			return true
		}
	}
	return false
}

func putNonEmpty(a pcommon.Map, k, v string) {
	if v != "" {
		a.PutStr(k, v)
	}
}

func putData(m pcommon.Map, data []wineventlog.Data) {
	m.EnsureCapacity(len(data))
	for _, d := range data {
		m.PutStr(d.Name, d.Value)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
