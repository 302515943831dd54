#!/usr/bin/env bash
# Builds the stock contrib collector into bench/e2e/build/stock/otelcol-stock
# with ocb v0.130.0. Its sources, go.mod and go.sum stay under build/ (ignored
# by git), outside the repository's module. Needs Go and the module proxy.
set -euo pipefail
cd "$(dirname "$0")"
OCB_VERSION=0.130.0
GO=${GO:-go}
out=../build/stock
mkdir -p "$out/tools"
if [ ! -x "$out/tools/builder" ]; then
  GOBIN="$PWD/$out/tools" GOFLAGS=-buildvcs=false "$GO" install "go.opentelemetry.io/collector/cmd/builder@v$OCB_VERSION"
fi
if [ -x "$out/otelcol-stock" ] && [ "$out/otelcol-stock" -nt builder-config.yaml ]; then
  exit 0
fi
# Several contrib modules are missing from the checksum database the proxy
# mirrors; the versions are pinned above.
export GOSUMDB=${GOSUMDB:-off}
export GOFLAGS=-buildvcs=false
"$out/tools/builder" --config builder-config.yaml
cp "$out/src/otelcol-stock" "$out/otelcol-stock"
