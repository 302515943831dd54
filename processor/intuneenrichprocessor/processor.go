package intuneenrichprocessor

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Results of handling one record, the values of the result attribute of
// otelcol_intune_enrich_records.
const (
	resultEnriched        = "enriched"
	resultAlreadyEnriched = "already_enriched"
	resultPassed          = "passed"
	resultDropped         = "dropped"
	resultParseError      = "parse_error"
)

type enrichProcessor struct {
	logger *zap.Logger
	cfg    *Config
	en     *mapping.Enricher
	tel    *telemetry
	// lastWarn rate-limits the parse-error log line to one a minute; the
	// counter has the full count.
	lastWarn atomic.Int64
}

func newEnrichProcessor(set component.TelemetrySettings, cfg *Config, en *mapping.Enricher) (*enrichProcessor, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, err
	}
	return &enrichProcessor{logger: set.Logger, cfg: cfg, en: en, tel: tel}, nil
}

func (p *enrichProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	counts := map[string]int64{}
	var unmatchedEvents, unmatchedCodes int64
	tmp := plog.NewLogRecord()
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				result, res := p.handle(lr, tmp)
				counts[result]++
				if result == resultEnriched {
					if !res.Matched {
						unmatchedEvents++
					}
					if res.HasCode && !res.CodeMatched {
						unmatchedCodes++
					}
				}
				return result == resultDropped
			})
			return sl.LogRecords().Len() == 0
		})
		return rl.ScopeLogs().Len() == 0
	})
	for r, n := range counts {
		p.tel.addRecords(ctx, r, n)
	}
	p.tel.addUnmatched(ctx, kindEvent, unmatchedEvents)
	p.tel.addUnmatched(ctx, kindCode, unmatchedCodes)
	return ld, nil
}

// handle enriches one record in place, or decides to pass or drop it.
func (p *enrichProcessor) handle(lr plog.LogRecord, tmp plog.LogRecord) (string, mapping.Result) {
	if _, done := lr.Attributes().Get(mapping.AttrIntuneEnrichmentVersion); done {
		return resultAlreadyEnriched, mapping.Result{}
	}
	ev, recognised, err := p.decode(lr.Body())
	if err != nil {
		// Text that looks like an event but does not parse is kept as it
		// is: losing it would be worse than shipping it unenriched.
		p.warnParse(err)
		return resultParseError, mapping.Result{}
	}
	if !recognised {
		return p.foreign(), mapping.Result{}
	}
	if _, ok := p.en.Catalog().SourceOf(ev.ProviderName, ev.ProviderGUID, ev.Channel); !ok {
		return p.foreign(), mapping.Result{}
	}
	if ev.Original == "" && p.cfg.Enrichment.IncludeOriginal && lr.Body().Type() == pcommon.ValueTypeStr {
		ev.Original = lr.Body().Str()
	}

	// Enrich in place. Attributes other receivers set (log.file.name from
	// filelog, say) are set aside and put back where the contract has no
	// key of the same name; the body was decoded already, so replacing it
	// loses nothing.
	attrs := lr.Attributes()
	var saved pcommon.Map
	if attrs.Len() > 0 {
		saved = tmp.Attributes()
		saved.Clear()
		attrs.MoveTo(saved)
	}
	res := p.en.Enrich(&ev, lr)
	if saved != (pcommon.Map{}) {
		for k, v := range saved.All() {
			if _, exists := attrs.Get(k); !exists {
				v.CopyTo(attrs.PutEmpty(k))
			}
		}
	}
	return resultEnriched, res
}

func (p *enrichProcessor) foreign() string {
	if p.cfg.NonConnector == NonConnectorDrop {
		return resultDropped
	}
	return resultPassed
}

// decode recognises the body shapes other receivers produce. recognised is
// false for bodies that are not Windows events at all.
func (p *enrichProcessor) decode(body pcommon.Value) (ev wineventlog.Event, recognised bool, err error) {
	switch body.Type() {
	case pcommon.ValueTypeMap:
		ev, err := eventFromBody(body.Map())
		if err != nil {
			return ev, false, nil
		}
		return ev, true, nil
	case pcommon.ValueTypeStr:
		s := strings.TrimSpace(body.Str())
		switch {
		case strings.HasPrefix(s, "<") && strings.Contains(s, "<Event"):
			ev, err := wineventlog.ParseEventXML([]byte(s))
			return ev, true, err
		case strings.HasPrefix(s, "{") && looksLikePowerShellEvent(s):
			ev, err := wineventlog.ParseEventJSON([]byte(s))
			return ev, true, err
		}
	}
	return ev, false, nil
}

// looksLikePowerShellEvent keeps arbitrary JSON logs out of the event
// parser: Get-WinEvent objects always carry these two properties.
func looksLikePowerShellEvent(s string) bool {
	return strings.Contains(s, `"ProviderName"`) && (strings.Contains(s, `"Id"`) || strings.Contains(s, `"id"`))
}

func (p *enrichProcessor) warnParse(err error) {
	now := time.Now().Unix()
	last := p.lastWarn.Load()
	if now-last < 60 || !p.lastWarn.CompareAndSwap(last, now) {
		return
	}
	p.logger.Warn("A record looks like a Windows event but could not be parsed; it is passed on unenriched. "+
		"Check that the filelog receiver hands over whole events (one wevtutil XML event or one ConvertTo-Json -Compress object per record). "+
		"Further parse errors are counted in otelcol_intune_enrich_records{result=parse_error} and logged at most once a minute.",
		zap.Error(err))
}
