#!/usr/bin/env bash
# Throughput of agent -> Kafka -> gateway with the shipped configs: N
# generated events (default 200,000) in a wevtutil export read by an agent
# running config/agent-kafka.yaml, produced to a one-node Kafka-protocol
# broker (internal/tools/kafkabroker, franz-go's kfake, data on disk),
# consumed by a gateway running config/gateway-kafka.yaml and written by its
# intune_elasticsearch exporter into the bulk test server. Reports, from the
# agent's start:
#   - when the agent has produced every event to Kafka;
#   - when the last document is stored (end to end events/s);
#   - CPU time per event and peak RSS of the agent and of the gateway.
#
#   bench/kafka/run.sh               # agent -> Kafka -> gateway
#   MODE=otlp bench/kafka/run.sh     # agent -> OTLP gRPC -> gateway (config/agent.yaml, config/gateway.yaml)
#   N=50000 bench/kafka/run.sh
#
# AGENT_ARGS and GATEWAY_ARGS add flags to either command line, e.g.
#   AGENT_ARGS='--set=exporters::kafka::producer::compression=lz4'
#
# The Splunk exporter is left out of the gateway's pipeline (the HEC peer
# would be the slowest part and measure itself). OTELCOL_BIN picks the
# collector (default bin/otelcol-intune, built when missing); the rest is
# built under bench/kafka/build/ (ignored by git). Linux only (/proc).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
GO=${GO:-go}
N=${N:-200000}
MODE=${MODE:-kafka}
work=bench/kafka/build
mkdir -p "$work"

bin=${OTELCOL_BIN:-bin/otelcol-intune}
if [ ! -x "$bin" ]; then
  echo "building $bin"
  $GO build -trimpath -o "$bin" ./cmd/otelcol-intune
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
$GO build -trimpath -o "$work/" ./internal/tools/esbulkserver ./internal/tools/kafkabroker
input=$work/events-$N.xml
if [ ! -s "$input" ]; then
  echo "generating $N events into $input"
  $GO run ./internal/tools/gensamples -n "$N" -export wevtutil -o "$input"
fi

tck=$(getconf CLK_TCK)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_line LOG PATTERN: waits until LOG has a line matching PATTERN and
# prints the part after it.
wait_line() {
  for _ in $(seq 1 300); do
    if grep -q "$2" "$1" 2>/dev/null; then
      sed -n "s/^$2//p" "$1" | head -1
      return
    fi
    sleep 0.1
  done
  echo "no '$2' in $1: $(tail -5 "$1")" >&2
  exit 1
}

# cpu PID: user+system CPU seconds; rss PID: peak RSS in MiB.
cpu() { sed 's/^.*) //' "/proc/$1/stat" | awk -v tck="$tck" '{printf "%.2f", ($12 + $13) / tck}'; }
rss() { awk '/^VmHWM:/{printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

run=$(mktemp -d "$work/run.XXXXXX")
mkdir -p "$run/exports"
ln -s "$root/$input" "$run/exports/events.xml"

"$work/esbulkserver" -addr 127.0.0.1:0 -discard-sources -trust-sources >"$run/esbulkserver.log" 2>&1 &
pids+=($!)
es=$(wait_line "$run/esbulkserver.log" "listening on ")

agent_metrics=$(freeport)
cat >"$run/agent-telemetry.yaml" <<YAML
service:
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: $agent_metrics
    logs:
      level: warn
YAML
common_env=(INTUNE_EXPORTS="$root/$run/exports" ES_ENDPOINT="$es" ES_API_KEY=unused
  SPLUNK_HEC_ENDPOINT=http://127.0.0.1:9 SPLUNK_HEC_TOKEN=unused)
gw_args=(--set=extensions::health_check::endpoint=127.0.0.1:$(freeport)
  "--set=service::pipelines::logs::exporters=[intune_elasticsearch]"
  --set=service::telemetry::metrics::level=none --set=service::telemetry::logs::level=warn)

case $MODE in
kafka)
  broker=127.0.0.1:$(freeport)
  "$work/kafkabroker" -addr "$broker" -data-dir "$run/kafka" -partitions 4 >"$run/kafkabroker.log" 2>&1 &
  pids+=($!)
  wait_line "$run/kafkabroker.log" "listening on " >/dev/null
  agent_config=config/agent-kafka.yaml gateway_config=config/gateway-kafka.yaml
  agent_exporter=kafka
  export_env=(KAFKA_BROKERS="$broker")
  ;;
otlp)
  port=$(freeport)
  agent_config=config/agent.yaml gateway_config=config/gateway.yaml
  agent_exporter=otlp/gateway
  export_env=(GATEWAY_ENDPOINT=127.0.0.1:$port GATEWAY_INSECURE=true)
  gw_args+=(--set=receivers::otlp::protocols::grpc::endpoint=127.0.0.1:$port)
  ;;
*)
  echo "MODE must be kafka or otlp" >&2
  exit 2
  ;;
esac

# shellcheck disable=SC2086 # GATEWAY_ARGS and AGENT_ARGS are lists of --set=... flags.
env "${common_env[@]}" "${export_env[@]}" INTUNE_STATE_DIR="$root/$run/gateway-state" \
  "$bin" --config "$gateway_config" "${gw_args[@]}" ${GATEWAY_ARGS:-} >"$run/gateway.log" 2>&1 &
gw=$!
pids+=("$gw")

echo "input: $input ($N events, $(du -m "$input" | cut -f1) MiB); mode $MODE; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
# shellcheck disable=SC2086
env "${common_env[@]}" "${export_env[@]}" INTUNE_STATE_DIR="$root/$run/agent-state" \
  "$bin" --config "$agent_config" --config "$run/agent-telemetry.yaml" ${AGENT_ARGS:-} >"$run/agent.log" 2>&1 &
agent=$!
pids+=("$agent")

since() { awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}'; }
sent=0 produced= deadline=$((SECONDS + 900))
while :; do
  for p in "$agent" "$gw"; do
    if ! kill -0 "$p" 2>/dev/null; then
      echo "a collector exited early; see $run/" >&2
      exit 1
    fi
  done
  if [ -z "$produced" ]; then
    sent=$(curl -sf "http://127.0.0.1:$agent_metrics/metrics" |
      awk -v e="exporter=\"$agent_exporter\"" '/^otelcol_exporter_sent_log_records/ && index($0, e) {s += $NF} END {printf "%d", s}' || echo 0)
    if [ "${sent:-0}" -ge "$N" ]; then
      produced=$(since)
      agent_cpu=$(cpu "$agent") agent_rss=$(rss "$agent")
    fi
  fi
  n=$(curl -sf "$es/_esbulktest/stats" | sed -n 's/.*"created":\([0-9]*\).*/\1/p' || echo 0)
  [ "${n:-0}" -ge "$N" ] && [ -n "$produced" ] && break
  if [ $SECONDS -ge $deadline ]; then
    echo "only $n of $N documents stored ($sent sent by the agent) after 15 minutes; see $run/" >&2
    exit 1
  fi
  sleep 0.05
done
total=$(since)
gw_cpu=$(cpu "$gw") gw_rss=$(rss "$gw")
awk -v n="$N" -v p="$produced" -v t="$total" -v ac="$agent_cpu" -v ar="$agent_rss" -v gc="$gw_cpu" -v gr="$gw_rss" -v mode="$MODE" 'BEGIN {
  printf "agent:      all %d events sent (%s) after %6.2f s  %8.0f events/s  %5.1f CPU-us/event  peak RSS %6.1f MiB\n", n, mode, p, n / p, ac * 1e6 / n, ar
  printf "end to end: all %d documents stored after %6.2f s  %8.0f events/s\n", n, t, n / t
  printf "gateway:    %5.1f CPU-us/event  peak RSS %6.1f MiB\n", gc * 1e6 / n, gr
}'
cleanup
pids=()
rm -rf "$run"
