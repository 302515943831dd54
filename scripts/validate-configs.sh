#!/usr/bin/env bash
# Every ready config in config/ must be accepted by the built distribution.
# Secrets and endpoints come from the environment in real use; placeholders
# stand in for them here.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${OTELCOL_BIN:-bin/otelcol-intune}
export ES_ENDPOINT=https://elasticsearch.example:9200 ES_API_KEY=placeholder
export SPLUNK_HEC_ENDPOINT=https://splunk.example:8088 SPLUNK_HEC_TOKEN=00000000-0000-0000-0000-000000000000
export GATEWAY_ENDPOINT=gateway.example:4317 GATEWAY_POOL=dns:///gateways.example:4317
export METRICS_OTLP_ENDPOINT=metrics.example:4317
export KAFKA_BROKERS=kafka1.example:9092,kafka2.example:9092
export INTUNE_STATE_DIR=${TMPDIR:-/tmp}/otelcol-intune-validate
status=0
check() {
  local name=$1; shift
  if out=$("$bin" validate "$@" 2>&1); then
    echo "ok      $name"
  else
    echo "FAILED  $name"
    echo "$out" | sed 's/^/        /'
    status=1
  fi
}
for f in config/*.yaml; do
  check "$f" --config "$f"
done
# Documented combinations of files that merge.
check "config/gateway.yaml + config/metrics.yaml" --config config/gateway.yaml --config config/metrics.yaml
exit $status
