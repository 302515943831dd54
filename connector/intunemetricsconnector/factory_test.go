package intunemetricsconnector

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-intune/otelcol-intune/connector/intunemetricsconnector/internal/metadata"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	if f.Type() != metadata.Type {
		t.Errorf("type %s, want %s", f.Type(), metadata.Type)
	}
	if got := f.LogsToMetricsStability(); got != component.StabilityLevelAlpha {
		t.Errorf("logs to metrics stability %s, want alpha", got)
	}
	if got := f.LogsToLogsStability(); got != component.StabilityLevelUndefined {
		t.Errorf("logs to logs is %s, want undefined: the connector only makes metrics", got)
	}
	if err := componenttest.CheckConfigStruct(f.CreateDefaultConfig()); err != nil {
		t.Error(err)
	}
	if err := f.CreateDefaultConfig().(*Config).Validate(); err != nil {
		t.Errorf("the default config does not validate: %v", err)
	}
}

func createStarted(t *testing.T, cfg *Config, sink *consumertest.MetricsSink) *metricsConnector {
	t.Helper()
	c, err := NewFactory().CreateLogsToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	return c.(*metricsConnector)
}

// The ticker sends every interval; Shutdown stops it (goleak checks that no
// goroutine is left) and may be called twice.
func TestLifecycleSendsEveryInterval(t *testing.T) {
	cfg := defaultConfig()
	cfg.Interval = time.Second
	sink := &consumertest.MetricsSink{}
	c := createStarted(t, cfg, sink)
	h := &harness{c: c}
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01")}))
	testutil.WaitFor(t, 10*time.Second, "two sends on the ticker", func() bool { return len(sink.AllMetrics()) >= 2 })
	for range 2 {
		if err := c.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// What was counted since the last tick still goes out at shutdown.
func TestShutdownSendsTheLastCounts(t *testing.T) {
	cfg := defaultConfig()
	cfg.Interval = time.Hour
	sink := &consumertest.MetricsSink{}
	c := createStarted(t, cfg, sink)
	h := &harness{c: c}
	h.consume(t, logsOf(t, nil, record{attrs: scepVerify("ndes01")}, record{attrs: scepVerify("ndes01")}))
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := sink.AllMetrics()
	if len(all) != 1 {
		t.Fatalf("%d sends, want the one at shutdown", len(all))
	}
	for _, p := range points(t, all[0], MetricEvents) {
		if p.value != 2 {
			t.Errorf("count %g at shutdown, want 2", p.value)
		}
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	c, err := NewFactory().CreateLogsToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), defaultConfig(), consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
