package mapping

import (
	"strconv"
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

// DataStreamFor returns the dataset and namespace for a record: its own
// data_stream.* attributes first, then the options, then the defaults.
func (o ECSOptions) DataStreamFor(lr plog.LogRecord) (dataset, namespace string) {
	dataset, namespace = o.Dataset, o.Namespace
	if dataset == "" {
		dataset = DefaultDataStreamDataset
	}
	if namespace == "" {
		namespace = DefaultDataStreamNamespace
	}
	if v, ok := lr.Attributes().Get(AttrDataStreamDataset); ok && v.Str() != "" {
		dataset = v.Str()
	}
	if v, ok := lr.Attributes().Get(AttrDataStreamNamespace); ok && v.Str() != "" {
		namespace = v.Str()
	}
	return dataset, namespace
}

// AppendECS appends the record as one ECS JSON document: its attributes and
// the resource's un-flattened, @timestamp from the event time, message from
// the body.
func AppendECS(b []byte, res pcommon.Resource, lr plog.LogRecord, opts ECSOptions) []byte {
	b = append(b, `{"@timestamp":`...)
	b = appendTime(b, recordTime(lr))
	b = append(b, `,"ecs":{"version":"`+ECSVersion+`"}`...)
	b = appendBody(b, lr.Body(), "message")
	var extra []field
	if opts.DataStream {
		ds, ns := opts.DataStreamFor(lr)
		extra = []field{
			{"data_stream.type", pcommon.NewValueStr("logs")},
			{AttrDataStreamDataset, pcommon.NewValueStr(ds)},
			{AttrDataStreamNamespace, pcommon.NewValueStr(ns)},
		}
	}
	b = appendTree(b, collectFields(res, lr, true, extra...), false)
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
	attrs := lr.Attributes()
	t := recordTime(lr)
	b = append(b, `{"time":`...)
	b = appendEpoch(b, t)
	host := attrStr(attrs, AttrHostName)
	if host == "" {
		host = attrStr(res.Attributes(), AttrHostName)
	}
	if host != "" {
		b = append(b, `,"host":`...)
		b = appendJSONString(b, host)
	}
	source := firstNonEmpty(attrStr(attrs, AttrSplunkSource), opts.Source, attrStr(attrs, AttrWinlogChannel), DefaultSource)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, source)
	b = append(b, `,"sourcetype":`...)
	b = appendJSONString(b, firstNonEmpty(attrStr(attrs, AttrSplunkSourcetype), opts.Sourcetype, DefaultSourcetype))
	if idx := firstNonEmpty(attrStr(attrs, AttrSplunkIndex), opts.Index); idx != "" {
		b = append(b, `,"index":`...)
		b = appendJSONString(b, idx)
	}

	b = append(b, `,"event":{`...)
	fields := collectFields(res, lr, false)
	n := len(b)
	b = appendBody(b, lr.Body(), "message")
	if len(b) > n {
		b = appendTree(b, fields, false)
	} else {
		// appendBody wrote nothing, so no leading comma: drop it.
		b = appendTree(b, fields, true)
	}
	b = append(b, '}')

	b = append(b, `,"fields":{`...)
	b = appendCIMFields(b, lr)
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

func appendCIMFields(b []byte, lr plog.LogRecord) []byte {
	attrs := lr.Attributes()
	sev := recordSeverity(lr).Info()
	code := attrStr(attrs, AttrEventCode)
	sig := attrStr(attrs, AttrEventAction)
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
	put("action", attrStr(attrs, AttrEventOutcome))
	put("vendor_product", VendorProduct)
	put("dest", attrStr(attrs, AttrHostName))
	put("user", attrStr(attrs, AttrUserID))
	put("diagnostic_code", attrStr(attrs, AttrIntuneDiagCode))
	put("generation", attrStr(attrs, AttrIntuneGeneration))
	return b
}

// recordSeverity reads the contract's log.level, falling back to the OTel
// severity number for records from elsewhere.
func recordSeverity(lr plog.LogRecord) Severity {
	if v, ok := lr.Attributes().Get(AttrLogLevel); ok {
		if s, err := ParseSeverity(v.Str()); err == nil {
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

// collectFields returns the record's and the resource's attributes, plus
// extra, in tree order; on a duplicate key the record's value wins.
func collectFields(res pcommon.Resource, lr plog.LogRecord, ecs bool, extra ...field) []field {
	attrs := lr.Attributes()
	ra := res.Attributes()
	n := attrs.Len() + ra.Len() + len(extra) + 2
	buf := make([]field, 0, 2*n)
	rec := buf[:0:n]
	for k, v := range attrs.All() {
		if !isRoutingAttr(k) {
			rec = append(rec, field{k, v})
		}
	}
	sortFields(rec)
	other := buf[len(rec):len(rec):n]
	for k, v := range ra.All() {
		if !isRoutingAttr(k) {
			other = append(other, field{k, v})
		}
	}
	other = append(other, extra...)
	if ecs {
		if id := lr.TraceID(); !id.IsEmpty() {
			other = append(other, field{"trace.id", pcommon.NewValueStr(id.String())})
		}
		if id := lr.SpanID(); !id.IsEmpty() {
			other = append(other, field{"span.id", pcommon.NewValueStr(id.String())})
		}
	}
	if len(other) == 0 {
		return rec
	}
	sortFields(other)
	return mergeFields(buf[n:n], rec, other)
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

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000Z07:00")
	return append(b, '"')
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
