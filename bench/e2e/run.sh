#!/usr/bin/env bash
# End-to-end throughput of the built otelcol-intune collector: a generated
# wevtutil export of N events (default 200,000) read by the intune_connector
# receiver and written by the intune_elasticsearch exporter into the bulk
# test server (documents kept by _id only, JSON not re-validated, so the
# server costs little). Reports events/s (from the collector's start to the
# last document stored), the collector's CPU time per event (utime+stime
# from /proc/PID/stat), its peak RSS (VmHWM) and the peak of its anonymous
# part (RssAnon, sampled every 50 ms), and the idle RSS of the same
# configuration with nothing to read (IDLE=0 skips it).
#
#   bench/e2e/run.sh                 # 200k events, the intune collector only
#   N=50000 bench/e2e/run.sh
#   STOCK=1 bench/e2e/run.sh         # also the stock contrib stack, as a ratio
#   EXPORTER=hec bench/e2e/run.sh    # intune_splunk_hec into a HEC test server
#
# INTUNE_ARGS adds flags to the otelcol-intune command line, e.g. to try
# exporter settings:
#   INTUNE_ARGS='--set=exporters::intune_elasticsearch::sending_queue::batch::max_size=2000'
#
# OTELCOL_BIN picks a collector binary (default bin/otelcol-intune, built
# with `make build` when missing); LABEL names its row (default
# otelcol-intune). STOCK_ONLY=1 skips otelcol-intune. bench/e2e/compare.sh
# runs this script in interleaved rounds and prints medians. Everything else the run needs is built
# or generated under bench/e2e/build/ (ignored by git). Linux only (/proc).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
GO=${GO:-go}
N=${N:-200000}
work=bench/e2e/build
mkdir -p "$work"

bin=${OTELCOL_BIN:-bin/otelcol-intune}
if [ "${STOCK_ONLY:-0}" != 1 ] && [ ! -x "$bin" ]; then
  echo "building $bin"
  $GO build -trimpath -o "$bin" ./cmd/otelcol-intune
fi
EXPORTER=${EXPORTER:-es}
case $EXPORTER in
es | hec) ;;
*) echo "EXPORTER must be es or hec, not $EXPORTER" >&2; exit 2 ;;
esac
if [ ! -x "$work/esbulkserver" ] || [ -n "$(find internal/testsupport/esbulktest -newer "$work/esbulkserver" -name '*.go' | head -1)" ]; then
  $GO build -trimpath -o "$work/esbulkserver" ./internal/tools/esbulkserver
fi
if [ ! -x "$work/hecserver" ] || [ -n "$(find internal/testsupport/hectest internal/tools/hecserver -newer "$work/hecserver" -name '*.go' | head -1)" ]; then
  $GO build -trimpath -o "$work/hecserver" ./internal/tools/hecserver
fi
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
url=
sink=
trap cleanup EXIT

# start_es starts the bulk test server and sets url to its base URL. It
# must not run in a subshell, so that cleanup knows its PID. With
# EXPORTER=hec (and not for the stock stack, which has no HEC path here) it
# starts the HEC test server instead, keeping only the count of events.
start_es() {
  local log=$1
  sink=${2:-$EXPORTER}
  if [ "$sink" = hec ]; then
    "$work/hecserver" -count-only >"$log" 2>&1 &
  else
    "$work/esbulkserver" -addr 127.0.0.1:0 -discard-sources -trust-sources >"$log" 2>&1 &
  fi
  pids+=($!)
  for _ in $(seq 1 100); do
    if grep -q 'listening on' "$log"; then
      url=$(sed -n 's/^listening on //p' "$log" | head -1)
      return
    fi
    sleep 0.1
  done
  echo "bulk test server did not start: $(cat "$log")" >&2
  exit 1
}

# created URL: the documents (events) the test server started last holds.
created() {
  if [ "$sink" = hec ]; then
    curl -sf "$1/_hectest/stats" | sed -n 's/.*"accepted":\([0-9]*\).*/\1/p'
  else
    curl -sf "$1/_esbulktest/stats" | sed -n 's/.*"created":\([0-9]*\).*/\1/p'
  fi
}

# idle_rss NAME PID: VmRSS once the collector has started and settled.
idle_rss() {
  local name=$1 pid=$2
  sleep "${IDLE_WAIT:-3}"
  if kill -0 "$pid" 2>/dev/null; then
    awk -v name="$name" '/^VmRSS:/{printf "%-16s idle RSS %6.1f MiB (no input, %ss after start)\n", name, $2 / 1024, ENVIRON["IDLE_WAIT"] ? ENVIRON["IDLE_WAIT"] : 3
      printf "%s-idle %f\n", name, $2 / 1024 > "/dev/stderr"}' "/proc/$pid/status" 2>>"$work/idle"
  fi
}

# measure NAME URL PID: waits for N documents, then prints the figures.
measure() {
  local name=$1 url=$2 pid=$3 start=$4 n=0 anon=0 a
  # Ten minutes, or more for big inputs on a busy machine.
  local deadline=$((SECONDS + 600 + N / 1000))
  while :; do
    # The kernel keeps a peak only of the whole RSS (VmHWM), most of which
    # at idle is the binary's pages; the anonymous part is sampled here.
    a=$(awk '/^RssAnon:/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${a:-0}" -gt "$anon" ] && anon=$a
    n=$(created "$url" || echo 0)
    [ "${n:-0}" -ge "$N" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name: the collector exited early; see its log in $work/" >&2
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "$name: only $n of $N documents after $((600 + N / 1000)) s" >&2
      exit 1
    fi
    sleep 0.05
  done
  local end
  end=$(date +%s.%N)
  # Fields 14 and 15 of /proc/PID/stat (after the command name in
  # parentheses) are user and system time in clock ticks.
  local ticks
  ticks=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
  local hwm
  hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$pid/status")
  awk -v name="$name" -v n="$N" -v s="$start" -v e="$end" -v t="$ticks" -v tck="$tck" -v hwm="$hwm" -v anon="$anon" 'BEGIN {
    el = e - s
    printf "%-16s %8d events  %7.2f s  %9.0f events/s  %6.1f CPU-us/event  peak RSS %6.1f MiB (anonymous %5.1f)\n",
      name, n, el, n / el, t / tck * 1e6 / n, hwm / 1024, anon / 1024
    printf "%s %f %f %f %f\n", name, n / el, t / tck * 1e6 / n, hwm / 1024, anon / 1024 > "/dev/stderr"
  }' 2>>"$work/rates"
}

: >"$work/rates"
: >"$work/idle"
echo "input: $input ($N events, $(du -m "$input" | cut -f1) MiB); $(nproc) CPUs"

# --- otelcol-intune ---------------------------------------------------------
# intune_config INCLUDE writes the collector's configuration for this run.
intune_config() {
  cat >"$run/config.yaml" <<EOF
extensions:
  file_storage:
    directory: $root/$run/state
    create_directory: true
receivers:
  intune_connector:
    include: ["$1"]
    start_at: beginning
    storage: file_storage
exporters:
$(exporter_config)
service:
  extensions: [file_storage]
  pipelines:
    logs:
      receivers: [intune_connector]
      exporters: [$exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
EOF
}

exporter=intune_elasticsearch
[ "$EXPORTER" = hec ] && exporter=intune_splunk_hec
exporter_config() {
  if [ "$EXPORTER" = hec ]; then
    printf '  intune_splunk_hec:\n    endpoint: "%s"\n    token: 00000000-0000-0000-0000-000000000000\n' "$url"
  else
    printf '  intune_elasticsearch:\n    endpoints: ["%s"]\n' "$url"
  fi
}

label=${LABEL:-otelcol-intune}
if [ "${STOCK_ONLY:-0}" != 1 ]; then
  run=$(mktemp -d "$work/run.XXXXXX")
  start_es "$run/esbulkserver.log"
  if [ "${IDLE:-1}" = 1 ]; then
    # The same configuration with nothing to read: the idle footprint.
    intune_config "$root/$run/no-input/*.xml"
    # shellcheck disable=SC2086 # INTUNE_ARGS is a list of --set=... flags.
    "$bin" --config "$run/config.yaml" ${INTUNE_ARGS:-} >"$work/otelcol-intune-idle.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    idle_rss "$label" "$pid"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$run/state"
  fi
  intune_config "$root/$input"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086 # INTUNE_ARGS is a list of --set=... flags.
  "$bin" --config "$run/config.yaml" ${INTUNE_ARGS:-} >"$work/otelcol-intune.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  measure "$label" "$url" "$pid" "$start"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$run"
fi

# --- stock contrib stack (optional) -----------------------------------------
if [ "${STOCK:-0}" = 1 ]; then
  if ! bench/e2e/stock/build.sh >"$work/stock-build.log" 2>&1; then
    echo "stock contrib collector: could not be built here; see $work/stock-build.log:"
    tail -5 "$work/stock-build.log" | sed 's/^/  /'
    exit 0
  fi
  run=$(mktemp -d "$work/run.XXXXXX")
  start_es "$run/esbulkserver.log" es
  $GO run ./bench/e2e/stock/ottlgen >"$run/transform.yaml"
  sed -e "s#@INPUT@#$root/$input#" -e "s#@URL@#$url#" -e "s#@STATE@#$root/$run/state#" \
    bench/e2e/stock/config.yaml >"$run/config.yaml"
  mkdir -p "$run/state"
  start=$(date +%s.%N)
  "$work/stock/otelcol-stock" --config "$run/config.yaml" --config "$run/transform.yaml" >"$work/stock.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  measure stock-contrib "$url" "$pid" "$start"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$run"
  awk '{r[$1] = $2; c[$1] = $3} END { if (r["stock-contrib"] > 0 && c[label] > 0)
    printf "ratio: %s handles %.1fx the events/s of the stock contrib stack, using 1/%.1f of its CPU time per event\n",
      label, r[label] / r["stock-contrib"], c["stock-contrib"] / c[label] }' label="$label" "$work/rates"
fi
