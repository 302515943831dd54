// Package sendqueue holds the sending-queue defaults the intune exporters
// share: what they differ in is sizes, not policy.
package sendqueue

import (
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Settings are the sizes an exporter chooses.
type Settings struct {
	// QueueSize in records. Keep it at least twice the largest request
	// upstream (the intune_connector receiver's max_batch_size, 500 by
	// default; test/e2e checks the exporters' defaults against it):
	// a request counts against the queue until all of it is exported, so a
	// batch split across two exports would otherwise hold the queue until
	// FlushTimeout sends its remainder, and a request larger than the queue
	// is refused outright.
	QueueSize    int64
	Consumers    int
	MinBatch     int64
	MaxBatch     int64
	FlushTimeout time.Duration // 0: the collector's default
}

// Config returns an in-memory queue counted in records, so memory has a
// bound whatever the size of the requests upstream (outages are what the
// persistent queue, storage:, is for), that makes the sender wait when it
// is full instead of refusing: a receiver upstream then keeps its
// checkpoint where a refusal would cost it a back-off pause.
func Config(s Settings) configoptional.Optional[exporterhelper.QueueBatchConfig] {
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.Sizer = exporterhelper.RequestSizerTypeItems
	queue.QueueSize = s.QueueSize
	queue.NumConsumers = s.Consumers
	queue.BlockOnOverflow = true
	batch := exporterhelper.NewDefaultBatchConfig()
	if s.FlushTimeout > 0 {
		batch.FlushTimeout = s.FlushTimeout
	}
	batch.Sizer = exporterhelper.RequestSizerTypeItems
	batch.MinSize = s.MinBatch
	batch.MaxSize = s.MaxBatch
	queue.Batch = configoptional.Some(batch)
	return configoptional.Some(queue)
}
