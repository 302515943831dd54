package mapping

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Details is what enrichment reads out of an event's data: the well-known
// values mapped to contract fields, and everything else kept by name.
type Details struct {
	// Data is every EventData item by name; unnamed items are named
	// param1, param2, ... by position unless the catalog knows the
	// template's field names. When every item is named it is the event's
	// own EventData slice, so it is read-only.
	Data []wineventlog.Data
	// Metric is set for legacy events, whose one unnamed Data holds JSON.
	Metric *Metric

	UserID, DeviceID, CA, Template, Thumbprint, SerialNumber string
	RequestID, UploadState                                   string
	// DiagCode is the code as written; DiagCodeFromText is true when it was
	// found inside a text ("DiagnosticException: 0x...") rather than in a
	// field of its own.
	DiagCode         string
	DiagCodeFromText bool
	DiagText         string
	Exception        string
}

// Metric is the legacy connector's event payload.
type Metric struct {
	Name  string
	Value string
	// Dimensions flattened (nested objects joined with dots), sorted by key
	// for stable output.
	Dimensions []wineventlog.Data
}

type detailField uint8

const (
	fNone detailField = iota
	fUserID
	fDeviceID
	fCA
	fTemplate
	fThumbprint
	fSerial
	fRequestID
	fUploadState
	fDiagCode
	fDiagText
	fException
)

// detailKeys maps data names, lower-cased with separators removed, to the
// contract field they fill. Legacy dimension names are not published, so the
// common spellings of each concept are accepted.
var detailKeys = map[string]detailField{
	"userid": fUserID, "user": fUserID, "intuneuserid": fUserID, "aaduserid": fUserID,
	"deviceid": fDeviceID, "intunedeviceid": fDeviceID, "aaddeviceid": fDeviceID, "device": fDeviceID,
	"certificateauthority": fCA, "certificationauthority": fCA, "caname": fCA, "ca": fCA,
	"caconfig": fCA, "issuingca": fCA, "certificateauthorityname": fCA,
	"templatename": fTemplate, "certificatetemplate": fTemplate, "certificatetemplatename": fTemplate,
	"template": fTemplate, "certtemplate": fTemplate,
	"thumbprint": fThumbprint, "certificatethumbprint": fThumbprint, "certthumbprint": fThumbprint,
	"serialnumber": fSerial, "certificateserialnumber": fSerial, "certserialnumber": fSerial, "serial": fSerial,
	"requestid": fRequestID, "certificaterequestid": fRequestID,
	"uploadstate":    fUploadState,
	"diagnosticcode": fDiagCode, "diagnosticscode": fDiagCode, "diagcode": fDiagCode,
	"diagnostictext": fDiagText, "diagnosticstext": fDiagText, "diagnosticmessage": fDiagText,
	"exception": fException, "exceptiontext": fException,
}

func keyField(name string) detailField {
	var buf [48]byte
	k := buf[:0]
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			k = append(k, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			k = append(k, c)
		case c == '_' || c == '-' || c == ' ' || c == '.':
		default:
			return fNone
		}
		if len(k) == len(buf) {
			return fNone
		}
	}
	return detailKeys[string(k)]
}

func (d *Details) set(f detailField, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	p := d.fieldPtr(f)
	if p != nil && *p == "" {
		*p = v
	}
}

func (d *Details) fieldPtr(f detailField) *string {
	switch f {
	case fUserID:
		return &d.UserID
	case fDeviceID:
		return &d.DeviceID
	case fCA:
		return &d.CA
	case fTemplate:
		return &d.Template
	case fThumbprint:
		return &d.Thumbprint
	case fSerial:
		return &d.SerialNumber
	case fRequestID:
		return &d.RequestID
	case fUploadState:
		return &d.UploadState
	case fDiagCode:
		return &d.DiagCode
	case fDiagText:
		return &d.DiagText
	case fException:
		return &d.Exception
	}
	return nil
}

// paramNames are the names of the first unnamed items, made once: a
// legacy event's one Data and PowerShell's Properties are unnamed.
var paramNames = func() (n [16]string) {
	for i := range n {
		n[i] = "param" + strconv.Itoa(i+1)
	}
	return n
}()

// paramName names the unnamed item at position pos (from 1).
func paramName(pos int) string {
	if pos <= len(paramNames) {
		return paramNames[pos-1]
	}
	return "param" + strconv.Itoa(pos)
}

// ExtractDetails reads an event's data. fieldNames, when it has one name per
// unnamed item, names PowerShell's positional Properties the way the XML
// form names them, so both formats give the same record.
func ExtractDetails(ev *wineventlog.Event, fieldNames []string) Details {
	return extractDetails(ev, fieldNames, nil)
}

// detailScratch holds what Enrich needs of a legacy event only while it
// writes the record: the named copy of the data, the metric and its
// dimensions. The attribute writer copies the strings out, so EnrichWith
// takes one from a pool instead of allocating three objects per event.
type detailScratch struct {
	data   []wineventlog.Data
	metric Metric
	dims   []wineventlog.Data
}

var detailScratchPool = sync.Pool{New: func() any { return new(detailScratch) }}

// release forgets the event's strings and returns the scratch to the pool.
func (s *detailScratch) release() {
	clear(s.data[:cap(s.data)])
	clear(s.dims[:cap(s.dims)])
	if cap(s.data) > 256 || cap(s.dims) > 256 {
		return // a rare huge event: let its buffers go
	}
	s.data, s.dims = s.data[:0], s.dims[:0]
	s.metric = Metric{}
	detailScratchPool.Put(s)
}

// extractDetails is ExtractDetails; with scr set, the Data copy and the
// metric live in it (and are valid until it is released), else on the heap.
func extractDetails(ev *wineventlog.Event, fieldNames []string, scr *detailScratch) Details {
	var d Details
	unnamed := 0
	for _, it := range ev.EventData {
		if it.Name == "" {
			unnamed++
		}
	}
	useNames := unnamed == len(ev.EventData) && unnamed > 0 && unnamed == len(fieldNames)
	if unnamed == 0 {
		// Every item is named already, as in XML exports: the event's own
		// slice is the answer, and copying it would cost an allocation
		// per event for nothing.
		d.Data = ev.EventData
	} else if scr != nil {
		d.Data = scr.data[:0]
	} else {
		d.Data = make([]wineventlog.Data, 0, len(ev.EventData))
	}
	pos := 0
	for _, it := range ev.EventData {
		name := it.Name
		if name == "" {
			pos++
			if useNames {
				name = fieldNames[pos-1]
			} else {
				name = paramName(pos)
			}
		}
		if unnamed > 0 {
			d.Data = append(d.Data, wineventlog.Data{Name: name, Value: it.Value})
		}
		if f := keyField(name); f != fNone {
			d.set(f, it.Value)
		} else if d.Metric == nil && it.Name == "" {
			d.Metric = parseMetricInto(it.Value, scr)
		}
	}
	for _, it := range ev.UserData {
		leaf := it.Name
		if i := strings.LastIndexByte(leaf, '.'); i >= 0 {
			leaf = leaf[i+1:]
		}
		if f := keyField(leaf); f != fNone {
			d.set(f, it.Value)
		}
	}
	if d.Metric != nil {
		for _, dim := range d.Metric.Dimensions {
			leaf := dim.Name
			if i := strings.LastIndexByte(leaf, '.'); i >= 0 {
				leaf = leaf[i+1:]
			}
			if f := keyField(leaf); f != fNone {
				d.set(f, dim.Value)
			}
		}
	}
	if scr != nil && unnamed > 0 {
		scr.data = d.Data // keep the grown buffer for the next event
	}
	if d.DiagCode == "" {
		for _, t := range [...]string{d.DiagText, d.Exception, ev.Message} {
			if c := codeInText(t); c != "" {
				d.DiagCode, d.DiagCodeFromText = c, true
				break
			}
		}
	}
	return d
}

// parseMetric recognises {"Metric":{"Dimensions":{...},"Name":...,"Value":...}}
// with keys in any letter case. Anything else is not a metric. It walks the
// two outer objects itself so that dimension names need no "Metric.
// Dimensions." prefix built and cut again for every key.
func parseMetric(s string) *Metric { return parseMetricInto(s, nil) }

// parseMetricInto is parseMetric; with scr set, the metric and its
// dimensions are scr's.
func parseMetricInto(s string, scr *detailScratch) *Metric {
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '{' || !containsFold(t, "metric") {
		return nil
	}
	p := jsonFlat{s: t}
	if scr != nil {
		p.out = scr.dims[:0]
	} else {
		// Every member has a colon, so their count bounds the dimensions:
		// one allocation instead of the slice growing through several.
		p.out = make([]wineventlog.Data, 0, strings.Count(t, ":"))
	}
	var m *Metric
	ok := p.members(func(key string) bool {
		if !strings.EqualFold(key, "metric") || p.peek() != '{' {
			return p.skipValue()
		}
		if m == nil {
			if scr != nil {
				m = &scr.metric
				*m = Metric{} // a failed parse of an earlier item may have left values
			} else {
				m = &Metric{}
			}
		}
		return p.members(func(key string) bool {
			switch {
			case strings.EqualFold(key, "dimensions") && p.peek() == '{':
				if m.Dimensions != nil {
					p.out = m.Dimensions // a repeated key adds to the first
				} else {
					p.out = p.out[:0] // the buffer sized above
				}
				ok := p.object("")
				m.Dimensions = p.out
				return ok
			case strings.EqualFold(key, "name"):
				v, ok := p.scalar()
				m.Name = v
				return ok
			case strings.EqualFold(key, "value"):
				v, ok := p.scalar()
				m.Value = v
				return ok
			}
			return p.skipValue()
		})
	})
	p.ws()
	if scr != nil {
		scr.dims = p.out[:0] // keep the grown buffer for the next event
	}
	if !ok || p.pos != len(p.s) || m == nil {
		return nil
	}
	// Usually written sorted already. A stable sort keeps duplicate names in
	// document order, as sort.Slice did for the short lists metrics have,
	// and needs no reflection.
	if !slices.IsSortedFunc(m.Dimensions, byName) {
		slices.SortStableFunc(m.Dimensions, byName)
	}
	return m
}

func byName(a, b wineventlog.Data) int { return strings.Compare(a.Name, b.Name) }

// containsFold reports whether s contains the lower-case ASCII word sub in
// any letter case, without allocating.
func containsFold(s, sub string) bool { return indexFold(s, sub) >= 0 }

// indexFold is strings.Index ignoring ASCII letter case; sub must be lower
// case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

// codeInText finds "DiagnosticException: 0x..." inside a message or an
// exception text, which is where current connectors put the code when there
// is no field for it.
func codeInText(s string) string {
	const marker = "diagnosticexception"
	for from := 0; from < len(s); {
		i := indexFold(s[from:], marker)
		if i < 0 {
			return ""
		}
		j := from + i + len(marker)
		for j < len(s) && (s[j] == ':' || s[j] == ' ' || s[j] == '\t' || s[j] == '=') {
			j++
		}
		if j+2 < len(s) && s[j] == '0' && (s[j+1] == 'x' || s[j+1] == 'X') {
			k := j + 2
			for k < len(s) && isHex(s[k]) {
				k++
			}
			if k > j+2 {
				return s[j:k]
			}
		}
		from = j
	}
	return ""
}

// exceptionSummary splits a .NET exception text into its type and its first
// line, e.g. "System.InvalidOperationException: Unable to revoke ...".
func exceptionSummary(ex string) (typ, first string) {
	first = ex
	if i := strings.IndexAny(first, "\r\n"); i >= 0 {
		first = first[:i]
	}
	first = strings.TrimSpace(first)
	if i := strings.Index(first, ": "); i > 0 {
		cand := first[:i]
		if strings.Contains(cand, ".") && !strings.ContainsAny(cand, " \t") {
			typ = cand
		}
	} else if !strings.ContainsAny(first, " \t") && strings.Contains(first, "Exception") {
		typ = first
	}
	return typ, first
}
