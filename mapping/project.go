package mapping

import (
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// ECSVersion is the ECS version the documents follow.
const ECSVersion = "8.17.0"

// Per-record routing attributes, the same names the contrib exporters honour,
// so a processor upstream can route records without exporter config.
const (
	AttrDataStreamDataset   = "data_stream.dataset"
	AttrDataStreamNamespace = "data_stream.namespace"
	AttrSplunkIndex         = "com.splunk.index"
	AttrSplunkSource        = "com.splunk.source"
	AttrSplunkSourcetype    = "com.splunk.sourcetype"
)

// Defaults for the projections.
const (
	DefaultDataStreamDataset   = EventDataset
	DefaultDataStreamNamespace = "default"
	DefaultSourcetype          = "intune:connector:event"
	DefaultSource              = "intune_connector"
	VendorProduct              = "Microsoft Intune Certificate Connector"
)

// ECSOptions controls the Elasticsearch document.
type ECSOptions struct {
	// DataStream adds data_stream.{type,dataset,namespace}; set it when
	// writing to a data stream, where Elasticsearch requires them to match
	// the target.
	DataStream bool
	Dataset    string
	Namespace  string
}

// DocKeys is what places a record's document in Elasticsearch.
type DocKeys struct {
	// ID is the record's event.id ("" when it has none).
	ID string
	// Dataset and Namespace name the data stream: the record's own
	// data_stream.* attributes first, then the options, then the defaults.
	Dataset, Namespace string
}

// KeysFor returns the record's document keys in one pass over its
// attributes.
func (o ECSOptions) KeysFor(lr plog.LogRecord) DocKeys {
	var v recordView
	var id string
	for k, a := range lr.Attributes().All() {
		switch k {
		case AttrEventID:
			if a.Type() == pcommon.ValueTypeStr {
				id = a.Str()
			}
		case AttrDataStreamDataset:
			v.dsDataset = a.AsString()
		case AttrDataStreamNamespace:
			v.dsNamespace = a.AsString()
		}
	}
	ds, ns := o.dataStream(v)
	return DocKeys{ID: id, Dataset: ds, Namespace: ns}
}

func (o ECSOptions) dataStream(v recordView) (dataset, namespace string) {
	return firstNonEmpty(v.dsDataset, o.Dataset, DefaultDataStreamDataset),
		firstNonEmpty(v.dsNamespace, o.Namespace, DefaultDataStreamNamespace)
}

// AppendECS appends the record as one ECS JSON document: its attributes and
// the resource's un-flattened, @timestamp from the event time, message from
// the body.
func AppendECS(b []byte, res pcommon.Resource, lr plog.LogRecord, opts ECSOptions) []byte {
	b = append(b, `{"@timestamp":`...)
	b = appendTime(b, recordTime(lr))
	b = append(b, `,"ecs":{"version":"`+ECSVersion+`"}`...)
	b = appendBody(b, lr.Body(), "message")
	fb := fieldPool.Get().(*[]field)
	var ds *ECSOptions
	if opts.DataStream {
		ds = &opts
	}
	fields, _ := collectFields(fb, res, lr, ds)
	b = appendTree(b, fields, false)
	releaseFields(fb)
	return append(b, '}')
}

// HECOptions controls the Splunk HEC event envelope.
type HECOptions struct {
	Index      string
	Source     string
	Sourcetype string
}

// AppendHEC appends the record as one HEC event object: time in epoch
// seconds, host, source, sourcetype and index from the record's routing
// attributes or the options, event = the structured record, fields = the
// few CIM fields worth indexing.
func AppendHEC(b []byte, res pcommon.Resource, lr plog.LogRecord, opts HECOptions) []byte {
	fb := fieldPool.Get().(*[]field)
	defer releaseFields(fb)
	fields, v := collectFields(fb, res, lr, nil)
	b = append(b, `{"time":`...)
	b = appendEpoch(b, recordTime(lr))
	host := v.host
	if host == "" {
		host = attrStr(res.Attributes(), AttrHostName)
	}
	if host != "" {
		b = append(b, `,"host":`...)
		b = appendJSONString(b, host)
	}
	b = append(b, `,"source":`...)
	b = appendJSONString(b, firstNonEmpty(v.splunkSource, opts.Source, v.channel, DefaultSource))
	b = append(b, `,"sourcetype":`...)
	b = appendJSONString(b, firstNonEmpty(v.splunkSourcetype, opts.Sourcetype, DefaultSourcetype))
	if idx := firstNonEmpty(v.splunkIndex, opts.Index); idx != "" {
		b = append(b, `,"index":`...)
		b = appendJSONString(b, idx)
	}

	b = append(b, `,"event":{`...)
	n := len(b)
	b = appendBody(b, lr.Body(), "message")
	// With no body there is no member before the attributes, so the first
	// one takes no comma.
	b = appendTree(b, fields, len(b) == n)
	b = append(b, '}')

	b = append(b, `,"fields":{`...)
	b = appendCIMFields(b, &v, lr)
	return append(b, '}', '}')
}

// CIMFields lists the index-time fields of the HEC projection, for
// documentation and for content that searches them.
var CIMFields = []struct{ Name, From string }{
	{"signature_id", "event.code"},
	{"signature", "event.action (or \"Event <id>\" when unknown)"},
	{"severity", "severity table: informational, medium, high, critical"},
	{"severity_id", "severity table: 1, 3, 4, 5"},
	{"action", "event.outcome: success, failure, unknown"},
	{"vendor_product", "\"" + VendorProduct + "\""},
	{"dest", "host.name"},
	{"user", "user.id"},
	{"diagnostic_code", "intune.diagnostic.code"},
	{"generation", "intune.generation"},
}

func appendCIMFields(b []byte, v *recordView, lr plog.LogRecord) []byte {
	sev := recordSeverity(v.level, lr).Info()
	code := v.code
	sig := v.action
	if sig == "" && code != "" {
		sig = "Event " + code
	}
	first := true
	put := func(k, v string) {
		if v == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, v)
	}
	put("signature_id", code)
	put("signature", sig)
	put("severity", sev.SplunkSeverity)
	put("severity_id", strconv.Itoa(sev.SplunkSeverityID))
	put("action", v.outcome)
	put("vendor_product", VendorProduct)
	put("dest", v.host)
	put("user", v.user)
	put("diagnostic_code", v.diagCode)
	put("generation", v.generation)
	return b
}

// recordSeverity reads the contract's log.level, falling back to the OTel
// severity number for records from elsewhere.
func recordSeverity(level string, lr plog.LogRecord) Severity {
	if level != "" {
		if s, err := ParseSeverity(level); err == nil {
			return s
		}
	}
	n := lr.SeverityNumber()
	switch {
	case n >= plog.SeverityNumberFatal:
		return SeverityCritical
	case n >= plog.SeverityNumberError:
		return SeverityError
	case n >= plog.SeverityNumberWarn:
		return SeverityWarning
	case n >= plog.SeverityNumberInfo || n == plog.SeverityNumberUnspecified:
		return SeverityInformation
	default:
		return SeverityVerbose
	}
}

// routingAttrs are consumed by the envelope, not copied into documents.
func isRoutingAttr(k string) bool {
	switch k {
	case AttrSplunkIndex, AttrSplunkSource, AttrSplunkSourcetype, AttrDataStreamDataset, AttrDataStreamNamespace, "data_stream.type":
		return true
	}
	return false
}

// recordView holds the attributes the envelopes and CIM fields need,
// gathered in the one pass over the attributes that collectFields makes
// anyway, instead of a linear Get per key.
type recordView struct {
	host, channel, code, action, outcome, user, diagCode, generation, level string
	splunkIndex, splunkSource, splunkSourcetype, dsDataset, dsNamespace     string
	// The record's own data_stream values, written back into the document
	// as they are.
	dsDatasetV, dsNamespaceV pcommon.Value
}

func (v *recordView) see(k string, val pcommon.Value) (routing bool) {
	switch k {
	case AttrHostName:
		v.host = val.AsString()
	case AttrWinlogChannel:
		v.channel = val.AsString()
	case AttrEventCode:
		v.code = val.AsString()
	case AttrEventAction:
		v.action = val.AsString()
	case AttrEventOutcome:
		v.outcome = val.AsString()
	case AttrUserID:
		v.user = val.AsString()
	case AttrIntuneDiagCode:
		v.diagCode = val.AsString()
	case AttrIntuneGeneration:
		v.generation = val.AsString()
	case AttrLogLevel:
		v.level = val.AsString()
	case AttrSplunkIndex:
		v.splunkIndex = val.AsString()
		return true
	case AttrSplunkSource:
		v.splunkSource = val.AsString()
		return true
	case AttrSplunkSourcetype:
		v.splunkSourcetype = val.AsString()
		return true
	case AttrDataStreamDataset:
		v.dsDataset, v.dsDatasetV = val.AsString(), val
		return true
	case AttrDataStreamNamespace:
		v.dsNamespace, v.dsNamespaceV = val.AsString(), val
		return true
	case "data_stream.type":
		return true
	}
	return false
}

// collectFields returns the record's and the resource's attributes, plus
// the data_stream fields when ds is set, in tree order; on a duplicate key
// the record's value wins, then the resource's. Routing attributes go to
// the view only.
//
// The three groups are put in order apart and merged: the record's
// attributes arrive in order from the enricher, the resource's are few and
// usually in order too, and the added fields are written in order, so each
// check is linear where sorting them together would not be ("data_stream"
// sorts between a record's and a resource's keys).
func collectFields(scratch *[]field, res pcommon.Resource, lr plog.LogRecord, ds *ECSOptions) ([]field, recordView) {
	var view recordView
	attrs := lr.Attributes()
	ra := res.Attributes()
	n := attrs.Len() + ra.Len() + 5
	if cap(*scratch) < 3*n {
		*scratch = make([]field, 0, 3*n)
	}
	// One after the other in buf: the record's fields, the resource's, the
	// merge of the resource's with the added ones, and the final merge.
	buf := (*scratch)[:cap(*scratch)]
	rec := buf[:0:n]
	for k, v := range attrs.All() {
		if !view.see(k, v) {
			rec = append(rec, field{k, v})
		}
	}
	sortFields(rec)
	end := len(rec)
	fromRes := buf[end:end:n]
	for k, v := range ra.All() {
		if !isRoutingAttr(k) {
			fromRes = append(fromRes, field{k, v})
		}
	}
	sortFields(fromRes)
	end += len(fromRes)
	var addedArr [5]field
	added := addedArr[:0] // in tree order as appended
	if ds != nil {
		added = append(added,
			field{AttrDataStreamDataset, dataStreamValue(view.dsDatasetV, ds.Dataset, DefaultDataStreamDataset)},
			field{AttrDataStreamNamespace, dataStreamValue(view.dsNamespaceV, ds.Namespace, DefaultDataStreamNamespace)},
			field{"data_stream.type", constValue("logs")})
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		added = append(added, field{"span.id", pcommon.NewValueStr(id.String())})
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		added = append(added, field{"trace.id", pcommon.NewValueStr(id.String())})
	}
	var other []field
	switch {
	case len(added) == 0 && len(fromRes) == 0:
		*scratch = buf[:end] // what releaseFields clears
		return rec, view
	case len(added) == 0:
		other = fromRes
	case len(fromRes) == 0:
		other = added
	default:
		other = mergeFields(buf[end:end], fromRes, added)
		end += len(other)
	}
	out := mergeFields(buf[end:end], rec, other)
	*scratch = buf[:end+len(out)]
	return out, view
}

// dataStreamValue is the record's own value when it has one, else the
// configured or default name, without allocating per record.
func dataStreamValue(own pcommon.Value, configured, def string) pcommon.Value {
	if own != (pcommon.Value{}) {
		if own.Type() == pcommon.ValueTypeStr {
			if own.Str() != "" {
				return own
			}
		} else if s := own.AsString(); s != "" {
			return pcommon.NewValueStr(s) // written as a string, as always
		}
	}
	return constValue(firstNonEmpty(configured, def))
}

// constValues holds read-only values for the names the configuration
// gives, so documents do not allocate a pcommon value per record for them.
// Only configured and default names come here, so it stays small.
var constValues sync.Map // string -> pcommon.Value

func constValue(s string) pcommon.Value {
	if v, ok := constValues.Load(s); ok {
		return v.(pcommon.Value)
	}
	v, _ := constValues.LoadOrStore(s, pcommon.NewValueStr(s))
	return v.(pcommon.Value)
}

// fieldPool reuses the scratch slices the projections sort attributes in:
// they are the projections' only per-record allocation.
var fieldPool = sync.Pool{New: func() any { s := make([]field, 0, 128); return &s }}

// releaseFields clears the pcommon values collectFields stored (so the
// pool holds no record alive) and returns the slice to the pool.
func releaseFields(p *[]field) {
	clear(*p)
	*p = (*p)[:0]
	if cap(*p) <= 1024 {
		fieldPool.Put(p)
	}
}

// appendBody writes the body as a "message" member (with a leading comma
// when something precedes it in the object, which is always the case for
// ECS and never for HEC's event object).
func appendBody(b []byte, body pcommon.Value, key string) []byte {
	if body.Type() == pcommon.ValueTypeEmpty {
		return b
	}
	if len(b) > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	if body.Type() != pcommon.ValueTypeStr {
		// Structured bodies from other receivers stay structured.
		key = "body"
	}
	b = appendJSONString(b, key)
	b = append(b, ':')
	return appendJSONValue(b, body)
}

func recordTime(lr plog.LogRecord) time.Time {
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime()
	}
	return lr.ObservedTimestamp().AsTime()
}

// appendTime writes RFC 3339 with nanoseconds in UTC, by hand: the
// general formatter is a noticeable share of encoding a document.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	b = append(b, '"')
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, min, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z', '"')
}

// appendDigits writes n zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n > 0 || i > len(tmp)-width {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

// appendEpoch writes epoch seconds with microseconds, the precision Splunk
// keeps.
func appendEpoch(b []byte, t time.Time) []byte {
	us := t.UnixMicro()
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec--
		frac += 1e6
	}
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, '.')
	s := strconv.FormatInt(frac, 10)
	for i := len(s); i < 6; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func attrStr(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok {
		return v.AsString()
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
