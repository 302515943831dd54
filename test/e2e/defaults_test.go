package e2e

import (
	"testing"

	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter"
	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver"
)

// The exporters' default queues must hold two of the receiver's default
// batches: with block_on_overflow a request counts against the queue until
// all of it is sent, so a smaller queue stalls the pipeline for a flush
// timeout per batch (bench/e2e/README.md) or refuses batches outright.
func TestDefaultQueuesHoldTwoReceiverBatches(t *testing.T) {
	rcv := intuneconnectorreceiver.NewFactory().CreateDefaultConfig().(*intuneconnectorreceiver.Config)
	queues := map[string]exporterhelper.QueueBatchConfig{
		"intune_elasticsearch": *intuneelasticsearchexporter.NewFactory().CreateDefaultConfig().(*intuneelasticsearchexporter.Config).QueueBatchConfig.Get(),
		"intune_splunk_hec":    *intunesplunkhecexporter.NewFactory().CreateDefaultConfig().(*intunesplunkhecexporter.Config).QueueConfig.Get(),
	}
	for name, q := range queues {
		if q.Sizer != exporterhelper.RequestSizerTypeItems {
			t.Errorf("%s: queue sized in %v, want items (records)", name, q.Sizer)
		}
		if q.QueueSize < 2*int64(rcv.MaxBatchSize) {
			t.Errorf("%s: default queue_size %d is less than twice the receiver's max_batch_size %d", name, q.QueueSize, rcv.MaxBatchSize)
		}
		if !q.BlockOnOverflow {
			t.Errorf("%s: block_on_overflow is off by default", name)
		}
	}
}
