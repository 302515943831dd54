package intunemetricsconnector

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// The metrics this connector sends, and the attribute that marks the
// series where attribute sets beyond max_series are counted (the name the
// OpenTelemetry SDKs use for their cardinality limit).
const (
	MetricEvents    = "intune.connector.events"
	MetricSinceLast = "intune.connector.time_since_last_event"
	AttrOverflow    = "otel.metric.overflow"
)

const (
	descEvents    = "Intune Certificate Connector events, by event, outcome, category, diagnostic code, host, certification authority and template."
	descSinceLast = "Seconds since the latest event a host wrote to a channel, by the event's own time."
)

// eventKey is one attribute set of intune.connector.events. A struct of
// strings looks a series up without allocating.
type eventKey struct {
	action, code, outcome, category, diagCode, host, ca, template string
}

// channelKey is one attribute set of intune.connector.time_since_last_event.
type channelKey struct{ host, channel string }

// counter is one series of the event sum. Times are Unix nanoseconds.
type counter struct {
	n     uint64
	start int64 // when the series began: its start timestamp, so a series that expires and comes back reads as a reset
	seen  int64 // arrival of its latest event, for expire_after
}

// latest is one series of the age gauge.
type latest struct {
	eventTime int64 // the newest event's own time, never later than its arrival
	seen      int64
}

// table holds every series. It is not safe for concurrent use: the
// connector locks around it.
type table struct {
	maxSeries int
	events    map[eventKey]*counter
	channels  map[channelKey]*latest
	// The overflow series, nil until max_series is reached.
	eventsOver   *counter
	channelsOver *latest
}

func newTable(maxSeries int) *table {
	return &table{
		maxSeries: maxSeries,
		events:    map[eventKey]*counter{},
		channels:  map[channelKey]*latest{},
	}
}

// add counts one event that arrived at now (its own time eventTime). over
// says the event was counted in the overflow series of the sum; eventsFull
// and channelsFull that a metric met its max_series with this event, so the
// caller can say so once.
func (t *table) add(k eventKey, ck channelKey, eventTime, now int64) (over, eventsFull, channelsFull bool) {
	if eventTime > now {
		// A host clock ahead of ours would make the age negative.
		eventTime = now
	}
	c := t.events[k]
	if c == nil {
		if len(t.events) < t.maxSeries {
			c = &counter{start: now}
			t.events[k.clone()] = c
		} else {
			if t.eventsOver == nil {
				t.eventsOver = &counter{start: now}
				eventsFull = true
			}
			c = t.eventsOver
			over = true
		}
	}
	c.n++
	c.seen = now

	l := t.channels[ck]
	if l == nil {
		if len(t.channels) < t.maxSeries {
			l = &latest{eventTime: eventTime}
			t.channels[channelKey{strings.Clone(ck.host), strings.Clone(ck.channel)}] = l
		} else {
			if t.channelsOver == nil {
				t.channelsOver = &latest{eventTime: eventTime}
				channelsFull = true
			}
			l = t.channelsOver
		}
	}
	l.eventTime = max(l.eventTime, eventTime)
	l.seen = now
	return over, eventsFull, channelsFull
}

// clone copies the strings of a key that is about to be kept: the values
// may be slices of a decoder's buffer, which a kept key would pin.
func (k eventKey) clone() eventKey {
	return eventKey{
		action: strings.Clone(k.action), code: strings.Clone(k.code), outcome: strings.Clone(k.outcome),
		category: strings.Clone(k.category), diagCode: strings.Clone(k.diagCode), host: strings.Clone(k.host),
		ca: strings.Clone(k.ca), template: strings.Clone(k.template),
	}
}

// expire forgets series whose latest event arrived before cutoff.
func (t *table) expire(cutoff int64) {
	for k, c := range t.events {
		if c.seen < cutoff {
			delete(t.events, k)
		}
	}
	for k, l := range t.channels {
		if l.seen < cutoff {
			delete(t.channels, k)
		}
	}
	if t.eventsOver != nil && t.eventsOver.seen < cutoff {
		t.eventsOver = nil
	}
	if t.channelsOver != nil && t.channelsOver.seen < cutoff {
		t.channelsOver = nil
	}
}

func (t *table) empty() bool {
	return len(t.events) == 0 && len(t.channels) == 0 && t.eventsOver == nil && t.channelsOver == nil
}

// appendTo adds both metrics as of now: the sum cumulative since each
// series began, the gauge recomputed, so it grows while nothing arrives.
func (t *table) appendTo(ms pmetric.MetricSlice, now int64) {
	ts := pcommon.Timestamp(now)

	m := ms.AppendEmpty()
	m.SetName(MetricEvents)
	m.SetDescription(descEvents)
	m.SetUnit("{event}")
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dps := sum.DataPoints()
	dps.EnsureCapacity(len(t.events) + 1)
	point := func(c *counter) pmetric.NumberDataPoint {
		dp := dps.AppendEmpty()
		dp.SetStartTimestamp(pcommon.Timestamp(c.start))
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(c.n))
		return dp
	}
	for k, c := range t.events {
		a := point(c).Attributes()
		putNonEmpty(a, mapping.AttrEventAction, k.action)
		putNonEmpty(a, mapping.AttrEventCode, k.code)
		putNonEmpty(a, mapping.AttrEventOutcome, k.outcome)
		putNonEmpty(a, mapping.AttrIntuneCategory, k.category)
		putNonEmpty(a, mapping.AttrIntuneDiagCode, k.diagCode)
		putNonEmpty(a, mapping.AttrHostName, k.host)
		putNonEmpty(a, mapping.AttrIntuneCA, k.ca)
		putNonEmpty(a, mapping.AttrIntuneTemplate, k.template)
	}
	if t.eventsOver != nil {
		point(t.eventsOver).Attributes().PutBool(AttrOverflow, true)
	}

	m = ms.AppendEmpty()
	m.SetName(MetricSinceLast)
	m.SetDescription(descSinceLast)
	m.SetUnit("s")
	gps := m.SetEmptyGauge().DataPoints()
	gps.EnsureCapacity(len(t.channels) + 1)
	age := func(l *latest) pmetric.NumberDataPoint {
		dp := gps.AppendEmpty()
		dp.SetTimestamp(ts)
		dp.SetDoubleValue(max(0, float64(now-l.eventTime)/1e9))
		return dp
	}
	for k, l := range t.channels {
		a := age(l).Attributes()
		putNonEmpty(a, mapping.AttrHostName, k.host)
		putNonEmpty(a, mapping.AttrWinlogChannel, k.channel)
	}
	if t.channelsOver != nil {
		age(t.channelsOver).Attributes().PutBool(AttrOverflow, true)
	}
}

// putNonEmpty leaves out what the record did not carry, so an event without
// a CA has no CA attribute rather than an empty one.
func putNonEmpty(a pcommon.Map, k, v string) {
	if v != "" {
		a.PutStr(k, v)
	}
}

// readRecord takes from a record's attributes what the metrics group by,
// in one pass over them. ok is false for a record outside the record
// contract (no intune.enrichment.version): another log sharing the pipeline.
func readRecord(attrs pcommon.Map) (k eventKey, channel string, ok bool) {
	for key, v := range attrs.All() {
		switch key {
		case mapping.AttrEventAction:
			k.action = str(v)
		case mapping.AttrEventCode:
			k.code = str(v)
		case mapping.AttrEventOutcome:
			k.outcome = str(v)
		case mapping.AttrIntuneCategory:
			k.category = str(v)
		case mapping.AttrIntuneDiagCode:
			k.diagCode = str(v)
		case mapping.AttrHostName:
			k.host = str(v)
		case mapping.AttrIntuneCA:
			k.ca = str(v)
		case mapping.AttrIntuneTemplate:
			k.template = str(v)
		case mapping.AttrWinlogChannel:
			channel = str(v)
		case mapping.AttrIntuneEnrichmentVersion:
			ok = true
		}
	}
	return k, channel, ok
}

// str reads a value the contract defines as a string; another type (from a
// producer that does not follow the contract) is counted under its text.
func str(v pcommon.Value) string {
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return v.AsString()
}
