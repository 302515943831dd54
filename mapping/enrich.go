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
	return en.EnrichWith(ev, lr, nil)
}

// Attr is a string attribute a caller adds to the records it enriches,
// such as the file an event was read from.
type Attr struct{ Key, Value string }

// EnrichWith is Enrich plus extra string attributes. Adding them here
// rather than afterwards keeps the attribute map at its exact size and in
// the order the projections write without sorting. An extra attribute
// never replaces one of the contract's; empty values are left out.
func (en *Enricher) EnrichWith(ev *wineventlog.Event, lr plog.LogRecord, extra []Attr) Result {
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
	runbook, labels := Annotations(entry, code, codeIsError)

	// Staged first, so the attribute map is allocated at its exact size:
	// it is most of what a record keeps alive in a queue.
	var a attrList
	var vals stagedValues
	a.nonEmpty(AttrDeviceID, d.DeviceID)
	if res.HasCode && codeIsError {
		a.str(AttrErrorCode, codeText)
	}
	if withError {
		a.nonEmpty(AttrErrorMessage, errMsg)
		a.nonEmpty(AttrErrorStack, d.Exception)
		a.nonEmpty(AttrErrorType, errType)
	}
	if entry != nil {
		a.str(AttrEventAction, entry.Name)
	}
	a.str(AttrEventCode, idText)
	a.str(AttrEventDataset, EventDataset)
	a.str(AttrEventID, Fingerprint(ev))
	a.str(AttrEventKind, EventKind)
	a.str(AttrEventModule, EventModule)
	if en.includeOriginal && ev.Original != "" {
		a.str(AttrEventOriginal, ev.Original)
	}
	a.str(AttrEventOutcome, string(res.Outcome))
	a.nonEmpty(AttrEventProvider, provider)
	a.int(AttrEventSeverity, int64(si.SplunkSeverityID))
	a.nonEmpty(AttrHostName, ev.Computer)

	if entry != nil {
		if cat := en.cat.CategoryOf(entry); cat != nil {
			a.str(AttrIntuneCategory, cat.Slug)
		}
	}
	a.nonEmpty(AttrIntuneSerialNumber, d.SerialNumber)
	a.nonEmpty(AttrIntuneTemplate, d.Template)
	a.nonEmpty(AttrIntuneThumbprint, d.Thumbprint)
	a.nonEmpty(AttrIntuneCA, d.CA)
	if entry != nil {
		a.str(AttrIntuneDescription, entry.Description)
	}
	if d.Metric != nil && len(d.Metric.Dimensions) > 0 {
		vals.dataIn(&a, AttrIntuneDetails, d.Metric.Dimensions)
	}
	if res.HasCode {
		a.str(AttrIntuneDiagCode, codeText)
		a.bool(AttrIntuneDiagMatched, res.CodeMatched)
		if code != nil {
			a.str(AttrIntuneDiagMessage, code.Message)
			a.str(AttrIntuneDiagName, code.Name)
		}
	}
	a.nonEmpty(AttrIntuneDiagText, d.DiagText)
	a.str(AttrIntuneEnrichmentVersion, EnrichmentVersion)
	if len(warnings) > 0 {
		vals.strsIn(&a, AttrIntuneWarnings, warnings)
	}
	if gen != "" {
		a.str(AttrIntuneGeneration, string(gen))
	}
	a.bool(AttrIntuneMatched, entry != nil)
	if d.Metric != nil {
		a.nonEmpty(AttrIntuneMetricName, d.Metric.Name)
		a.nonEmpty(AttrIntuneMetricValue, d.Metric.Value)
	}
	a.nonEmpty(AttrIntuneRemediation, remediation)
	a.nonEmpty(AttrIntuneRequestID, d.RequestID)
	a.nonEmpty(AttrIntuneRunbookURL, runbook)
	a.nonEmpty(AttrIntuneUploadState, d.UploadState)
	if len(labels) > 0 {
		vals.dataIn(&a, AttrLabels, labels)
	}
	a.str(AttrLogLevel, si.Name)
	a.nonEmpty(AttrUserID, d.UserID)

	a.nonEmpty(AttrWinlogActivityID, ev.ActivityID)
	a.nonEmpty(AttrWinlogChannel, ev.Channel)
	a.nonEmpty(AttrWinlogComputerName, ev.Computer)
	if len(d.Data) > 0 {
		vals.dataIn(&a, AttrWinlogEventData, d.Data)
	}
	a.str(AttrWinlogEventID, idText)
	if len(ev.KeywordsText) > 0 {
		vals.strsIn(&a, AttrWinlogKeywords, ev.KeywordsText)
	} else if ev.Keywords != 0 {
		a.add(stagedAttr{key: AttrWinlogKeywords, kind: kindStrOne, s: "0x" + strconv.FormatUint(ev.Keywords, 16)})
	}
	a.int(AttrWinlogLevel, int64(ev.Level))
	if ev.OpcodeText != "" {
		a.str(AttrWinlogOpcode, ev.OpcodeText)
	} else if ev.Opcode != nil {
		a.str(AttrWinlogOpcode, strconv.FormatUint(uint64(*ev.Opcode), 10))
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
	if ev.TaskText != "" {
		a.str(AttrWinlogTask, ev.TaskText)
	} else if ev.Task != 0 {
		a.str(AttrWinlogTask, strconv.FormatUint(uint64(ev.Task), 10))
	}
	a.nonEmpty(AttrWinlogUserIdentifier, ev.UserSID)
	if len(ev.UserData) > 0 {
		vals.dataIn(&a, AttrWinlogUserData, ev.UserData)
	}
	if ev.Version != nil {
		a.int(AttrWinlogVersion, int64(*ev.Version))
	}
	for _, x := range extra {
		a.insert(x)
	}
	a.flush(lr.Attributes(), &vals)

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

// attrList stages a record's attributes in order, on the stack. Enrich
// puts up to about 60 of them, usually about 35; sizing the map for the most
// would waste a kilobyte per record, and for fewer would make it grow to
// twice its size. A heap-allocated list was measurably slower: every write
// of a string into it paid a GC write barrier.
type attrList struct {
	buf [64]stagedAttr
	n   int
	// more takes what does not fit in buf; with the attributes Enrich
	// writes today it stays nil.
	more []stagedAttr
}

type attrKind uint8

const (
	kindStr    attrKind = iota
	kindInt             // i
	kindBool            // i != 0
	kindData            // data[i]
	kindStrs            // strs[i]
	kindStrOne          // a list of the one string s
)

// stagedAttr is kept small because the whole list is zeroed per record;
// map and slice values live in side arrays of the list.
type stagedAttr struct {
	key  string
	s    string
	i    int64
	kind attrKind
}

// stagedValues holds the few values that are not scalars.
type stagedValues struct {
	data [4][]wineventlog.Data
	nd   int
	strs [2][]string
	ns   int
}

func (l *attrList) add(a stagedAttr) {
	if l.n < len(l.buf) {
		l.buf[l.n] = a
		l.n++
		return
	}
	l.more = append(l.more, a)
}

// insert places a string attribute at its position in tree order, unless
// its key is already staged or its value is empty.
func (l *attrList) insert(x Attr) {
	if x.Value == "" {
		return
	}
	for i := range l.n {
		if l.buf[i].key == x.Key {
			return
		}
	}
	for _, a := range l.more {
		if a.key == x.Key {
			return
		}
	}
	if l.n == len(l.buf) || len(l.more) > 0 {
		l.more = append(l.more, stagedAttr{key: x.Key, s: x.Value})
		return
	}
	i := l.n
	for i > 0 && lessPath(x.Key, l.buf[i-1].key) {
		i--
	}
	copy(l.buf[i+1:l.n+1], l.buf[i:l.n])
	l.buf[i] = stagedAttr{key: x.Key, s: x.Value}
	l.n++
}

func (l *attrList) str(k, v string)       { l.add(stagedAttr{key: k, s: v}) }
func (l *attrList) int(k string, v int64) { l.add(stagedAttr{key: k, kind: kindInt, i: v}) }
func (l *attrList) bool(k string, v bool) {
	var i int64
	if v {
		i = 1
	}
	l.add(stagedAttr{key: k, kind: kindBool, i: i})
}

func (l *attrList) nonEmpty(k, v string) {
	if v != "" {
		l.str(k, v)
	}
}

func (v *stagedValues) dataIn(l *attrList, k string, d []wineventlog.Data) {
	if v.nd == len(v.data) {
		panic("mapping: more map attributes than stagedValues holds")
	}
	v.data[v.nd] = d
	l.add(stagedAttr{key: k, kind: kindData, i: int64(v.nd)})
	v.nd++
}

func (v *stagedValues) strsIn(l *attrList, k string, s []string) {
	if v.ns == len(v.strs) {
		panic("mapping: more list attributes than stagedValues holds")
	}
	v.strs[v.ns] = s
	l.add(stagedAttr{key: k, kind: kindStrs, i: int64(v.ns)})
	v.ns++
}

// flush writes the staged attributes into m.
func (l *attrList) flush(m pcommon.Map, v *stagedValues) {
	m.EnsureCapacity(m.Len() + l.n + len(l.more))
	for i := range l.n {
		l.buf[i].put(m, v)
	}
	for i := range l.more {
		l.more[i].put(m, v)
	}
}

func (a *stagedAttr) put(m pcommon.Map, v *stagedValues) {
	switch a.kind {
	case kindStr:
		m.PutStr(a.key, a.s)
	case kindInt:
		m.PutInt(a.key, a.i)
	case kindBool:
		m.PutBool(a.key, a.i != 0)
	case kindData:
		putData(m.PutEmptyMap(a.key), v.data[a.i])
	case kindStrs:
		list := v.strs[a.i]
		s := m.PutEmptySlice(a.key)
		s.EnsureCapacity(len(list))
		for _, x := range list {
			s.AppendEmpty().SetStr(x)
		}
	case kindStrOne:
		m.PutEmptySlice(a.key).AppendEmpty().SetStr(a.s)
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
