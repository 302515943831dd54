#!/usr/bin/env bash
# Interleaved runs of bench/e2e/run.sh: each round runs every collector
# given (and, with STOCK=1, the stock contrib stack) once, one after the
# other, so that the machine's changing load falls on all of them alike.
# Prints the median and min-max of events/s, CPU-us/event, peak RSS, peak
# anonymous RSS and idle RSS per collector over ROUNDS rounds (default 3).
#
#   bench/e2e/compare.sh before=/tmp/otelcol-before after=bin/otelcol-intune
#   STOCK=1 ROUNDS=5 N=200000 bench/e2e/compare.sh intune=bin/otelcol-intune
#
# Each LABEL=BINARY names a collector binary; INTUNE_ARGS applies to all.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=bench/e2e/build
mkdir -p "$work"
rounds=${ROUNDS:-3}
all=$work/compare-rates
idle=$work/compare-idle
: >"$all"
: >"$idle"
[ $# -gt 0 ] || { echo "usage: $0 LABEL=BINARY [LABEL=BINARY...]" >&2; exit 2; }
for r in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    label=${spec%%=*} bin=${spec#*=}
    echo "round $r: $label ($bin)"
    LABEL=$label OTELCOL_BIN=$bin STOCK=0 bench/e2e/run.sh | sed 's/^/  /'
    cat "$work/rates" >>"$all"
    cat "$work/idle" >>"$idle"
  done
  if [ "${STOCK:-0}" = 1 ]; then
    echo "round $r: stock contrib stack"
    STOCK=1 STOCK_ONLY=1 bench/e2e/run.sh | sed 's/^/  /'
    cat "$work/rates" >>"$all"
  fi
done

# stats prints "median (min-max)" of the numbers on stdin.
stats() {
  sort -g | awk -v f="$1" '{v[NR] = $1} END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf f " (" f "-" f ")", m, v[1], v[NR] }'
}
echo
printf '%-16s %-28s %-22s %-22s %-22s %s\n' run events/s CPU-us/event "peak RSS MiB" "peak anon MiB" "idle RSS MiB"
for name in $(awk '{print $1}' "$all" | awk '!seen[$0]++'); do
  rate=$(awk -v n="$name" '$1 == n {print $2}' "$all" | stats '%.0f')
  cpu=$(awk -v n="$name" '$1 == n {print $3}' "$all" | stats '%.1f')
  rss=$(awk -v n="$name" '$1 == n {print $4}' "$all" | stats '%.1f')
  anon=$(awk -v n="$name" '$1 == n {print $5}' "$all" | stats '%.1f')
  idl=-
  if grep -q "^$name-idle " "$idle"; then
    idl=$(awk -v n="$name-idle" '$1 == n {print $2}' "$idle" | stats '%.1f')
  fi
  printf '%-16s %-28s %-22s %-22s %-22s %s\n' "$name" "$rate" "$cpu" "$rss" "$anon" "$idl"
done
