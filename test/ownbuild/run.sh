#!/usr/bin/env bash
# Builds the README's "Adding our components to your own collector build"
# snippet with ocb, exactly as written except for the checkout path and the
# output folder, and runs the ready configs it claims to support through the
# resulting collector. Keeps the README snippet honest.
#
# The build reuses the Go build cache: the dependencies resolve to the
# versions in this repository's go.sum and ocb compiles as `make package`
# does for linux/amd64 (CGO_ENABLED=0, -trimpath), so after `make package`
# mostly the link step and our own packages are left.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=${OWNBUILD_DIR:-$root/.build/ownbuild}
rm -rf "$work" && mkdir -p "$work"

# The first yaml block after the marker in the README.
awk '/<!-- ocb-snippet/ {m=1; next} m && /^```yaml/ {p=1; next} p && /^```/ {exit} p {print}' README.md >"$work/snippet.yaml"
if ! grep -q 'intuneconnectorreceiver' "$work/snippet.yaml"; then
  echo "ownbuild: no ocb snippet found after the <!-- ocb-snippet --> marker in README.md" >&2
  exit 1
fi
grep -q '/path/to/otelcol-intune' "$work/snippet.yaml" || {
  echo "ownbuild: the README snippet no longer replaces the module with /path/to/otelcol-intune; update this script" >&2
  exit 1
}
sed -e "s#/path/to/otelcol-intune#$root#" -e "s#output_path: .*#output_path: $work/dist#" "$work/snippet.yaml" >"$work/builder-config.yaml"

ocb_version=$(sed -n 's/^OCB_VERSION = //p' Makefile)
echo "ownbuild: ocb v$ocb_version on the README snippet"
start=$(date +%s)
CGO_ENABLED=0 go run "go.opentelemetry.io/collector/cmd/builder@v$ocb_version" --config "$work/builder-config.yaml" >"$work/ocb.log" 2>&1 || {
  cat "$work/ocb.log"; echo "ownbuild: ocb failed on the README snippet" >&2; exit 1
}
echo "ownbuild: built in $(( $(date +%s) - start ))s"

bin=$(find "$work/dist" -maxdepth 1 -type f -perm -u+x | head -1)
[ -n "$bin" ] || { echo "ownbuild: ocb produced no binary in $work/dist" >&2; exit 1; }

# The configs the README says this build runs.
export ES_ENDPOINT=https://elasticsearch.example:9200 ES_API_KEY=placeholder
export SPLUNK_HEC_ENDPOINT=https://splunk.example:8088 SPLUNK_HEC_TOKEN=00000000-0000-0000-0000-000000000000
export GATEWAY_ENDPOINT=gateway.example:4317 GATEWAY_POOL=dns:///gateways.example:4317
export INTUNE_STATE_DIR=$work/state INTUNE_EXPORTS=$work/exports
export METRICS_OTLP_ENDPOINT=metrics.example:4317
status=0
# metrics.yaml is also run beside the gateway's config, as its comment says.
for f in agent agent-gateway-pool gateway elasticsearch splunk metrics gateway+metrics; do
  args=()
  for part in ${f//+/ }; do args+=(--config "config/$part.yaml"); done
  if out=$("$bin" validate "${args[@]}" 2>&1); then
    echo "ok      ${args[*]}"
  else
    echo "FAILED  ${args[*]}"; echo "$out" | sed 's/^/        /'; status=1
  fi
done
exit $status
