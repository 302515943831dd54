#!/usr/bin/env bash
# Moves every OpenTelemetry Collector module of this repository to one
# release: core (v0.x modules), core stable (v1.x modules) and contrib.
#
#   scripts/bump-collector.sh 0.166.0 1.72.0      # contrib follows core
#   scripts/bump-collector.sh 0.166.0 1.72.0 0.166.1
#
# It rewrites go.mod (go get), builder-config.yaml and the ocb version in the
# Makefile, regenerates cmd/otelcol-intune with ocb and builds everything for
# Linux and Windows. The HEC test peer (test/hecpeer) and the stock benchmark
# stack (bench/e2e/stock) are separate builds pinned to what the module proxy
# serves for their contrib components; they are not touched.
#
# After it: go test -race ./...; make validate; read the release notes of
# core and contrib between the two versions for deprecations
# (staticcheck -checks SA1019 ./... lists the calls that use them).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
core=${1#v} stable=${2#v} contrib=${3:-$1}
contrib=${contrib#v}

# A module path is moved to the stable version when it has one (modules
# graduate from v0.x to v1.x between releases, confighttp did at 1.71.0),
# else to the core (or contrib) version.
export GOSUMDB=${GOSUMDB:-off} GOFLAGS=${GOFLAGS:-}
pick() {
  local path=$1 want=$2 versions
  versions=$(go list -m -versions "$path" 2>/dev/null || true)
  if [[ $path == go.opentelemetry.io/collector* ]] && grep -qw "v$stable" <<<"$versions"; then
    echo "$path@v$stable"
  elif grep -qw "v$want" <<<"$versions"; then
    echo "$path@v$want"
  else
    echo "warning: $path has no v$want or v$stable on the module proxy; left as it is" >&2
  fi
}

targets=()
while read -r path; do
  case $path in
    go.opentelemetry.io/collector*) t=$(pick "$path" "$core") ;;
    github.com/open-telemetry/opentelemetry-collector-contrib/*) t=$(pick "$path" "$contrib") ;;
    *) continue ;;
  esac
  [ -n "$t" ] && targets+=("$t")
done < <(go list -m -f '{{if not .Main}}{{.Path}}{{end}}' all 2>/dev/null | sort -u)

echo "== go get ${#targets[@]} modules"
go get "${targets[@]}"

echo "== builder-config.yaml and Makefile"
sed -i -E \
  -e "s#(go\.opentelemetry\.io/collector/confmap/provider/[a-z]+) v[0-9.]+#\1 v$stable#" \
  -e "s#(go\.opentelemetry\.io/collector/[a-z/]+) v0\.[0-9.]+#\1 v$core#" \
  -e "s#(opentelemetry-collector-contrib/[a-z/]+) v0\.[0-9.]+#\1 v$contrib#" \
  -e "s#ocb v0\.[0-9.]+#ocb v$core#" \
  builder-config.yaml
sed -i -E "s#^OCB_VERSION = .*#OCB_VERSION = $core#" Makefile

echo "== regenerate the distribution, tidy, build"
make dist
# -e: test-only imports of our dependencies' own tests (for example contrib
# encoding extensions) may be missing from the proxy; they are not built.
go mod tidy -e
go build ./...
GOOS=windows go build ./...
go vet ./...
echo "done: now run go test -race ./... and make validate, and update the versions named in README.md"
