package mapping

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The projections' inverse: a log record rebuilt from an ECS document or a
// HEC event that AppendECS or AppendHEC wrote, so that what a backend
// refused can be sent again through a collector (intunectl replay).
//
// For a record in the contract the rebuild is exact in what the
// projections write: every attribute with its type (the contract's map
// fields stay maps; everything else un-flattens back to dotted keys), the
// body, the time, trace and span IDs, and the severity, which log.level
// gives. Projecting the rebuilt record writes the same document again,
// so Elasticsearch sees the same _id (event.id) and answers a resend with
// 409. What the documents cannot tell is left out:
//   - routing: data_stream.* in an ECS document and index, source and
//     sourcetype of a HEC event come from the exporter's config or from the
//     record's own routing attributes, and a document does not say which,
//     so the rebuilt record carries none and goes where the exporters
//     receiving it send records now (a corrected index applies);
//   - HEC time has microseconds only, Splunk's precision;
//   - resource attributes come back as record attributes (the projections
//     merge the two), and the scope is not recorded;
//   - a record without log.level (outside the contract) keeps a severity
//     only from a HEC event's CIM severity, as one of the table's levels;
//   - for attributes outside the contract, a whole-number double comes
//     back as an int, bytes as their base64 text, and a map as dotted keys.

// RecordFromECS rebuilds lr, which should be empty, from an ECS document.
func RecordFromECS(doc []byte, lr plog.LogRecord) error {
	return rebuild(doc, lr, ecsEnvelope)
}

// RecordFromHEC rebuilds lr, which should be empty, from a HEC event
// object: its event member holds the record, its time the timestamp.
func RecordFromHEC(event []byte, lr plog.LogRecord) error {
	return rebuild(event, lr, hecEnvelope)
}

type envelope int

const (
	ecsEnvelope envelope = iota
	hecEnvelope
)

func rebuild(doc []byte, lr plog.LogRecord, env envelope) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	r := rebuilder{lr: lr, attrs: lr.Attributes()}
	sawEvent := false
	for dec.More() {
		key, err := memberName(dec)
		if err != nil {
			return err
		}
		switch {
		case env == hecEnvelope && key == "time":
			err = r.epoch(dec)
		case env == hecEnvelope && key == "event":
			sawEvent = true
			if err = expectDelim(dec, '{'); err == nil {
				err = r.members(dec, "", true)
			}
		case env == hecEnvelope && key == "fields":
			err = r.cimFields(dec)
		case env == hecEnvelope:
			// host, source, sourcetype, index: see the note above.
			err = skipValue(dec)
		default:
			err = r.member(dec, "", key, true)
		}
		if err != nil {
			return fmt.Errorf("member %q: %w", key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if env == hecEnvelope && !sawEvent {
		return errors.New("not a HEC event: it has no event object")
	}
	if env == ecsEnvelope && lr.Timestamp() == 0 {
		return errors.New("not an ECS document: it has no @timestamp")
	}
	r.severity()
	return nil
}

type rebuilder struct {
	lr       plog.LogRecord
	attrs    pcommon.Map
	cimLevel string // HEC fields.severity, for records without log.level
}

// members reads the rest of an object whose members are attributes below
// prefix; top marks the document's (or HEC event's) own level.
func (r *rebuilder) members(dec *json.Decoder, prefix string, top bool) error {
	for dec.More() {
		key, err := memberName(dec)
		if err != nil {
			return err
		}
		if err := r.member(dec, prefix, key, top); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

func (r *rebuilder) member(dec *json.Decoder, prefix, key string, top bool) error {
	path := key
	if !top {
		path = prefix + "." + key
	}
	if top && (key == "message" || key == "body") {
		// The projections write a string body as message, any other as
		// body; anything else is an attribute of that name.
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		dst := r.attrs.PutEmpty(path)
		if isString := len(raw) > 0 && raw[0] == '"'; isString == (key == "message") {
			r.attrs.Remove(path)
			dst = r.lr.Body()
		}
		return decodeValue(json.NewDecoder(bytes.NewReader(raw)), dst)
	}
	switch path {
	case "@timestamp":
		var s string
		if err := dec.Decode(&s); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return err
		}
		r.lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
		return nil
	case "ecs.version", "data_stream.type", AttrDataStreamDataset, AttrDataStreamNamespace:
		// The projections write these as text, from the configuration.
		// An object here holds attributes whose names only begin with
		// one of them ("data_stream.namespace.x", un-flattened): keep
		// those, or the document would not rebuild to itself.
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if len(raw) == 0 || raw[0] != '{' {
			return nil
		}
		inner := json.NewDecoder(bytes.NewReader(raw))
		inner.UseNumber()
		if _, err := inner.Token(); err != nil {
			return err
		}
		return r.members(inner, path, false)
	case "trace.id", "span.id":
		return r.traceID(dec, path)
	}
	if isMapField(path) {
		return decodeValue(dec, r.attrs.PutEmpty(path))
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		return r.members(dec, path, false)
	}
	return putToken(dec, tok, r.attrs.PutEmpty(path))
}

// traceID sets the record's trace or span ID; a value that is not one
// stays an attribute.
func (r *rebuilder) traceID(dec *json.Decoder, path string) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		b, err := hex.DecodeString(s)
		switch {
		case err == nil && path == "trace.id" && len(b) == 16:
			r.lr.SetTraceID(pcommon.TraceID(b))
			return nil
		case err == nil && path == "span.id" && len(b) == 8:
			r.lr.SetSpanID(pcommon.SpanID(b))
			return nil
		}
	}
	return decodeValue(json.NewDecoder(bytes.NewReader(raw)), r.attrs.PutEmpty(path))
}

// epoch reads HEC time: seconds with up to six decimals.
func (r *rebuilder) epoch(dec *json.Decoder) error {
	var n json.Number
	if err := dec.Decode(&n); err != nil {
		return err
	}
	sec, frac, _ := strings.Cut(n.String(), ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 9 {
		return fmt.Errorf("time %s is not epoch seconds", n)
	}
	ns := int64(0)
	if frac != "" {
		f, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		if err != nil {
			return fmt.Errorf("time %s is not epoch seconds", n)
		}
		ns = f
	}
	r.lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(s, ns)))
	return nil
}

// cimFields keeps the CIM severity, the only trace of the severity of a
// record that has no log.level.
func (r *rebuilder) cimFields(dec *json.Decoder) error {
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return err
	}
	r.cimLevel, _ = fields["severity"].(string)
	return nil
}

// severity sets the OTel severity from log.level, or from the CIM severity.
func (r *rebuilder) severity() {
	if v, ok := r.attrs.Get(AttrLogLevel); ok {
		if s, err := ParseSeverity(v.AsString()); err == nil {
			setSeverity(r.lr, s)
			return
		}
	}
	for _, si := range SeverityTable {
		if r.cimLevel != "" && si.SplunkSeverity == r.cimLevel && si.Severity != SeverityVerbose {
			setSeverity(r.lr, si.Severity)
			return
		}
	}
}

func setSeverity(lr plog.LogRecord, s Severity) {
	si := s.Info()
	lr.SetSeverityNumber(si.Number)
	lr.SetSeverityText(si.Text)
}

// isMapField reports contract attributes whose value is a map.
func isMapField(path string) bool {
	switch path {
	case AttrWinlogEventData, AttrWinlogUserData, AttrIntuneDetails:
		return true
	}
	return false
}

func memberName(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a member name, found %v", tok)
	}
	return key, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %v, found %v", want, tok)
	}
	return nil
}

func skipValue(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

// decodeValue reads any JSON value into v, keeping objects as maps.
func decodeValue(dec *json.Decoder, v pcommon.Value) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return putToken(dec, tok, v)
}

func putToken(dec *json.Decoder, tok json.Token, v pcommon.Value) error {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			m := v.SetEmptyMap()
			for dec.More() {
				key, err := memberName(dec)
				if err != nil {
					return err
				}
				if err := decodeValue(dec, m.PutEmpty(key)); err != nil {
					return err
				}
			}
		} else {
			s := v.SetEmptySlice()
			for dec.More() {
				if err := decodeValue(dec, s.AppendEmpty()); err != nil {
					return err
				}
			}
		}
		_, err := dec.Token()
		return err
	case string:
		v.SetStr(t)
	case bool:
		v.SetBool(t)
	case json.Number:
		if i, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			v.SetInt(i)
		} else if f, err := t.Float64(); err == nil {
			v.SetDouble(f)
		} else {
			v.SetStr(t.String())
		}
	case nil:
		// An empty value: the projections write null for it.
	}
	return nil
}
