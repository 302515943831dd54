#!/usr/bin/env bash
# The contrib count connector on the sample exports, beside the
# intune_metrics connector on the same events. Usage: bench/metrics/countconnector/run.sh [go test flags]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -trimpath -o "$tmp/intunectl" ./cmd/intunectl)
"$tmp/intunectl" convert --to otlp-json "$root"/testdata/samples/* >"$tmp/samples.otlp.jsonl"
echo "contrib count connector v0.130.0:"
(cd "$here" && INTUNE_OTLP_JSON="$tmp/samples.otlp.jsonl" go test -run='^$' -bench=. -benchmem "$@" .)
echo "intune_metrics connector:"
(cd "$root" && go test -run='^$' -bench=. -benchmem "$@" ./bench/metrics/)
