package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
	cat.derived() // escaped and joined once here, not on the first events
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
	return en.EnrichWith(ev, lr, nil)
}

// Attr is a string attribute a caller adds to the records it enriches,
// such as the file an event was read from.
type Attr struct{ Key, Value string }

// EnrichWith is Enrich plus extra string attributes. Adding them here
// rather than afterwards keeps the attribute map at its exact size and in
// the order the projections write without sorting. An extra attribute
// never replaces one of the contract's; empty values are left out.
//
// Enrichment runs in steps, each reading what the ones before it found:
// match the catalog entry, extract the details, look up the diagnostic
// code and check it against the entry, decide the severity, write the error
// text, then stage the attributes in tree order.
func (en *Enricher) EnrichWith(ev *wineventlog.Event, lr plog.LogRecord, extra []Attr) Result {
	x := enrichment{ev: ev, idText: en.cat.derived().idText(ev.EventID)}
	en.match(&x)
	x.extractDetails()
	en.lookUpCode(&x)
	x.checkMetricName()
	en.decideSeverity(&x)
	x.writeErrorText()
	x.runbook, x.labels = Annotations(x.entry, x.code, x.codeIsError)

	if !ev.TimeCreated.IsZero() {
		// A missing time stays unset so that exporters fall back to the
		// observed time instead of a date in 1754.
		lr.SetTimestamp(pcommon.NewTimestampFromTime(ev.TimeCreated))
	}
	lr.SetSeverityNumber(x.sevInfo.Number)
	lr.SetSeverityText(x.sevInfo.Text)

	// Staged first, so the attribute map is allocated at its exact size:
	// it is most of what a record keeps alive in a queue.
	var a attrList
	var vals stagedValues
	en.stage(&x, &a, &vals)
	for _, attr := range extra {
		a.insert(attr)
	}
	a.flush(lr.Attributes(), &vals)

	lr.Body().SetStr(en.bodyText(&x))
	if x.scr != nil {
		x.scr.release()
	}
	return x.res
}

// enrichment is one event on its way to a record: what each step of
// EnrichWith found, for the steps after it. It lives on the stack.
type enrichment struct {
	ev *wineventlog.Event
	// idText is the event ID as text, for event.code and
	// winlog.event_id: formatted once, as it allocates.
	idText string
	entry  *EventEntry // nil for events the catalog does not know
	gen    Generation
	d      Details
	// scr holds parts of d for legacy events; EnrichWith releases it.
	scr *detailScratch
	res Result

	code     *CodeEntry // nil when the code is not in the catalog
	codeText string     // the code in canonical form, or as written
	// codeIsError: the event has a code and it is not the success code.
	codeIsError bool
	warnings    []string

	sevInfo SeverityInfo

	// withError: the event reports a failure, an error code or an
	// exception, so the error.* fields are written.
	withError       bool
	errType, errMsg string
	remediation     string
	// runbook and labels are what a site catalog attaches (Annotations).
	runbook string
	labels  []wineventlog.Data
}

// match finds the catalog entry for the event and its connector
// generation.
func (en *Enricher) match(x *enrichment) {
	ev := x.ev
	entry := en.cat.Event(ev.EventID)
	gen, fromConnector := en.cat.SourceOf(ev.ProviderName, ev.ProviderGUID, ev.Channel)
	if entry != nil && (fromConnector && gen != entry.Generation || en.cat.foreign(ev, fromConnector)) {
		// The ID belongs to the other product, or the event to another
		// log; an ID match alone is not enough to attach the wrong meaning.
		entry = nil
	}
	if entry != nil {
		gen = entry.Generation
	}
	x.entry, x.gen = entry, gen
	x.res = Result{Matched: entry != nil, Generation: gen, Outcome: OutcomeUnknown}
	if entry != nil {
		x.res.Outcome = entry.Outcome
	}
}

// extractDetails reads the event data, with the field names the catalog
// knows for the event's template.
func (x *enrichment) extractDetails() {
	var fieldNames []string
	if x.entry != nil {
		fieldNames = x.entry.DataFields
	}
	x.d = extractDetails(x.ev, fieldNames, x.scratch())
}

// scratch returns the event's detailScratch, from the pool on first use:
// only events with unnamed data (legacy ones, PowerShell's) need one.
func (x *enrichment) scratch() *detailScratch {
	if !x.needsScratch() {
		return nil
	}
	if x.scr == nil {
		x.scr = detailScratchPool.Get().(*detailScratch)
	}
	return x.scr
}

func (x *enrichment) needsScratch() bool {
	for i := range x.ev.EventData {
		if x.ev.EventData[i].Name == "" {
			return true
		}
	}
	return false
}

// checkMetricName warns when a legacy event's Metric names another event
// than the catalog does for its ID.
func (x *enrichment) checkMetricName() {
	if m := x.d.Metric; m != nil && x.entry != nil && m.Name != "" && !x.entry.hasName(m.Name) {
		x.warnings = append(x.warnings, "metric name "+strconv.Quote(m.Name)+" differs from the catalog name "+
			x.entry.Name+" for event "+x.idText)
	}
}

// lookUpCode finds the diagnostic code in the catalog and notes what does
// not fit: a code that is not hex, or one the event is not documented to
// carry.
func (en *Enricher) lookUpCode(x *enrichment) {
	raw := x.d.DiagCode
	if raw == "" {
		return
	}
	x.res.HasCode = true
	c, canon, ok := en.cat.Code(raw)
	x.codeText = canon
	x.codeIsError = canon != "" && canon != "0x00000000"
	if ok {
		x.code, x.res.CodeMatched = c, true
	} else if _, hexOK := en.cat.NormalizeCode(raw); !hexOK {
		x.warnings = append(x.warnings, "diagnostic code "+strconv.Quote(raw)+" is not a hex code")
	}
	if e := x.entry; e != nil && len(e.Codes) > 0 && ok && !slices.Contains(e.Codes, canon) {
		x.warnings = append(x.warnings, "diagnostic code "+canon+" is not among the codes documented for event "+e.Name)
	}
}

// decideSeverity: the catalog entry's severity, raised by the code's, then
// the config overrides; the Windows level decides for events the catalog
// does not know.
func (en *Enricher) decideSeverity(x *enrichment) {
	sev := SeverityFromWindowsLevel(x.ev.Level)
	if x.entry != nil {
		sev = x.entry.Severity
	}
	if x.code != nil && x.code.Severity > sev {
		sev = x.code.Severity
	}
	sev = en.ov.apply(x.ev.EventID, x.codeText, sev)
	x.res.Severity = sev
	x.sevInfo = sev.Info()
}

// writeErrorText decides error.message and the remediation: the code's
// meaning and hint when the code reports an error, else the event's own
// diagnostic text or the exception's first line, and the entry's hint.
func (x *enrichment) writeErrorText() {
	exFirst := ""
	if x.d.Exception != "" {
		x.errType, exFirst = exceptionSummary(x.d.Exception)
	}
	codeError := x.code != nil && x.codeIsError
	x.withError = x.res.Outcome == OutcomeFailure || x.codeIsError || x.d.Exception != ""
	if x.withError {
		switch {
		case codeError:
			x.errMsg = x.code.Message
		case x.d.DiagText != "":
			x.errMsg = x.d.DiagText
		case exFirst != "":
			x.errMsg = exFirst
		}
	}
	if codeError && x.code.Remediation != "" {
		x.remediation = x.code.Remediation
	} else if x.entry != nil {
		x.remediation = x.entry.Remediation
	}
}

// stage puts the record's attributes in tree order (see lessPath), which
// lets the projections skip sorting: device, error, event, host, intune,
// labels, log, user, winlog.
func (en *Enricher) stage(x *enrichment, a *attrList, v *stagedValues) {
	a.nonEmpty(AttrDeviceID, x.d.DeviceID)
	x.stageError(a)
	en.stageEvent(x, a)
	a.nonEmpty(AttrHostName, x.ev.Computer)
	en.stageIntune(x, a, v)
	if len(x.labels) > 0 {
		v.dataIn(a, AttrLabels, x.labels)
	}
	a.str(AttrLogLevel, x.sevInfo.Name)
	a.nonEmpty(AttrUserID, x.d.UserID)
	x.stageWinlog(a, v)
}

func (x *enrichment) stageError(a *attrList) {
	if x.res.HasCode && x.codeIsError {
		a.str(AttrErrorCode, x.codeText)
	}
	if x.withError {
		a.nonEmpty(AttrErrorMessage, x.errMsg)
		a.nonEmpty(AttrErrorStack, x.d.Exception)
		a.nonEmpty(AttrErrorType, x.errType)
	}
}

func (en *Enricher) stageEvent(x *enrichment, a *attrList) {
	ev := x.ev
	if x.entry != nil {
		a.str(AttrEventAction, x.entry.Name)
	}
	a.str(AttrEventCode, x.idText)
	a.str(AttrEventDataset, EventDataset)
	a.str(AttrEventID, Fingerprint(ev))
	a.str(AttrEventKind, EventKind)
	a.str(AttrEventModule, EventModule)
	if en.includeOriginal && ev.Original != "" {
		a.str(AttrEventOriginal, ev.Original)
	}
	a.str(AttrEventOutcome, string(x.res.Outcome))
	a.nonEmpty(AttrEventProvider, firstNonEmpty(ev.ProviderName, ev.EventSourceName, ev.Channel))
	a.int(AttrEventSeverity, int64(x.sevInfo.SplunkSeverityID))
}

func (en *Enricher) stageIntune(x *enrichment, a *attrList, v *stagedValues) {
	d := &x.d
	if x.entry != nil {
		if cat := en.cat.CategoryOf(x.entry); cat != nil {
			a.str(AttrIntuneCategory, cat.Slug)
		}
	}
	a.nonEmpty(AttrIntuneSerialNumber, d.SerialNumber)
	a.nonEmpty(AttrIntuneTemplate, d.Template)
	a.nonEmpty(AttrIntuneThumbprint, d.Thumbprint)
	a.nonEmpty(AttrIntuneCA, d.CA)
	if x.entry != nil {
		a.str(AttrIntuneDescription, x.entry.Description)
	}
	if d.Metric != nil && len(d.Metric.Dimensions) > 0 {
		v.dataIn(a, AttrIntuneDetails, d.Metric.Dimensions)
	}
	if x.res.HasCode {
		a.str(AttrIntuneDiagCode, x.codeText)
		a.bool(AttrIntuneDiagMatched, x.res.CodeMatched)
		if x.code != nil {
			a.str(AttrIntuneDiagMessage, x.code.Message)
			a.str(AttrIntuneDiagName, x.code.Name)
		}
	}
	a.nonEmpty(AttrIntuneDiagText, d.DiagText)
	a.str(AttrIntuneEnrichmentVersion, EnrichmentVersion)
	if len(x.warnings) > 0 {
		v.strsIn(a, AttrIntuneWarnings, x.warnings)
	}
	if x.gen != "" {
		a.str(AttrIntuneGeneration, string(x.gen))
	}
	a.bool(AttrIntuneMatched, x.entry != nil)
	if d.Metric != nil {
		a.nonEmpty(AttrIntuneMetricName, d.Metric.Name)
		a.nonEmpty(AttrIntuneMetricValue, d.Metric.Value)
	}
	a.nonEmpty(AttrIntuneRemediation, x.remediation)
	a.nonEmpty(AttrIntuneRequestID, d.RequestID)
	a.nonEmpty(AttrIntuneRunbookURL, x.runbook)
	a.nonEmpty(AttrIntuneUploadState, d.UploadState)
}

func (x *enrichment) stageWinlog(a *attrList, v *stagedValues) {
	ev := x.ev
	a.nonEmpty(AttrWinlogActivityID, ev.ActivityID)
	a.nonEmpty(AttrWinlogChannel, ev.Channel)
	a.nonEmpty(AttrWinlogComputerName, ev.Computer)
	if len(x.d.Data) > 0 {
		v.dataIn(a, AttrWinlogEventData, x.d.Data)
	}
	a.str(AttrWinlogEventID, x.idText)
	switch {
	case len(ev.KeywordsText) > 0:
		v.strsIn(a, AttrWinlogKeywords, ev.KeywordsText)
	case ev.Keywords != 0:
		if one, list := keywordNames(ev.Keywords); list != nil {
			v.strsIn(a, AttrWinlogKeywords, list)
		} else {
			a.add(stagedAttr{key: AttrWinlogKeywords, kind: kindStrOne, s: one})
		}
	}
	a.str(AttrWinlogLevel, winlogLevel(ev))
	switch {
	case ev.OpcodeText != "":
		a.str(AttrWinlogOpcode, ev.OpcodeText)
	case ev.Opcode != nil:
		a.str(AttrWinlogOpcode, firstNonEmpty(opcodeName(*ev.Opcode), strconv.FormatUint(uint64(*ev.Opcode), 10)))
	}
	if ev.ProcessID != nil {
		a.int(AttrWinlogProcessPID, int64(*ev.ProcessID))
	}
	if ev.ThreadID != nil {
		a.int(AttrWinlogThreadID, int64(*ev.ThreadID))
	}
	a.nonEmpty(AttrWinlogProviderGUID, ev.ProviderGUID)
	a.nonEmpty(AttrWinlogProviderName, ev.ProviderName)
	if ev.RecordID != 0 {
		a.str(AttrWinlogRecordID, strconv.FormatUint(ev.RecordID, 10))
	}
	a.nonEmpty(AttrWinlogRelatedActivityID, ev.RelatedActivityID)
	switch {
	case ev.TaskText != "":
		a.str(AttrWinlogTask, ev.TaskText)
	case ev.Task == 0:
		a.str(AttrWinlogTask, taskNone)
	default:
		a.str(AttrWinlogTask, strconv.FormatUint(uint64(ev.Task), 10))
	}
	a.nonEmpty(AttrWinlogUserIdentifier, ev.UserSID)
	if len(ev.UserData) > 0 {
		v.dataIn(a, AttrWinlogUserData, ev.UserData)
	}
	// Version 0 is left out, as Winlogbeat does: exports and receivers
	// disagree on whether an event without <Version> has one.
	if ev.Version != nil && *ev.Version != 0 {
		a.int(AttrWinlogVersion, int64(*ev.Version))
	}
}

// bodyText is the record's message: what Windows rendered when the export
// carries it, otherwise a sentence built from the catalog, shared between
// the records that get the same one.
func (en *Enricher) bodyText(x *enrichment) string {
	ev, entry, errMsg := x.ev, x.entry, x.errMsg
	if m := strings.TrimSpace(ev.Message); m != "" {
		return m
	}
	if entry != nil {
		if s := en.cat.derived().body(entry, x.code, errMsg); s != "" {
			return s
		}
	}
	var b strings.Builder
	// Sized once: growing through the parts cost an allocation each.
	// The body is kept with the record, so the size is exact but for the
	// digits of an unknown event's ID.
	n := 0
	if errMsg != "" {
		n = len(" Error: ") + len(errMsg)
	}
	if entry != nil {
		n += len(entry.Name) + len(": ") + len(entry.Description)
	} else {
		n += len("Event 4294967295 from  (not in the catalog)") + max(len(ev.ProviderName), len(ev.Channel))
	}
	b.Grow(n)
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
	b := appendLower(buf[:0], where)
	b = append(b, 0)
	b = appendLower(b, ev.Computer)
	b = append(b, 0)
	b = strconv.AppendUint(b, ev.RecordID, 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, ev.TimeCreated.UnixMilli(), 10)
	b = append(b, 0)
	b = strconv.AppendUint(b, uint64(ev.EventID), 10)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// appendLower appends strings.ToLower(s) without allocating for ASCII
// text, which channel and computer names almost always are.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
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
