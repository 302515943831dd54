package intuneenrichprocessor

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// The contrib windowseventlog receiver writes an event as a map body:
//
//	event_id {id, qualifiers}, provider {name, guid, event_source},
//	system_time, computer, channel, record_id, level, task, opcode,
//	keywords, message, version, execution {process_id, thread_id},
//	security {user_id}, correlation {activity_id, related_activity_id},
//	event_data, user_data {name, data}, rendering_info {...}
//
// level, task, opcode and keywords hold the rendered names when Windows
// rendered them and the raw numbers otherwise. Releases differ (the
// processor tests build each release's shape):
//   - v0.130 writes no version, no rendering_info and no user_data, and
//     event_data as {data: [{Name: value}, ...], binary}, unnamed items
//     keyed "".
//   - v0.149 on write version always, 0 for an event without <Version>;
//     enrichment leaves version 0 out, so both give the receiver's record.
//   - v0.165 adds rendering_info and user_data, and writes event_data as a
//     map {Name: value, paramN: unnamed, binary, name} by default (the
//     array form with event_data_format: array). Its user_data.data
//     arrives as text: the stanza converter has no case for the map of
//     strings it is built from, so UserData items cannot be read back.

var errNotWindowsEvent = errors.New("body is not a windowseventlog event")

// eventFromBody reads a windowseventlog map body. It fails when the map
// lacks what every such body has (event_id and provider or channel), so
// foreign maps pass through untouched.
func eventFromBody(m pcommon.Map) (wineventlog.Event, error) {
	var ev wineventlog.Event
	if !readIdentity(m, &ev) {
		return ev, errNotWindowsEvent
	}
	readSystem(m, &ev)
	readClassification(m, &ev)
	readRenderingInfo(m, &ev)
	readContext(m, &ev)
	if ed, ok := m.Get("event_data"); ok {
		ev.EventData = eventData(ed)
	}
	readUserData(m, &ev)
	return ev, nil
}

// readIdentity reads the event ID, provider and channel; false when the
// body has no event ID or neither a provider nor a channel.
func readIdentity(m pcommon.Map, ev *wineventlog.Event) bool {
	idv, ok := m.Get("event_id")
	if !ok {
		return false
	}
	switch idv.Type() {
	case pcommon.ValueTypeMap:
		id, ok := uintOf(idv.Map(), "id")
		if !ok {
			return false
		}
		ev.EventID = uint32(id)
		if q, ok := uintOf(idv.Map(), "qualifiers"); ok {
			qq := uint16(q)
			ev.Qualifiers = &qq
		}
	default:
		id, ok := valueUint(idv)
		if !ok {
			return false
		}
		ev.EventID = uint32(id)
	}
	if p, ok := m.Get("provider"); ok && p.Type() == pcommon.ValueTypeMap {
		ev.ProviderName = str(p.Map(), "name")
		ev.ProviderGUID = canonicalGUID(str(p.Map(), "guid"))
		ev.EventSourceName = str(p.Map(), "event_source")
	} else if ok && p.Type() == pcommon.ValueTypeStr {
		ev.ProviderName = p.Str()
	}
	ev.Channel = str(m, "channel")
	return ev.ProviderName != "" || ev.Channel != ""
}

// readSystem reads the rest of the System element: computer, time, record
// ID, version, and the message.
func readSystem(m pcommon.Map, ev *wineventlog.Event) {
	ev.Computer = str(m, "computer")
	if t := str(m, "system_time"); t != "" {
		if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
			ev.TimeCreated = ts.UTC()
		}
	}
	if id, ok := uintOf(m, "record_id"); ok {
		ev.RecordID = id
	}
	if v, ok := uintOf(m, "version"); ok {
		vv := uint8(v)
		ev.Version = &vv
	}
	ev.Message = str(m, "message")
}

// readClassification reads level, task, opcode and keywords: the rendered
// names when Windows rendered them, the raw numbers otherwise.
func readClassification(m pcommon.Map, ev *wineventlog.Event) {
	if lv, ok := m.Get("level"); ok {
		if n, ok := valueUint(lv); ok {
			ev.Level = uint8(n)
		} else {
			ev.LevelText = lv.AsString()
			ev.Level = levelFromText(ev.LevelText)
		}
	}
	if tv, ok := m.Get("task"); ok {
		if n, ok := valueUint(tv); ok {
			ev.Task = uint16(n)
		} else {
			ev.TaskText = tv.AsString()
		}
	}
	if ov, ok := m.Get("opcode"); ok {
		if n, ok := valueUint(ov); ok {
			op := uint8(n)
			ev.Opcode = &op
		} else {
			ev.OpcodeText = ov.AsString()
		}
	}
	if kv, ok := m.Get("keywords"); ok && kv.Type() == pcommon.ValueTypeSlice {
		for i := 0; i < kv.Slice().Len(); i++ {
			k := kv.Slice().At(i).AsString()
			if n, ok := parseHexUint(k); ok {
				ev.Keywords |= n
			} else if k != "" {
				ev.KeywordsText = append(ev.KeywordsText, k)
			}
		}
	}
}

// readRenderingInfo prefers the rendered text newer versions repeat under
// rendering_info.
func readRenderingInfo(m pcommon.Map, ev *wineventlog.Event) {
	ri, ok := m.Get("rendering_info")
	if !ok || ri.Type() != pcommon.ValueTypeMap {
		return
	}
	r := ri.Map()
	if s := str(r, "message"); s != "" {
		ev.Message = s
	}
	if s := str(r, "level"); s != "" {
		ev.LevelText = s
	}
	if s := str(r, "task"); s != "" {
		ev.TaskText = s
	}
	if s := str(r, "opcode"); s != "" {
		ev.OpcodeText = s
	}
}

// readContext reads execution, security and correlation.
func readContext(m pcommon.Map, ev *wineventlog.Event) {
	if ex, ok := m.Get("execution"); ok && ex.Type() == pcommon.ValueTypeMap {
		if n, ok := uintOf(ex.Map(), "process_id"); ok {
			pid := uint32(n)
			ev.ProcessID = &pid
		}
		if n, ok := uintOf(ex.Map(), "thread_id"); ok {
			tid := uint32(n)
			ev.ThreadID = &tid
		}
	}
	if sec, ok := m.Get("security"); ok && sec.Type() == pcommon.ValueTypeMap {
		ev.UserSID = str(sec.Map(), "user_id")
	}
	if c, ok := m.Get("correlation"); ok && c.Type() == pcommon.ValueTypeMap {
		ev.ActivityID = canonicalGUID(str(c.Map(), "activity_id"))
		ev.RelatedActivityID = canonicalGUID(str(c.Map(), "related_activity_id"))
	}
}

// readUserData reads user_data {name, data}; a data that is not a map
// (v0.165's text, see above) is passed over.
func readUserData(m pcommon.Map, ev *wineventlog.Event) {
	ud, ok := m.Get("user_data")
	if !ok || ud.Type() != pcommon.ValueTypeMap {
		return
	}
	ev.UserDataRoot = str(ud.Map(), "name")
	if d, ok := ud.Map().Get("data"); ok && d.Type() == pcommon.ValueTypeMap {
		for k, v := range d.Map().All() {
			ev.UserData = append(ev.UserData, wineventlog.Data{Name: k, Value: v.AsString()})
		}
	}
}

// eventData reads both event_data shapes. In the map shape, paramN keys are
// the receiver's names for unnamed items; they are turned back into unnamed
// items so that enrichment names them the same way for every input.
func eventData(v pcommon.Value) []wineventlog.Data {
	if v.Type() != pcommon.ValueTypeMap {
		return nil
	}
	m := v.Map()
	if arr, ok := m.Get("data"); ok && arr.Type() == pcommon.ValueTypeSlice {
		var out []wineventlog.Data
		s := arr.Slice()
		for i := 0; i < s.Len(); i++ {
			it := s.At(i)
			if it.Type() != pcommon.ValueTypeMap {
				out = append(out, wineventlog.Data{Value: it.AsString()})
				continue
			}
			im := it.Map()
			// {"name": "...", "value": "..."} or {"<Name>": "value"}.
			if nv, ok := im.Get("name"); ok && im.Len() == 2 {
				if vv, ok := im.Get("value"); ok {
					out = append(out, wineventlog.Data{Name: nv.AsString(), Value: vv.AsString()})
					continue
				}
			}
			for k, val := range im.All() {
				out = append(out, wineventlog.Data{Name: k, Value: val.AsString()})
			}
		}
		return out
	}
	// A map keeps no document order (the receiver builds it from a Go
	// map), so items are put in a stable order: named ones by name, then
	// unnamed ones by their paramN number, which is their position.
	var named, unnamed []wineventlog.Data
	var positions []uint64
	for k, val := range m.All() {
		switch {
		case k == "binary" || k == "name":
			// The EventData element's own Name attribute and its <Binary>.
			continue
		case isParamN(k):
			n, _ := strconv.ParseUint(k[len("param"):], 10, 32)
			unnamed = append(unnamed, wineventlog.Data{Value: val.AsString()})
			positions = append(positions, n)
		default:
			named = append(named, wineventlog.Data{Name: k, Value: val.AsString()})
		}
	}
	sort.Slice(named, func(i, j int) bool { return named[i].Name < named[j].Name })
	idx := make([]int, len(unnamed))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return positions[idx[i]] < positions[idx[j]] })
	out := named
	for _, i := range idx {
		out = append(out, unnamed[i])
	}
	return out
}

func isParamN(k string) bool {
	if !strings.HasPrefix(k, "param") || len(k) == len("param") {
		return false
	}
	_, err := strconv.ParseUint(k[len("param"):], 10, 32)
	return err == nil
}

func str(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok && v.Type() != pcommon.ValueTypeEmpty {
		return v.AsString()
	}
	return ""
}

func uintOf(m pcommon.Map, k string) (uint64, bool) {
	v, ok := m.Get(k)
	if !ok {
		return 0, false
	}
	return valueUint(v)
}

func valueUint(v pcommon.Value) (uint64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		if v.Int() < 0 {
			return 0, false
		}
		return uint64(v.Int()), true
	case pcommon.ValueTypeDouble:
		if v.Double() < 0 {
			return 0, false
		}
		return uint64(v.Double()), true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseUint(strings.TrimSpace(v.Str()), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func parseHexUint(s string) (uint64, bool) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		n, err := strconv.ParseUint(s[2:], 16, 64)
		return n, err == nil
	}
	return 0, false
}

func levelFromText(s string) uint8 {
	switch strings.ToLower(s) {
	case "critical":
		return 1
	case "error":
		return 2
	case "warning":
		return 3
	case "information", "info":
		return 4
	case "verbose":
		return 5
	}
	return 0
}

// canonicalGUID writes a GUID as Windows renders it in XML, upper case with
// braces, so fingerprints match whatever receiver read the event.
func canonicalGUID(s string) string {
	t := strings.Trim(strings.TrimSpace(s), "{}")
	if len(t) != 36 {
		return s
	}
	return "{" + strings.ToUpper(t) + "}"
}
