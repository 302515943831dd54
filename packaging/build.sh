#!/usr/bin/env bash
# make package: every artefact admins install, for the version in
# builder-config.yaml (dist::version), into one folder (default dist/):
#
#   otelcol-intune_V_windows_amd64.msi       Windows Installer package (wixl)
#   otelcol-intune_V_windows_amd64.zip       the same files, no installer
#   otelcol-intune_V-1_{amd64,arm64}.deb     Debian / Ubuntu (nfpm)
#   otelcol-intune-V-1.{x86_64,aarch64}.rpm  RHEL / SUSE (nfpm)
#   {otelcol-intune,intunectl}_V_OS_ARCH.sbom.cdx.json  CycloneDX SBOM per binary
#   SHA256SUMS
#
# Reproducible: the same commit gives the same bytes. Binaries are built with
# -trimpath and without VCS stamps; every file time in the packages is
# SOURCE_DATE_EPOCH (default: the time of the last commit); the MSI's codes
# are derived from the version and its contents. packaging/check.sh builds a
# second time and compares.
#
# Needs Go, and on Debian: apt-get install wixl msitools faketime zip
# Environment: PACKAGE_OUT (output folder), SOURCE_DATE_EPOCH.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

need() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "package: missing ${missing[*]}; on Debian or Ubuntu: apt-get install wixl msitools faketime zip" >&2
    exit 1
  fi
}
need go wixl msibuild faketime zip sha256sum

# The one place the version comes from; the collector reports it because ocb
# generated cmd/otelcol-intune from the same file.
version=$(awk '/^dist:/ {d=1; next} /^[^ #]/ {d=0} d && $1 == "version:" {print $2}' builder-config.yaml)
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "package: builder-config.yaml dist::version is \"$version\"; packages need MAJOR.MINOR.PATCH (Windows Installer compares only numbers)" >&2
  exit 1
fi
if ! grep -q "Version: *\"$version\"" cmd/otelcol-intune/main.go; then
  echo "package: cmd/otelcol-intune does not report version $version; run make dist after changing builder-config.yaml" >&2
  exit 1
fi

out=${PACKAGE_OUT:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$root/.build/package
rm -rf "$work" && mkdir -p "$work"
find "$out" -maxdepth 1 -type f -name 'otelcol-intune*' -delete
find "$out" -maxdepth 1 -type f \( -name 'intunectl*' -o -name SHA256SUMS \) -delete

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}
export TZ=UTC LC_ALL=C
stamp=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')

# uuid NAME: a name-based UUID (version 5 layout over SHA-256), so that the
# MSI's product, package and component codes are the same on every build.
uuid() {
  local h
  h=$(printf '%s' "$1" | sha256sum | cut -c1-32 | tr a-f A-F)
  printf '%s-%s-5%s-%X%s-%s' "${h:0:8}" "${h:8:4}" "${h:13:3}" $(( (16#${h:16:1} & 3) | 8 )) "${h:17:3}" "${h:20:12}"
}

echo "== tools (nfpm, cyclonedx-gomod; versions pinned in packaging/tools/go.mod)"
GOFLAGS=-buildvcs=false go build -C packaging/tools -o "$work/tools/" \
  github.com/goreleaser/nfpm/v2/cmd/nfpm github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod
nfpm=$work/tools/nfpm
cyclonedx=$work/tools/cyclonedx-gomod

platforms=(linux/amd64 linux/arm64 windows/amd64)
for p in "${platforms[@]}"; do
  goos=${p%/*} goarch=${p#*/}
  echo "== binaries $goos/$goarch"
  # One go build for both commands: -X sets intunectl's version and is
  # ignored by the collector, which has its version from ocb.
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch GOFLAGS= go build -trimpath -buildvcs=false \
    -ldflags="-s -w -X main.version=$version" -o "$work/bin/${goos}_$goarch/" ./cmd/otelcol-intune ./cmd/intunectl
done

host=$(go env GOOS)_$(go env GOARCH)
if [ -x "$work/bin/$host/otelcol-intune" ]; then
  reported=$("$work/bin/$host/otelcol-intune" --version)
  [ "$reported" = "otelcol-intune version $version" ] || { echo "package: the collector reports \"$reported\", expected version $version" >&2; exit 1; }
fi

echo "== SBOMs (CycloneDX, from the build information in each binary)"
for p in "${platforms[@]}"; do
  dir=$work/bin/${p/\//_}
  for cmd in otelcol-intune intunectl; do
    bin=$dir/$cmd
    [ -f "$bin" ] || bin=$bin.exe
    # A serial number derived from the binary: unique per artefact, the same
    # on every build of it.
    GOFLAGS= "$cyclonedx" bin -json -serial "$(uuid "sbom $(sha256sum <"$bin")" | tr A-F a-f)" \
      -notimestamp -version "v$version" -output "$out/${cmd}_${version}_${p/\//_}.sbom.cdx.json" "$bin"
  done
done

# The ready configs that ship: every one in config/ but the demo, which reads
# the repository's samples.
configs=()
for f in config/*.yaml; do
  [ "$(basename "$f")" = demo.yaml ] || configs+=("$(basename "$f")")
done

echo "== Linux packages (nfpm)"
mkdir -p "$work/linux/config"
for f in "${configs[@]}"; do cp "config/$f" "$work/linux/config/"; done
for arch in amd64 arm64; do
  for packager in deb rpm; do
    VERSION=$version ARCH=$arch BINDIR=$work/bin/linux_$arch CONFIGDIR=$work/linux/config \
      "$nfpm" package --config packaging/linux/nfpm.yaml --packager "$packager" --target "$out/" >/dev/null
  done
done

echo "== Windows zip"
zipdir=otelcol-intune_${version}_windows_amd64
mkdir -p "$work/zip/$zipdir/config"
cp "$work/bin/windows_amd64/otelcol-intune.exe" "$work/bin/windows_amd64/intunectl.exe" packaging/windows/README.txt "$work/zip/$zipdir/"
for f in "${configs[@]}"; do cp "config/$f" "$work/zip/$zipdir/config/"; done
find "$work/zip" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
chmod 0755 "$work/zip/$zipdir/"*.exe
find "$work/zip" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$work/zip" && find "$zipdir" | sort | zip -X -D -q "$out/$zipdir.zip" -@)

echo "== Windows Installer package (wixl)"
msi=$work/msi
mkdir -p "$msi/config"
cp "$work/bin/windows_amd64/otelcol-intune.exe" "$work/bin/windows_amd64/intunectl.exe" packaging/windows/README.txt \
  packaging/windows/otelcol-intune.wxs packaging/windows/start-sequence.wxi "$msi/"
for f in "${configs[@]}"; do cp "config/$f" "$msi/config/"; done
packaging/windows/gen-wxi.sh packaging/windows/settings.tsv "$msi" "${configs[@]}"
find "$msi" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

product_code=$(uuid "otelcol-intune product $version")
# The package code identifies these exact bytes: derived from everything that
# goes into them.
package_code=$(cd "$msi" && find . -type f | sort | xargs sha256sum | cat - "$root/packaging/windows/post-build.sql" | sha256sum)
package_code=$(uuid "otelcol-intune package $version $package_code")
environment=$(cat "$msi/service-environment.txt")

# wixl and msibuild write the current time into the summary information;
# faketime holds the clock at SOURCE_DATE_EPOCH.
(cd "$msi" && faketime -f "$stamp" wixl --arch x64 -I . \
  -D Version="$version" -D ProductCode="$product_code" -D ServiceEnvironment="$environment" \
  -o otelcol-intune.msi otelcol-intune.wxs)
queries=()
while IFS= read -r line; do
  case $line in ''|--*) continue ;; esac
  queries+=(-q "$line")
done < <(cat packaging/windows/post-build.sql "$msi/post-build.generated.sql")
faketime -f "$stamp" msibuild "$msi/otelcol-intune.msi" "${queries[@]}"
faketime -f "$stamp" msibuild "$msi/otelcol-intune.msi" \
  -s "otelcol-intune $version" "otelcol-intune" "x64;1033" "{$package_code}"
cp "$msi/otelcol-intune.msi" "$out/otelcol-intune_${version}_windows_amd64.msi"

echo "== checksums"
(cd "$out" && find . -maxdepth 1 -type f \( -name 'otelcol-intune*' -o -name 'intunectl*' \) -printf '%f\n' | sort | xargs sha256sum >SHA256SUMS)
echo "packages for $version in $out:"
(cd "$out" && ls -l --time-style=+ | sed 1d | awk '{print "  " $5 "\t" $NF}')
