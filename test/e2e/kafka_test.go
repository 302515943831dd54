//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/pdata/plog"
)

const (
	kafkaTopic      = "intune-connector-events"
	kafkaPartitions = 4
	// kafkaFirst events flow while the gateway is killed and restarted;
	// kafkaSecond arrive while the broker is down.
	kafkaFirst  = 10_000
	kafkaSecond = 5_000
	// receiverBatch is the intune_connector receiver's default
	// max_batch_size.
	receiverBatch = 1000
)

// TestKafkaAgentToGateway runs the shipped config/agent-kafka.yaml and
// config/gateway-kafka.yaml against an in-process Kafka-protocol broker
// (kfake) that keeps its log and the group's committed offsets on disk:
//
//   - with Elasticsearch down and a small Elasticsearch queue, the gateway
//     stops inside the pipeline call for a Kafka message it cannot queue;
//     it is killed there with SIGKILL, and again halfway through once
//     Elasticsearch is up: no message it had not queued was committed;
//   - the broker is stopped, the agent reads a second export, is killed
//     with SIGKILL and started again, and only then does a new broker
//     start on the same address with the same data: the agent's persistent
//     queue held everything;
//   - every event is stored once by the bulk test server (repeats are
//     answered 409) and reaches the HEC peer at least once;
//   - every message of the topic is in one partition under one key (one
//     agent host), and the first export's events are in the order read.
func TestKafkaAgentToGateway(t *testing.T) {
	slow(t)
	t.Parallel()
	r := newKafkaRun(t)
	r.killGateway()
	r.brokerOutage()
	r.agent.stop(30 * time.Second)
	r.gw.stop(30 * time.Second)

	t.Run("elasticsearch_exactly_once", func(t *testing.T) { assertStoredOnce(t, r.es, r.want) })
	t.Run("splunk_hec_at_least_once", func(t *testing.T) {
		if r.peer == nil {
			t.Skip(r.peerSkip)
		}
		assertAtLeastOnce(t, &r.hec, r.want)
	})
	t.Run("one_partition_per_host_in_order", r.checkTopic)
}

// kafkaRun is the agent, the broker, the gateway and the backends of
// TestKafkaAgentToGateway.
type kafkaRun struct {
	t                   *testing.T
	collector, esbulk   string
	dir, exports        string
	secondStaged        string         // the second export, until the outage
	firstOrder          map[string]int // event.id -> position in the first export
	want                map[string]bool
	broker              *kafkaBroker
	esAddr              string
	es                  *esServer // nil until Elasticsearch is up
	peer                *hecPeerProc
	peerSkip            string
	hec                 idCounter
	gwEnv, gwArgs       []string
	gwMetrics           string
	agentEnv, agentArgs []string
	agentMetrics        string
	gw, agent           *proc
}

func newKafkaRun(t *testing.T) *kafkaRun {
	t.Helper()
	r := &kafkaRun{t: t, dir: t.TempDir()}
	r.collector, r.esbulk = binaries(t)
	root := moduleRoot(t)
	r.exports = filepath.Join(r.dir, "exports")
	mkdir(t, r.exports)
	first := filepath.Join(r.exports, "first.xml")
	writeFile(t, first, string(exportEvents(t, "wevtutil", 0, kafkaFirst)))
	// Written outside the folder and renamed into it during the outage, so
	// the agent never sees it half written.
	r.secondStaged = filepath.Join(r.dir, "second.xml")
	writeFile(t, r.secondStaged, string(exportEvents(t, "wevtutil", kafkaFirst, kafkaSecond)))
	r.firstOrder = map[string]int{}
	eachEventID(t, first, func(id string) { r.firstOrder[id] = len(r.firstOrder) })
	r.want = expectIDs(t, first, r.secondStaged)
	if len(r.firstOrder) != kafkaFirst || len(r.want) != kafkaFirst+kafkaSecond {
		t.Fatalf("generated %d and %d distinct event ids, want %d and %d", len(r.firstOrder), len(r.want), kafkaFirst, kafkaFirst+kafkaSecond)
	}

	r.broker = startKafka(t, filepath.Join(r.dir, "kafka"))
	r.esAddr = freeAddr(t)         // Elasticsearch starts later, on this address.
	hecURL := "http://127.0.0.1:9" // validated, never used without the peer
	if bin, skip := hecPeerBin(t); bin != "" {
		r.peer = startHECPeer(t, bin, r.dir)
		r.hec.peer = r.peer
		hecURL = r.peer.url
	} else {
		r.peerSkip = skip
	}

	// Both serve their own metrics: the gateway to tell when it has
	// stopped taking records, the agent when it has read an export.
	r.gwMetrics = "http://" + freeAddr(t) + "/metrics"
	r.gwEnv = []string{
		"KAFKA_BROKERS=" + r.broker.addr,
		"ES_ENDPOINT=http://" + r.esAddr,
		"ES_API_KEY=" + esAPIKey,
		"SPLUNK_HEC_ENDPOINT=" + hecURL,
		"SPLUNK_HEC_TOKEN=e2e-token",
		"INTUNE_STATE_DIR=" + filepath.Join(r.dir, "gateway-state"),
	}
	r.gwArgs = []string{
		"--config", filepath.Join(root, "config", "gateway-kafka.yaml"),
		"--config", telemetryOverlay(t, filepath.Join(r.dir, "gateway-telemetry.yaml"), r.gwMetrics),
		"--set=extensions::health_check::endpoint=" + freeAddr(t),
	}
	if r.peer == nil {
		r.gwArgs = append(r.gwArgs, "--set=service::pipelines::logs::exporters=[intune_elasticsearch]")
	}
	r.agentMetrics = "http://" + freeAddr(t) + "/metrics"
	r.agentEnv = []string{
		"KAFKA_BROKERS=" + r.broker.addr,
		"INTUNE_STATE_DIR=" + filepath.Join(r.dir, "agent-state"),
		"INTUNE_EXPORTS=" + r.exports,
	}
	r.agentArgs = []string{
		"--config", filepath.Join(root, "config", "agent-kafka.yaml"),
		"--config", telemetryOverlay(t, filepath.Join(r.dir, "agent-telemetry.yaml"), r.agentMetrics),
	}
	return r
}

func (r *kafkaRun) startGateway(extra ...string) {
	r.gw = startProc(r.t, "gateway", r.dir, r.dir, r.gwEnv, r.collector, append(r.gwArgs, extra...)...)
}

func (r *kafkaRun) startAgent() {
	r.agent = startProc(r.t, "agent", r.dir, r.dir, r.agentEnv, r.collector, r.agentArgs...)
}

// accepted is how many log records the gateway's pipeline accepted from
// Kafka (its exporters' queues hold them); 0 until it serves metrics.
func (r *kafkaRun) accepted() int {
	if !serving(r.gwMetrics) {
		return 0
	}
	return int(sum(metrics(r.t, r.gwMetrics), "otelcol_receiver_accepted_log_records"))
}

// emitted is how many events the agent's receiver handed to its queue
// since the agent started.
func (r *kafkaRun) emitted() int {
	return int(sum(metrics(r.t, r.agentMetrics), "otelcol_intune_receiver_events_emitted"))
}

// sent is how many log records the agent's Kafka exporter sent since the
// agent started.
func (r *kafkaRun) sent() int {
	return int(sum(metrics(r.t, r.agentMetrics), `otelcol_exporter_sent_log_records{exporter="kafka"}`))
}

// killGateway delivers the first export while the gateway is killed
// twice: first with Elasticsearch down and its Elasticsearch queue cut to
// 2,000 records, so that it is inside the pipeline call for a Kafka message
// it cannot queue (a message that must not be marked consumed), then
// halfway through once Elasticsearch is up.
func (r *kafkaRun) killGateway() {
	t := r.t
	start := time.Now()
	r.startGateway("--set=exporters::intune_elasticsearch::sending_queue::queue_size=2000")
	r.startAgent()
	// Once the whole export is in Kafka, only the full queue can hold the
	// gateway back. Settled for 3 s, longer than the receiver's 1 s
	// autocommit: a mark made for the blocked message is committed by then.
	waitFor(t, 2*time.Minute, "the agent to send the first export to Kafka", func() bool {
		r.agent.alive()
		return serving(r.agentMetrics) && r.sent() >= kafkaFirst
	})
	held := waitSettled(t, 2*time.Minute, 3*time.Second, "the gateway to stop taking records while Elasticsearch is down", 1, func() int {
		r.gw.alive()
		r.agent.alive()
		return r.accepted()
	})
	if held >= kafkaFirst {
		t.Fatalf("the gateway's queues took all %d records; the test proves nothing", held)
	}
	r.gw.kill()
	t.Logf("gateway SIGKILLed after %s, blocked on its full queue with %d records accepted; %d Kafka messages in the topic",
		time.Since(start).Round(time.Millisecond), held, r.broker.messageCount())

	r.es = startES(t, r.esbulk, r.dir, r.esAddr, "-api-key", esAPIKey, "-discard-sources")
	r.startGateway()
	waitFor(t, 2*time.Minute, "half of the first export to be stored", func() bool {
		r.gw.alive()
		return r.es.stats(t).Created >= kafkaFirst/2
	})
	r.gw.kill()
	atKill := r.es.stats(t).Created
	t.Logf("gateway SIGKILLed after %s with %d documents stored", time.Since(start).Round(time.Millisecond), atKill)
	if atKill >= kafkaFirst {
		t.Fatalf("every document was stored before the kill; the test proves nothing")
	}
	restart := time.Now()
	r.startGateway()
	waitSettled(t, 3*time.Minute, 3*time.Second, "documents of the first export stored", kafkaFirst, func() int {
		r.gw.alive()
		return int(r.es.stats(t).Created)
	})
	t.Logf("first export: all %d documents stored %s after the gateway's last restart, %s after the start",
		kafkaFirst, time.Since(restart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// brokerOutage stops the broker; the agent reads the second export into
// its persistent queue, finds Kafka unreachable, is killed with SIGKILL
// and starts again; then a new broker starts with the old one's data, and
// everything is delivered.
func (r *kafkaRun) brokerOutage() {
	t := r.t
	total := len(r.want)
	r.broker.stop()
	down := time.Now()
	agentLogAt, gwLogAt := len(r.agent.log()), len(r.gw.log())
	storedBefore := r.es.stats(t).Created
	if err := os.Rename(r.secondStaged, filepath.Join(r.exports, "second.xml")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "the agent to accept the second export while Kafka is down", func() bool {
		r.agent.alive()
		return r.emitted() >= total
	})
	// The batch being sent when the broker went away may have been
	// written: the idempotent producer (required_acks: all) holds it until
	// Kafka answers, so what the agent reports is the broker it cannot
	// reach, not a failed export.
	waitFor(t, 2*time.Minute, "the agent and the gateway to report that they cannot reach Kafka", func() bool {
		r.agent.alive()
		r.gw.alive()
		return strings.Contains(r.agent.log()[agentLogAt:], "unable to open connection to broker") &&
			strings.Contains(r.gw.log()[gwLogAt:], "unable to open connection to broker")
	})
	r.agent.kill()
	r.startAgent()
	waitFor(t, time.Minute, "the restarted agent to serve its metrics", func() bool {
		r.agent.alive()
		return serving(r.agentMetrics)
	})
	if n := r.es.stats(t).Created; n != storedBefore {
		t.Errorf("%d documents were stored while Kafka was down", n-storedBefore)
	}
	r.broker.start()
	t.Logf("Kafka down for %s; the agent read %d events meanwhile, was killed and restarted", time.Since(down).Round(time.Millisecond), kafkaSecond)
	up := time.Now()
	waitSettled(t, 3*time.Minute, 3*time.Second, "documents stored after Kafka came back", total, func() int {
		r.gw.alive()
		r.agent.alive()
		return int(r.es.stats(t).Created)
	})
	t.Logf("all %d documents stored %s after Kafka came back", total, time.Since(up).Round(time.Millisecond))
	// The restarted agent resumes from its checkpoints. A batch the queue
	// took just before the kill, whose checkpoint was not yet written, is
	// read again (at least once); more would mean the checkpoints did not
	// move while Kafka was down.
	if m := r.emitted(); m > receiverBatch {
		t.Errorf("the restarted agent read %d events again; its checkpoints should have moved while Kafka was down", m)
	} else if m > 0 {
		t.Logf("the restarted agent read %d events again (taken by the queue just before the kill, checkpoint not yet written)", m)
	}
	if r.peer != nil {
		waitSettledEvery(t, 3*time.Minute, 4*time.Second, time.Second, "events at the HEC peer", total, func() int {
			r.gw.alive()
			r.hec.update(t)
			return len(r.hec.ids)
		})
	}
}

// checkTopic reads the whole topic back: one agent host means one
// partition and one key, and the first export, read while nothing failed,
// is in the order of the file (repeats aside). The second export was in
// the agent's queue when it was killed; the batch it was sending is queued
// again behind the rest on restart, so its order is not checked.
func (r *kafkaRun) checkTopic(t *testing.T) {
	msgs := r.broker.messages(t)
	parts := map[int32]int{}
	keys := map[string]bool{}
	events := 0
	for _, m := range msgs {
		parts[m.partition]++
		keys[string(m.key)] = true
		events += len(m.ids)
	}
	t.Logf("topic: %d messages, %d events (%d repeats), %.0f bytes per event as stored (zstd)",
		len(msgs), events, events-len(r.want), float64(r.broker.bytes())/float64(events))
	if len(parts) != 1 || len(keys) != 1 || keys[""] {
		t.Errorf("messages per partition %v, %d distinct keys; want one partition and one non-empty key for the one agent host", parts, len(keys))
	}
	seen := map[string]bool{}
	last := -1
	for _, m := range msgs {
		for _, id := range m.ids {
			pos, ok := r.firstOrder[id]
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			if pos < last {
				t.Fatalf("partition %d offset %d: event %d of the first export after event %d", m.partition, m.offset, pos, last)
			}
			last = pos
		}
	}
	if len(seen) != kafkaFirst {
		t.Errorf("%d of the first export's %d events are in the topic", len(seen), kafkaFirst)
	}
}

// kafkaBroker is an in-process Kafka-protocol broker (kfake) on a fixed
// address that keeps its log and the consumer groups' committed offsets in
// a directory: stopped and started again, it comes back with its data, as
// a real broker restarts.
type kafkaBroker struct {
	t    *testing.T
	addr string
	port int
	dir  string
	c    *kfake.Cluster
}

func startKafka(t *testing.T, dir string) *kafkaBroker {
	t.Helper()
	addr := freeAddr(t)
	_, p, _ := net.SplitHostPort(addr)
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	b := &kafkaBroker{t: t, addr: addr, port: port, dir: dir}
	b.start()
	t.Cleanup(func() {
		if b.c != nil {
			b.c.Close()
		}
	})
	return b
}

func (b *kafkaBroker) start() {
	b.t.Helper()
	if b.c != nil {
		b.t.Fatal("the broker is already running")
	}
	c, err := kfake.NewCluster(
		kfake.Ports(b.port),
		kfake.DataDir(b.dir),
		// Created on the first start only; a restart loads the topic.
		kfake.SeedTopics(kafkaPartitions, kafkaTopic),
	)
	if err != nil {
		b.t.Fatalf("starting the Kafka broker on %s: %v", b.addr, err)
	}
	b.c = c
}

// stop closes the listener and every connection, and saves the data.
func (b *kafkaBroker) stop() {
	b.t.Helper()
	if b.c == nil {
		b.t.Fatal("the broker is not running")
	}
	b.c.Close()
	b.c = nil
}

// messageCount is the number of messages in the topic.
func (b *kafkaBroker) messageCount() int64 {
	var n int64
	for _, pi := range b.c.PartitionInfos(kafkaTopic) {
		n += pi.HighWatermark - pi.LogStartOffset
	}
	return n
}

// bytes is the size of the topic's record batches as stored.
func (b *kafkaBroker) bytes() int64 {
	var n int64
	for _, pi := range b.c.PartitionInfos(kafkaTopic) {
		n += pi.NumBytes
	}
	return n
}

// kafkaMessage is one message of the topic with the event.id of each log
// record in it.
type kafkaMessage struct {
	partition int32
	offset    int64
	key       []byte
	ids       []string
}

// messages reads the whole topic, each partition in offset order.
func (b *kafkaBroker) messages(t *testing.T) []kafkaMessage {
	t.Helper()
	want := b.messageCount()
	starts := map[int32]kgo.Offset{}
	for p := int32(0); p < kafkaPartitions; p++ {
		starts[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{kafkaTopic: starts}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []kafkaMessage
	var um plog.ProtoUnmarshaler
	for int64(len(out)) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of the topic's %d messages in a minute", len(out), want)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("reading %s partition %d: %v", topic, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			ld, err := um.UnmarshalLogs(r.Value)
			if err != nil {
				t.Fatalf("partition %d offset %d is not OTLP protobuf: %v", r.Partition, r.Offset, err)
			}
			m := kafkaMessage{partition: r.Partition, offset: r.Offset, key: r.Key}
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						id, _ := lr.Attributes().Get("event.id")
						m.ids = append(m.ids, id.Str())
					}
				}
			}
			out = append(out, m)
		})
	}
	return out
}

// telemetryOverlay writes a config file that serves the collector's own
// metrics for Prometheus at url (http://HOST:PORT/metrics), to be given
// after the config under test with a second --config.
func telemetryOverlay(t *testing.T, path, url string) string {
	t.Helper()
	hostPort := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics")
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, fmt.Sprintf(`service:
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: %s
                port: %s
`, host, port))
	return path
}

// serving reports whether url answers 200 OK.
func serving(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
