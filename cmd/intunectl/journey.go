package main

import (
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// step is one event of a certificate's journey, as trace prints it and the
// report's device section shows it. The values are the record's, so that
// they read as in Elasticsearch or Splunk.
type step struct {
	N           int       `json:"step"`
	Time        time.Time `json:"time"`
	Host        string    `json:"host,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	RecordID    uint64    `json:"record_id,omitempty"`
	EventID     uint32    `json:"event_id"`
	Name        string    `json:"name,omitempty"`
	Outcome     string    `json:"outcome"`
	Severity    string    `json:"severity"`
	Code        string    `json:"diagnostic_code,omitempty"`
	CodeName    string    `json:"diagnostic_name,omitempty"`
	Message     string    `json:"message,omitempty"`
	Remediation string    `json:"remediation,omitempty"`
	RunbookURL  string    `json:"runbook_url,omitempty"`
	DeviceID    string    `json:"device_id,omitempty"`
	RequestID   string    `json:"request_id,omitempty"`
	Thumbprint  string    `json:"thumbprint,omitempty"`
	Serial      string    `json:"serial_number,omitempty"`

	seq int // read order, which breaks ties in time
	// The identifiers as normID writes them, computed once.
	nDevice, nRequest, nThumbprint, nSerial string
}

// certIDs are the identifiers a journey follows from a step.
func (s *step) certIDs() [3]string { return [3]string{s.nRequest, s.nThumbprint, s.nSerial} }

// maxStepMessage bounds the message a step keeps: a journey holds every
// event that names a device or certificate, and exception texts are long.
const maxStepMessage = 400

// journeys collects the steps of every event that names a device, request,
// certificate thumbprint or serial number.
type journeys struct {
	steps []step
	seen  map[stepKey]bool
	// byDevice and byCert index the steps by normalised device ID and by
	// request ID, thumbprint or serial number, so that a journey costs
	// its own length, not a pass over every event.
	byDevice, byCert map[string][]int
}

// stepKey is an event's identity, so that the same event read from two
// exports of one log (an EVTX and its XML) is one step. The time is kept to
// the second: PowerShell's JSON keeps only milliseconds.
type stepKey struct {
	host, channel string
	record        uint64
	id            uint32
	time          int64
}

func newJourneys() *journeys {
	return &journeys{seen: map[stepKey]bool{}, byDevice: map[string][]int{}, byCert: map[string][]int{}}
}

// add keeps the event when it names something a journey is traced by.
func (j *journeys) add(ev *wineventlog.Event, res mapping.Result, lr plog.LogRecord) {
	attrs := lr.Attributes()
	get := func(k string) string {
		if v, ok := attrs.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	s := step{
		Time: ev.TimeCreated, Host: ev.Computer, Channel: ev.Channel, RecordID: ev.RecordID, EventID: ev.EventID,
		Name: get(mapping.AttrEventAction), Outcome: string(res.Outcome), Severity: res.Severity.String(),
		DeviceID: get(mapping.AttrDeviceID), RequestID: get(mapping.AttrIntuneRequestID),
		Thumbprint: get(mapping.AttrIntuneThumbprint), Serial: get(mapping.AttrIntuneSerialNumber),
	}
	s.nDevice, s.nRequest, s.nThumbprint, s.nSerial = normID(s.DeviceID), normID(s.RequestID), normID(s.Thumbprint), normID(s.Serial)
	if s.nDevice == "" && s.nRequest == "" && s.nThumbprint == "" && s.nSerial == "" {
		return
	}
	if s.RecordID != 0 {
		k := stepKey{strings.ToUpper(s.Host), strings.ToLower(s.Channel), s.RecordID, s.EventID, s.Time.Unix()}
		if j.seen[k] {
			return
		}
		j.seen[k] = true
	}
	if c := get(mapping.AttrErrorCode); c != "" {
		s.Code, s.CodeName = c, get(mapping.AttrIntuneDiagName)
	}
	s.Message = clip(get(mapping.AttrErrorMessage), maxStepMessage)
	if res.Outcome == mapping.OutcomeFailure || s.Code != "" {
		s.Remediation = get(mapping.AttrIntuneRemediation)
		s.RunbookURL = get(mapping.AttrIntuneRunbookURL)
	}
	s.seq = len(j.steps)
	if s.nDevice != "" {
		j.byDevice[s.nDevice] = append(j.byDevice[s.nDevice], s.seq)
	}
	for _, id := range s.certIDs() {
		if id != "" {
			j.byCert[id] = append(j.byCert[id], s.seq)
		}
	}
	j.steps = append(j.steps, s)
}

// Kinds of identifier a key matched, as trace names them.
const (
	kindDevice     = "device ID"
	kindRequest    = "request ID"
	kindThumbprint = "thumbprint"
	kindSerial     = "serial number"
)

// chain returns the journey of key in time order, numbered from 1, and
// the kinds of identifier key was found as. The events naming key are
// joined by those naming the requests, thumbprints and serial numbers they
// carry, and so on: a legacy event that names only a thumbprint still
// belongs to the device whose request produced it. Device IDs are not
// followed, so a certificate's journey does not grow into all of its
// device's other certificates.
func (j *journeys) chain(key string) ([]step, []string) {
	want := normID(key)
	if want == "" {
		return nil, nil
	}
	in := map[int]bool{}
	followed := map[string]bool{want: true}
	queue := []string{want}
	take := func(i int) {
		if in[i] {
			return
		}
		in[i] = true
		for _, id := range j.steps[i].certIDs() {
			if id != "" && !followed[id] {
				followed[id] = true
				queue = append(queue, id)
			}
		}
	}
	for _, i := range j.byDevice[want] {
		take(i)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, i := range j.byCert[id] {
			take(i)
		}
	}
	kinds := map[string]bool{}
	for i := range in {
		s := &j.steps[i]
		kinds[kindDevice] = kinds[kindDevice] || s.nDevice == want
		kinds[kindRequest] = kinds[kindRequest] || s.nRequest == want
		kinds[kindThumbprint] = kinds[kindThumbprint] || s.nThumbprint == want
		kinds[kindSerial] = kinds[kindSerial] || s.nSerial == want
	}
	out := make([]step, 0, len(in))
	for i := range in {
		out = append(out, j.steps[i])
	}
	sort.SliceStable(out, func(a, b int) bool {
		if !out[a].Time.Equal(out[b].Time) {
			return out[a].Time.Before(out[b].Time)
		}
		return out[a].seq < out[b].seq
	})
	for i := range out {
		out[i].N = i + 1
	}
	var kindList []string
	for _, k := range []string{kindDevice, kindRequest, kindThumbprint, kindSerial} {
		if kinds[k] {
			kindList = append(kindList, k)
		}
	}
	return out, kindList
}

// firstFailure returns the first failing step, or nil.
func firstFailure(steps []step) *step {
	for i := range steps {
		if steps[i].Outcome == string(mapping.OutcomeFailure) {
			return &steps[i]
		}
	}
	return nil
}

// deviceJourney is a device with failing steps in its journey, for the
// report.
type deviceJourney struct {
	id       string
	steps    []step
	failures int
	last     time.Time // of the latest failure
}

// devicesWithFailures returns at most n devices whose journeys hold
// failures, most failures first (then the latest failure first). Tracing
// every device would cost a pass over the events each, so the devices
// with the most failing events that name them directly are traced, three
// times as many as asked for, and ranked by their whole journeys.
func (j *journeys) devicesWithFailures(n int) []deviceJourney {
	direct := map[string]int{}
	for id, steps := range j.byDevice {
		for _, i := range steps {
			if j.steps[i].Outcome == string(mapping.OutcomeFailure) {
				direct[id]++
			}
		}
	}
	ids := make([]string, 0, len(direct))
	for id := range direct {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		if direct[ids[a]] != direct[ids[b]] {
			return direct[ids[a]] > direct[ids[b]]
		}
		return ids[a] < ids[b]
	})
	if len(ids) > 3*n {
		ids = ids[:3*n]
	}
	out := make([]deviceJourney, 0, len(ids))
	for _, id := range ids {
		d := deviceJourney{id: displayDeviceID(id)}
		d.steps, _ = j.chain(id)
		for _, s := range d.steps {
			if s.Outcome == string(mapping.OutcomeFailure) {
				d.failures++
				if s.Time.After(d.last) {
					d.last = s.Time
				}
			}
		}
		out = append(out, d)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].failures != out[b].failures {
			return out[a].failures > out[b].failures
		}
		if !out[a].last.Equal(out[b].last) {
			return out[a].last.After(out[b].last)
		}
		return out[a].id < out[b].id
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// displayDeviceID writes a device ID as Intune shows it: a lower-case GUID
// without braces.
func displayDeviceID(norm string) string { return strings.ToLower(norm) }

// normID makes identifiers comparable however an event or a user writes
// them: case, GUID braces, and the spaces or colons of a thumbprint or
// serial number copied from a certificate dialog. Placeholders (all zeros)
// tie nothing together and come back empty.
func normID(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '{', '}', ' ', ':', '\t', '\u200e', '\u200f':
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
	if strings.Trim(s, "0-") == "" {
		return ""
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
