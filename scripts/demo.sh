#!/usr/bin/env bash
# The main job on the bundled samples: runs otelcol-intune with
# config/demo.yaml until every sample has been read, stops it, and shows
# what came out. DEMO_FOLLOW=1 keeps the collector running instead (Ctrl-C
# to stop); DEMO_KEEP=1 keeps the previous run's checkpoints, so only what is
# new is read.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${OTELCOL_BIN:-bin/otelcol-intune}
export DEMO_DIR=${DEMO_DIR:-.otelcol-intune-demo}
export DEMO_INPUT=${DEMO_INPUT:-testdata/samples}
[ "${DEMO_KEEP:-0}" = 1 ] || rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
ecs="$DEMO_DIR/records.ecs.jsonl"
hec="$DEMO_DIR/records.hec.jsonl"
log="$DEMO_DIR/collector.log"

echo "otelcol-intune demo: reading every export in $DEMO_INPUT/ (EVTX, XML, JSON; both connector generations)"
if [ "${DEMO_FOLLOW:-0}" = 1 ]; then
  echo "Records go to $ecs (ECS) and $hec (Splunk HEC). Ctrl-C to stop."
  exec "$bin" --config config/demo.yaml
fi

"$bin" --config config/demo.yaml >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT

# Done when the output has stopped growing for a few polls of the receiver.
last=-1 still=0
for _ in $(seq 1 120); do
  sleep 1
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "The collector stopped early; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  n=$( (cat "$ecs" 2>/dev/null || true) | wc -l)
  if [ "$n" -gt 0 ] && [ "$n" -eq "$last" ]; then
    still=$((still + 1))
    [ "$still" -ge 4 ] && break
  else
    still=0
  fi
  last=$n
done
kill -TERM "$pid"
wait "$pid" || true
trap - EXIT

n=$(wc -l <"$ecs")
echo
echo "Enriched $n events. Look at:"
echo "  $ecs   the Elasticsearch documents (ECS), one per line"
echo "  $hec   the Splunk HEC events with CIM fields"
echo "  $log        the collector's own log (damaged input is reported there)"
echo
echo "For example:"
echo "  grep -m1 '\"outcome\":\"failure\"' $ecs | python3 -m json.tool"
echo "  go run ./cmd/intunectl summarize $DEMO_INPUT/*      # the same events, summarised"
echo "  go run ./cmd/intunectl explain 0x00000400"
echo
echo "Failures by event and diagnostic code:"
python3 - "$ecs" <<'PY' 2>/dev/null || grep -o '"action":"[^"]*"' "$ecs" | sort | uniq -c | sort -rn | head
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    ev = d.get("event", {})
    if ev.get("outcome") == "failure":
        code = d.get("intune", {}).get("diagnostic", {}).get("code", "")
        c[(ev.get("action") or "event " + ev.get("code", "?"), code)] += 1
for (name, code), n in c.most_common(10):
    print(f"  {n:6d}  {name}" + (f" code {code}" if code else ""))
PY
