#!/usr/bin/env bash
# Builds the HEC peer collector into test/hecpeer/build/hecpeer with ocb.
# Everything it generates (sources, go.mod, go.sum, the ocb binary) stays in
# build/, which git ignores, so the peer's dependencies never enter the
# repository's own module. Needs only Go and the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")"

OCB_VERSION=0.130.0
GO=${GO:-go}
out=build
mkdir -p "$out/tools"
start=$(date +%s)

if [ ! -x "$out/tools/builder" ] || ! "$out/tools/builder" version 2>/dev/null | grep -q "$OCB_VERSION"; then
  echo "hecpeer: installing ocb v$OCB_VERSION"
  GOBIN="$PWD/$out/tools" GOFLAGS=-buildvcs=false "$GO" install "go.opentelemetry.io/collector/cmd/builder@v$OCB_VERSION"
fi

# Several modules of the peer are missing from the checksum database that
# the proxy mirrors; the versions are pinned by the builder config and the
# generated go.sum records what was fetched.
export GOSUMDB=${GOSUMDB:-off}
export GOFLAGS=-buildvcs=false
echo "hecpeer: generating and compiling the peer collector"
"$out/tools/builder" --config builder-config.yaml
cp "$out/src/hecpeer" "$out/hecpeer"
echo "hecpeer: built $PWD/$out/hecpeer in $(( $(date +%s) - start ))s"
