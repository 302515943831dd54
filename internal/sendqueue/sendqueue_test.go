package sendqueue

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

func TestConfig(t *testing.T) {
	opt := Config(Settings{QueueSize: 2_000, Consumers: 2, MinBatch: 500, MaxBatch: 1_000, FlushTimeout: time.Second})
	if !opt.HasValue() {
		t.Fatal("no queue")
	}
	q := opt.Get()
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	b := q.Batch.Get()
	if q.Sizer != exporterhelper.RequestSizerTypeItems || q.QueueSize != 2_000 || q.NumConsumers != 2 || !q.BlockOnOverflow ||
		!q.Batch.HasValue() || b.Sizer != exporterhelper.RequestSizerTypeItems || b.MinSize != 500 || b.MaxSize != 1_000 || b.FlushTimeout != time.Second {
		t.Errorf("queue %+v, batch %+v", q, b)
	}
	def := Config(Settings{QueueSize: 10, Consumers: 1, MinBatch: 1, MaxBatch: 2})
	if d := def.Get().Batch.Get().FlushTimeout; d != exporterhelper.NewDefaultBatchConfig().FlushTimeout {
		t.Errorf("flush timeout %s, want the collector's default", d)
	}
	// A batch larger than the queue can never form: the collector refuses it.
	bad := Config(Settings{QueueSize: 100, Consumers: 1, MinBatch: 500, MaxBatch: 1_000})
	if err := bad.Get().Validate(); err == nil {
		t.Error("min batch above the queue size was accepted")
	}
}
