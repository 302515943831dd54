package intunemetricsconnector

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/connector/intunemetricsconnector/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// finalSendTimeout bounds the last send at shutdown when the collector's
// own context has no deadline.
const finalSendTimeout = 5 * time.Second

// metricsConnector counts the records of a logs pipeline into series kept
// in memory and sends their current values to a metrics pipeline every
// interval. Counting never fails and never holds the logs back; a failed
// send loses nothing, because the next one carries the same totals.
type metricsConnector struct {
	cfg     *Config
	logger  *zap.Logger
	tel     *telemetry
	next    consumer.Metrics
	version string
	now     func() time.Time

	mu    sync.Mutex
	table *table

	// Whether a send failed last time, so a backend that stays away is
	// logged once, and its return once.
	failing bool

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

func newConnector(set component.TelemetrySettings, version string, cfg *Config, next consumer.Metrics) (*metricsConnector, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, err
	}
	return &metricsConnector{
		cfg:     cfg,
		logger:  set.Logger,
		tel:     tel,
		next:    next,
		version: version,
		now:     time.Now,
		table:   newTable(cfg.MaxSeries),
	}, nil
}

func (*metricsConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeLogs counts the batch; it only reads it.
func (c *metricsConnector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	now := c.now().UnixNano()
	var eventsFull, channelsFull bool
	var n tally
	c.mu.Lock()
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		resHost, resHostRead := "", false
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				k, channel, ok := readRecord(lr.Attributes())
				if !ok {
					n.skipped++
					continue
				}
				if k.host == "" {
					// A record that lost its own host.name (a producer
					// that keeps it on the resource only).
					if !resHostRead {
						if v, found := rl.Resource().Attributes().Get(mapping.AttrHostName); found {
							resHost = str(v)
						}
						resHostRead = true
					}
					k.host = resHost
				}
				t := int64(lr.Timestamp())
				if t == 0 {
					t = int64(lr.ObservedTimestamp())
				}
				if t == 0 {
					t = now
				}
				over, ef, cf := c.table.add(k, channelKey{k.host, channel}, t, now)
				if over {
					n.overflow++
				} else {
					n.counted++
				}
				eventsFull = eventsFull || ef
				channelsFull = channelsFull || cf
			}
		}
	}
	c.mu.Unlock()
	c.tel.addRecords(ctx, n)
	if eventsFull || channelsFull {
		c.logger.Warn("max_series reached: events of further attribute sets are counted in one series marked otel.metric.overflow=true until series expire or the collector restarts; raise max_series if this many hosts, codes, CAs and templates are expected, or look for the producer sending unexpected values",
			zap.Int("max_series", c.cfg.MaxSeries), zap.Bool("events_full", eventsFull), zap.Bool("channels_full", channelsFull))
	}
	return nil
}

// collect returns the metrics as of now, or false when there is nothing to
// send yet.
func (c *metricsConnector) collect() (pmetric.Metrics, bool) {
	now := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.ExpireAfter > 0 {
		c.table.expire(now - int64(c.cfg.ExpireAfter))
	}
	if c.table.empty() {
		return pmetric.Metrics{}, false
	}
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	sm.Scope().SetVersion(c.version)
	c.table.appendTo(sm.Metrics(), now)
	return md, true
}

// send passes the current metrics on.
func (c *metricsConnector) send(ctx context.Context) {
	md, ok := c.collect()
	if !ok {
		return
	}
	err := c.next.ConsumeMetrics(ctx, md)
	if err != nil {
		c.tel.sendFailures.Add(ctx, 1)
	}
	switch {
	case err != nil && !c.failing:
		c.failing = true
		c.logger.Warn("the metrics pipeline refused the event counts; the next interval sends the same totals again, so nothing is lost unless this lasts until shutdown",
			zap.Error(err))
	case err == nil && c.failing:
		c.failing = false
		c.logger.Info("the metrics pipeline accepts the event counts again")
	}
}

// Start begins sending every interval.
func (c *metricsConnector) Start(context.Context, component.Host) error {
	c.stop = make(chan struct{})
	c.done = make(chan struct{})
	go c.run(c.stop, c.done)
	return nil
}

func (c *metricsConnector) run(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(c.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			c.send(context.Background())
		}
	}
}

// Shutdown stops the ticker and sends the totals one last time: the
// collector shuts a connector down before the exporters after it, so the
// counts of the last interval still reach them. Safe to call twice, or
// without Start.
func (c *metricsConnector) Shutdown(ctx context.Context) error {
	c.stopOnce.Do(func() {
		if c.stop == nil {
			return
		}
		close(c.stop)
		<-c.done
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, finalSendTimeout)
			defer cancel()
		}
		c.send(ctx)
	})
	return nil
}
