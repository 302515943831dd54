#!/usr/bin/env bash
# make package-check: checks what `make package` produced; CI runs it.
#
#   checksums     SHA256SUMS lists exactly the artefacts, and they verify
#   binaries      each package holds the binaries built for its platform
#                 (static, -trimpath, no VCS stamps), the same bytes in every
#                 package of a platform, reporting the version
#   SBOMs         every module compiled into a binary is in its SBOM at the
#                 version and checksum of go.sum; the collector core is there
#   MSI           tables and properties, read back with msitools
#   .rpm          contents, modes, owners, conffiles, scriptlets, digests
#   .deb          installed with dpkg (as root or with passwordless sudo):
#                 files, user, unit file, the installed binary accepts the
#                 installed config as the service user; then removed and
#                 purged. Skipped without root unless PACKAGE_INSTALL=required
#                 (CI), which makes a skip a failure.
#   reproducible  with --rebuild: a second `make package` gives the same bytes
#
# Nothing here installs the MSI: that needs Windows.
# Usage: packaging/check.sh [--rebuild]; PACKAGE_OUT as for build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ ! -f "${PACKAGE_OUT:-dist}/SHA256SUMS" ]; then
  echo "package-check: no packages in ${PACKAGE_OUT:-dist}/ (no SHA256SUMS); run make package first" >&2
  exit 1
fi
out=$(cd "${PACKAGE_OUT:-dist}" && pwd)
rebuild=no
[ "${1:-}" = --rebuild ] && rebuild=yes
export LC_ALL=C TZ=UTC

for tool in go jq msiinfo msiextract rpm rpm2cpio cpio dpkg-deb unzip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "package-check: missing $tool; on Debian: apt-get install jq msitools rpm rpm2cpio cpio unzip" >&2; exit 1; }
done

version=$(awk '/^dist:/ {d=1; next} /^[^ #]/ {d=0} d && $1 == "version:" {print $2}' builder-config.yaml)
work=$root/.build/package-check
rm -rf "$work" && mkdir -p "$work"

failures=0
# check DESCRIPTION COMMAND...: runs COMMAND, shows its output if it fails.
check() {
  local what=$1
  shift
  if "$@" >"$work/last.log" 2>&1; then
    echo "ok    $what"
  else
    echo "FAIL  $what"
    sed 's/^/      /' "$work/last.log" | head -40
    failures=$((failures + 1))
  fi
}
section() { printf '\n== %s\n' "$*"; }

msi=otelcol-intune_${version}_windows_amd64.msi
zip=otelcol-intune_${version}_windows_amd64.zip
deb_amd64=otelcol-intune_${version}-1_amd64.deb deb_arm64=otelcol-intune_${version}-1_arm64.deb
rpm_amd64=otelcol-intune-${version}-1.x86_64.rpm rpm_arm64=otelcol-intune-${version}-1.aarch64.rpm
platforms=(linux_amd64 linux_arm64 windows_amd64)
artefacts=("$msi" "$zip" "$deb_amd64" "$deb_arm64" "$rpm_amd64" "$rpm_arm64")
for p in "${platforms[@]}"; do
  for cmd in otelcol-intune intunectl; do artefacts+=("${cmd}_${version}_$p.sbom.cdx.json"); done
done
configs=()
for f in config/*.yaml; do [ "$(basename "$f")" = demo.yaml ] || configs+=("$(basename "$f")"); done

# ---------------------------------------------------------------------------
section "artefacts and checksums in $out"
check "SHA256SUMS lists exactly the artefacts" \
  diff <(printf '%s\n' "${artefacts[@]}" | sort) <(awk '{print $2}' "$out/SHA256SUMS" | sort)
check "sha256sum --check SHA256SUMS" sh -c "cd '$out' && sha256sum --check --strict --quiet SHA256SUMS"

# ---------------------------------------------------------------------------
section "binaries"
for f in "$deb_amd64" "$deb_arm64" "$rpm_amd64" "$rpm_arm64" "$zip" "$msi"; do
  mkdir -p "$work/x/$f"
  case $f in
    *.deb) dpkg-deb -x "$out/$f" "$work/x/$f" ;;
    *.rpm) (cd "$work/x/$f" && rpm2cpio "$out/$f" | cpio -idm --quiet) ;;
    *.zip) unzip -q "$out/$f" -d "$work/x/$f" ;;
    *.msi) (cd "$work/x/$f" && msiextract "$out/$f" >/dev/null) ;;
  esac
done
bin_in() { find "$work/x/$1" -type f -name "$2" | head -1; }

# setting BINARY KEY: a build setting recorded in the binary.
setting() { go version -m "$1" | awk -v k="$2" '$1 == "build" { i = index($2, "="); if (substr($2, 1, i - 1) == k) print substr($2, i + 1) }'; }
built_for() { # built_for BINARY GOOS GOARCH
  [ -f "$1" ] || { echo "no such binary: $1"; return 1; }
  local got="$(setting "$1" GOOS)/$(setting "$1" GOARCH) CGO_ENABLED=$(setting "$1" CGO_ENABLED) -trimpath=$(setting "$1" -trimpath)"
  [ "$got" = "$2/$3 CGO_ENABLED=0 -trimpath=true" ] || { echo "built as $got"; return 1; }
  ! go version -m "$1" | grep -q 'vcs\.' || { echo "VCS stamps in the binary"; return 1; }
}
for cmd in otelcol-intune intunectl; do
  check "$cmd in the amd64 .deb: linux/amd64, static, -trimpath" built_for "$(bin_in "$deb_amd64" "$cmd")" linux amd64
  check "$cmd in the arm64 .deb: linux/arm64, static, -trimpath" built_for "$(bin_in "$deb_arm64" "$cmd")" linux arm64
  check "$cmd.exe in the MSI: windows/amd64, static, -trimpath" built_for "$(bin_in "$msi" "$cmd.exe")" windows amd64
  check "$cmd: one amd64 binary in the .deb and the .rpm" cmp "$(bin_in "$deb_amd64" "$cmd")" "$(bin_in "$rpm_amd64" "$cmd")"
  check "$cmd: one arm64 binary in the .deb and the .rpm" cmp "$(bin_in "$deb_arm64" "$cmd")" "$(bin_in "$rpm_arm64" "$cmd")"
  check "$cmd.exe: one binary in the MSI and the zip" cmp "$(bin_in "$msi" "$cmd.exe")" "$(bin_in "$zip" "$cmd.exe")"
done
if [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" = linux/amd64 ]; then
  check "otelcol-intune --version reports $version" \
    test "$("$(bin_in "$deb_amd64" otelcol-intune)" --version)" = "otelcol-intune version $version"
  check "intunectl version reports $version" \
    test "$("$(bin_in "$deb_amd64" intunectl)" version)" = "intunectl version $version"
fi
zip_list() { unzip -Z1 "$out/$zip" | sort; }
check "zip: the binaries, README.txt and the ready configs in one folder" diff -u \
  <(for f in otelcol-intune.exe intunectl.exe README.txt "${configs[@]/#/config/}"; do echo "otelcol-intune_${version}_windows_amd64/$f"; done | sort) <(zip_list)

# ---------------------------------------------------------------------------
section "SBOMs"
# sbom_matches SBOM BINARY [core]: each module compiled into BINARY (its
# build information) is a component of SBOM with the version and SHA-256
# that go.sum holds; with core, the collector core modules are among them at
# the versions of go.mod.
sbom_matches() {
  local sbom=$1 bin=$2 core=$3 module ver sum hex bad=0
  jq -e '.bomFormat == "CycloneDX"' "$sbom" >/dev/null || { echo "not a CycloneDX document"; return 1; }
  jq -r '.components[] | [.name, .version, ((.hashes // [])[] | select(.alg == "SHA-256") | .content)] | @tsv' "$sbom" >"$work/sbom.tsv"
  go version -m "$bin" | awk '$1 == "dep" {print $2, $3, $4}' >"$work/deps.txt"
  [ -s "$work/deps.txt" ] || { echo "no modules in the binary's build information"; return 1; }
  while read -r module ver sum; do
    grep -qxF "$module $ver $sum" go.sum || { echo "$module $ver $sum: not in go.sum"; bad=1; }
    hex=$(printf '%s' "${sum#h1:}" | base64 -d | od -An -tx1 | tr -d ' \n')
    grep -qxF "$module	$ver	$hex" "$work/sbom.tsv" || { echo "$module $ver (SHA-256 $hex): not in the SBOM"; bad=1; }
  done <"$work/deps.txt"
  [ "$core" = core ] || return $bad
  for module in otelcol component pdata confmap consumer exporter/exporterhelper; do
    module=go.opentelemetry.io/collector/$module
    ver=$(go list -m -f '{{.Version}}' "$module")
    grep -q "^$module	$ver	" "$work/sbom.tsv" || { echo "collector core module $module $ver: not in the SBOM"; bad=1; }
  done
  return $bad
}
for p in "${platforms[@]}"; do
  for cmd in otelcol-intune intunectl; do
    case $p in
      linux_amd64) bin=$(bin_in "$deb_amd64" "$cmd") ;;
      linux_arm64) bin=$(bin_in "$deb_arm64" "$cmd") ;;
      windows_amd64) bin=$(bin_in "$msi" "$cmd.exe") ;;
    esac
    if [ "$cmd" = otelcol-intune ]; then
      check "${cmd}_${version}_$p.sbom.cdx.json: every module at its go.sum version and checksum, collector core among them" \
        sbom_matches "$out/${cmd}_${version}_$p.sbom.cdx.json" "$bin" core
    else
      check "${cmd}_${version}_$p.sbom.cdx.json: every module at its go.sum version and checksum" \
        sbom_matches "$out/${cmd}_${version}_$p.sbom.cdx.json" "$bin" -
    fi
  done
done

# ---------------------------------------------------------------------------
section "MSI: tables and properties"
# rows TABLE: its rows, tab-separated, without msiinfo's three header lines.
rows() { msiinfo export "$out/$msi" "$1" | tail -n +4 | tr -d '\r'; }
# has TABLE ROW...: each ROW (columns joined by tabs) is in TABLE.
has() {
  local table=$1 r
  shift
  rows "$table" >"$work/table.txt"
  for r in "$@"; do
    grep -qxF "$r" "$work/table.txt" || { echo "not in $table: $r"; echo "$table:"; cat "$work/table.txt"; return 1; }
  done
}
prop() { rows Property | awk -F'\t' -v p="$1" '$1 == p {print $2}'; }
t=$'\t'
# msi_id NAME: the identifier gen-wxi.sh makes of a file name.
msi_id() { printf '%s' "$1" | tr -c 'A-Za-z0-9' '_'; }

binary_files() {
  local f
  for f in otelcol-intune.exe intunectl.exe; do
    rows File | grep -qP "^[A-Za-z]+Exe\t(Service|Intunectl)\t\Q$f\E\t$(stat -c %s "$(bin_in "$msi" "$f")")\t" || { echo "no File row for $f with its size"; return 1; }
  done
}
check "File: otelcol-intune.exe (the service's component) and intunectl.exe, at their sizes" binary_files
for f in "${configs[@]}"; do
  check "File, Component: $f, reference copy in Program Files, the admin's in ProgramData (permanent, never overwritten)" sh -c "
    msiinfo export '$out/$msi' File | grep -qP '^ExampleFile_$(msi_id "$f")\tExample_$(msi_id "$f")\t$f\t' &&
    msiinfo export '$out/$msi' File | grep -qP '^ConfigFile_$(msi_id "$f")\tConfig_$(msi_id "$f")\t$f\t' &&
    msiinfo export '$out/$msi' Component | grep -qP '^Example_$(msi_id "$f")\t\{[0-9A-F-]{36}\}\tEXAMPLESDIR\t256\t\tExampleFile_$(msi_id "$f")\r?$' &&
    msiinfo export '$out/$msi' Component | grep -qP '^Config_$(msi_id "$f")\t\{[0-9A-F-]{36}\}\tDATADIR\t400\t\tConfigFile_$(msi_id "$f")\r?$'"
done
check "Directory: Program Files\\otelcol-intune, ProgramData\\otelcol-intune\\{state,exports}" has Directory \
  "INSTALLDIR${t}ProgramFiles64Folder${t}otelcol-intune" "EXAMPLESDIR${t}INSTALLDIR${t}config" \
  "DATADIR${t}CommonAppDataFolder${t}otelcol-intune" "STATEDIR${t}DATADIR${t}state" "EXPORTSDIR${t}DATADIR${t}exports"
check "Component: service binary, state and exports folders kept on uninstall (272), start under a condition" has Component \
  "Service${t}{BADB9616-3749-4ED4-8CBD-33BC79422351}${t}INSTALLDIR${t}256${t}${t}OtelcolIntuneExe" \
  "StateDir${t}{5CB5B6B0-CD8B-4F20-84FE-63AF6518661B}${t}STATEDIR${t}272${t}${t}" \
  "ExportsDir${t}{28D134C5-9482-44E5-8B76-A580FD1D44FA}${t}EXPORTSDIR${t}272${t}${t}" \
  "ServiceStart${t}{A5990D9C-23AD-44E5-B1A7-A82C59782503}${t}INSTALLDIR${t}260${t}START_SERVICE=\"1\"${t}$(rows Registry | awk -F'\t' '$4 == "StartedByInstaller" {print $1}')"
# ServiceType 16: own process; StartType 2: automatic; ErrorControl 1: normal.
check "ServiceInstall: otelcol-intune, own process, automatic start, account and config from properties" has ServiceInstall \
  "ServiceInstall${t}otelcol-intune${t}OpenTelemetry Collector for Intune Certificate Connector${t}16${t}2${t}1${t}${t}${t}[SERVICE_ACCOUNT]${t}[SERVICE_PASSWORD]${t}--config \"[DATADIR][CONFIG]\"${t}Service${t}$(rows ServiceInstall | cut -f13)"
# Events: 1 start on install; 2 + 32 stop on install and uninstall; 128 delete on uninstall.
check "ServiceControl: stopped on install and uninstall, deleted on uninstall, started on install" has ServiceControl \
  "ServiceStopRemove${t}otelcol-intune${t}162${t}${t}1${t}Service" \
  "ServiceStart${t}otelcol-intune${t}1${t}${t}1${t}ServiceStart"
check "MsiServiceConfigFailureActions: restart after 5 s, 15 s, 60 s; count reset after a day" has MsiServiceConfigFailureActions \
  "RestartOnFailure${t}otelcol-intune${t}5${t}86400${t}${t}${t}1[~]1[~]1${t}5000[~]15000[~]60000${t}Service"
seq_order() { # seq_order A B C: actions in this order in InstallExecuteSequence
  rows InstallExecuteSequence | awk -F'\t' -v a="$1" -v b="$2" -v c="$3" '{s[$1] = $3} END {
    if (!(a in s) || !(b in s) || !(c in s) || !(s[a] < s[b] && s[b] < s[c])) { print a "=" s[a], b "=" s[b], c "=" s[c]; exit 1 } }'
}
check "InstallExecuteSequence: service failure actions applied between install and start" seq_order InstallServices MsiConfigureServices StartServices
check "InstallExecuteSequence: an upgrade removes the old version before installing the new one" seq_order InstallValidate RemoveExistingProducts InstallInitialize
check "InstallExecuteSequence: settings restored after AppSearch, before the component conditions" seq_order AppSearch StartAgent CostFinalize
check "Upgrade: older versions upgraded, newer ones refused" has Upgrade \
  "{18B81097-3214-47DF-A8A2-49C3DF9B22E7}${t}${t}$version${t}${t}1${t}${t}WIX_UPGRADE_DETECTED" \
  "{18B81097-3214-47DF-A8A2-49C3DF9B22E7}${t}$version${t}${t}${t}2${t}${t}WIX_DOWNGRADE_DETECTED"
check "Property: version $version, per machine, upgrade code" has Property \
  "ProductVersion${t}$version" "ALLUSERS${t}1" "UpgradeCode${t}{18B81097-3214-47DF-A8A2-49C3DF9B22E7}"
check "Registry: the Application event log source otelcol-intune" has Registry \
  "$(rows Registry | awk -F'\t' '$4 == "EventMessageFile" {print $1}')${t}2${t}SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\otelcol-intune${t}EventMessageFile${t}#%%SystemRoot%\\System32\\EventCreate.exe${t}Service"
environment=$(rows Registry | awk -F'\t' '$4 == "Environment" {print $5}')
env_has() { printf '%s' "$environment" | sed 's/\[~\]/\n/g' | grep -qxF "$1" || { echo "service environment lacks $1: $environment"; return 1; }; }
check "service environment: INTUNE_STATE_DIR and INTUNE_EXPORTS under ProgramData" sh -c "
  $(declare -f env_has); environment='$environment'
  env_has 'INTUNE_STATE_DIR=[CommonAppDataFolder]otelcol-intune\\state' && env_has 'INTUNE_EXPORTS=[CommonAppDataFolder]otelcol-intune\\exports'"

# A setting (settings.tsv) given on the command line wins; else the value
# remembered from the last install; else its default, which must be the
# configs' own ${env:NAME:-default} because the service always sees the
# variable set.
msi_setting() { # msi_setting NAME DEFAULT ENV SECRET
  local name=$1 default=$2 inenv=$3 secret=$4 seq cfg
  has AppSearch "REMEMBERED_$name${t}Remembered_$name" || return 1
  has RegLocator "Remembered_$name${t}2${t}SOFTWARE\\otelcol-intune${t}$name${t}2" || return 1
  has CustomAction "Restore_$name${t}51${t}$name${t}[REMEMBERED_$name]${t}" || return 1
  for seq in InstallUISequence InstallExecuteSequence; do
    rows "$seq" | grep -qP "^Restore_$name\tNOT $name AND REMEMBERED_$name\t" || { echo "$seq lacks Restore_$name"; return 1; }
    if [ "$default" != - ]; then
      rows "$seq" | grep -qP "^Default_$name\tNOT $name\t" || { echo "$seq lacks Default_$name"; return 1; }
    fi
  done
  [ "$default" = - ] || has CustomAction "Default_$name${t}51${t}$name${t}$default${t}" || return 1
  rows Registry | grep -qP "\tSOFTWARE\\\\otelcol-intune\t$name\t\[$name\]\tSettings$" || { echo "$name is not written to HKLM\\SOFTWARE\\otelcol-intune"; return 1; }
  prop SecureCustomProperties | tr ';' '\n' | grep -qx "$name" || { echo "$name is not a secure property"; return 1; }
  if [ "$inenv" = yes ]; then
    env_has "$name=[$name]" || return 1
    cfg=$(grep -ho "\${env:$name:-[^}]*}" config/*.yaml | sed 's/^.*:-//; s/}$//' | sort -u)
    [ "$cfg" = "${default/#-/}" ] || { echo "$name: default '$default' here, '$cfg' in config/*.yaml"; return 1; }
  fi
  if [ "$secret" = yes ]; then
    for p in "$name" "REMEMBERED_$name"; do
      prop MsiHiddenProperties | tr ';' '\n' | grep -qx "$p" || { echo "$p is not kept out of the log"; return 1; }
    done
  fi
}
while read -r name default inenv secret; do
  case $name in '' | '#'*) continue ;; esac
  check "setting $name: remembered, restored, default '${default/#-/}' as in the configs, environment $inenv, secret $secret" \
    msi_setting "$name" "$default" "$inenv" "$secret"
done <packaging/windows/settings.tsv
start_conditions() {
  local c
  for c in agent.yaml agent-gateway-pool.yaml elasticsearch.yaml splunk.yaml gateway.yaml agent-kafka.yaml gateway-kafka.yaml; do
    rows InstallExecuteSequence | grep -qP "^Start[A-Za-z]+\tNOT START_SERVICE AND CONFIG=\"\Q$c\E\" AND " || { echo "no start condition for $c"; return 1; }
  done
}
check "START_SERVICE: set when the settings of the chosen ready config are given" start_conditions
summary_fixed() {
  msiinfo suminfo "$out/$msi" >"$work/suminfo.txt"
  grep -qx 'Template: x64;1033' "$work/suminfo.txt" && grep -q '^Version: 500 ' "$work/suminfo.txt" &&
    grep -qx "Subject: otelcol-intune $version" "$work/suminfo.txt" || { cat "$work/suminfo.txt"; return 1; }
}
check "summary information: x64, Windows Installer 5.0, version" summary_fixed

# ---------------------------------------------------------------------------
section ".deb and .rpm: contents"
# The files both packages hold: path, mode, owner, group, conffile.
linux_files() {
  printf '%s\n' \
    "/etc/otelcol-intune/config.yaml 640 root otelcol-intune conffile" \
    "/etc/otelcol-intune/otelcol-intune.env 640 root otelcol-intune conffile" \
    "/usr/bin/intunectl 755 root root -" \
    "/usr/bin/otelcol-intune 755 root root -" \
    "/usr/lib/systemd/system/otelcol-intune.service 644 root root -" \
    "/var/lib/otelcol-intune 750 otelcol-intune otelcol-intune -"
  for f in "${configs[@]}"; do echo "/usr/share/otelcol-intune/config/$f 644 root root -"; done
}
rpm_files() { # rpm_files RPM: the same shape, from the package header
  rpm -qp --qf '[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags}\n]' "$1" |
    awk '{mode = substr($2, length($2) - 2); conf = ($5 ~ /c/) ? "conffile" : "-"; print $1, mode, $3, $4, conf}' |
    grep -E '^/(etc/otelcol-intune/|usr/bin/|usr/lib/systemd/|usr/share/otelcol-intune/config/|var/lib/otelcol-intune)' | sort
}
for f in "$rpm_amd64" "$rpm_arm64"; do
  check "$f: files, modes, owners, conffiles" diff -u <(linux_files | sort) <(rpm_files "$out/$f")
  check "$f: digests" rpm -K --nosignature "$out/$f"
done
check "$rpm_amd64: conffiles are not replaced on upgrade (noreplace)" sh -c \
  "rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' '$out/$rpm_amd64' | grep -E ' /etc/otelcol-intune/' | awk '\$1 !~ /n/ {bad=1} END {exit bad}'"
check "$rpm_amd64 and $rpm_arm64: x86_64 and aarch64, version $version-1" test \
  "$(rpm -qp --qf '%{ARCH} %{VERSION}-%{RELEASE}\n' "$out/$rpm_amd64" "$out/$rpm_arm64" | tr '\n' ' ')" = "x86_64 $version-1 aarch64 $version-1 "
scriptlets() {
  rpm -qp --scripts "$out/$rpm_amd64" >"$work/scripts.txt"
  for s in 'preinstall scriptlet' 'postinstall scriptlet' 'preuninstall scriptlet' 'postuninstall scriptlet' 'useradd --system' 'systemctl disable --now otelcol-intune.service' 'systemctl try-restart otelcol-intune.service'; do
    grep -q -- "$s" "$work/scripts.txt" || { echo "no '$s' in the scriptlets"; return 1; }
  done
}
check "$rpm_amd64: scriptlets create the user, restart on upgrade, stop on removal" scriptlets
deb_files() { # deb_files DEB: the same shape, from the archive
  dpkg-deb -c "$1" | awk '{
      p = substr($6, 2); sub(/\/$/, "", p); split($2, o, "/")
      m = $1; mode = 0
      for (i = 2; i <= 10; i++) { mode = mode * 2 + (substr(m, i, 1) != "-") }
      print p, sprintf("%o", mode), o[1], o[2] }' |
    grep -E '^/(etc/otelcol-intune/|usr/bin/|usr/lib/systemd/system/|usr/share/otelcol-intune/config/|var/lib/otelcol-intune)' | sort
}
for f in "$deb_amd64" "$deb_arm64"; do
  check "$f: files, modes, owners" diff -u <(linux_files | cut -d' ' -f1-4 | sort) <(deb_files "$out/$f")
  check "$f: conffiles" diff -u <(linux_files | awk '$5 == "conffile" {print $1}') \
    <(dpkg-deb --ctrl-tarfile "$out/$f" | tar -xOf - ./conffiles | sort)
done
check "$deb_amd64: architecture amd64, version $version-1" test \
  "$(dpkg-deb -f "$out/$deb_amd64" Package Version Architecture | tr '\n' ' ')" = "Package: otelcol-intune Version: $version-1 Architecture: amd64 "

# ---------------------------------------------------------------------------
section ".deb: install, run, remove, purge"
# skip_install REASON: a skip, or a failure where the install is required.
skip_install() {
  if [ "${PACKAGE_INSTALL:-}" = required ]; then
    echo "FAIL  $1 (PACKAGE_INSTALL=required)"
    failures=$((failures + 1))
  else
    echo "skip  $1"
  fi
}
as_root=() root=yes
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); else root=no; fi
fi
if [ "$root" = no ]; then
  skip_install "installing $deb_amd64 needs root or passwordless sudo"
elif [ "$(dpkg --print-architecture)" != amd64 ]; then
  skip_install "installing $deb_amd64 needs an amd64 Debian machine (this is $(dpkg --print-architecture))"
else
  if dpkg-query -W -f='${Status}' otelcol-intune 2>/dev/null | grep -q installed; then
    echo "note  otelcol-intune was installed on this machine; purging it first"
    "${as_root[@]}" dpkg -P otelcol-intune >/dev/null
  fi
  check "dpkg -i $deb_amd64" "${as_root[@]}" dpkg -i "$out/$deb_amd64"
  installed_files() {
    local path mode user group conf got
    while read -r path mode user group conf; do
      got=$(stat -c '%a %U %G' "$path" 2>&1) || { echo "$path: $got"; return 1; }
      [ "$got" = "$mode $user $group" ] || { echo "$path: $got, want $mode $user $group"; return 1; }
    done < <(linux_files)
  }
  check "installed files, modes and owners" installed_files
  check "conffiles registered with dpkg" sh -c \
    "dpkg-query -W -f='\${Conffiles}\n' otelcol-intune | grep -q ' /etc/otelcol-intune/config.yaml ' &&
     dpkg-query -W -f='\${Conffiles}\n' otelcol-intune | grep -q ' /etc/otelcol-intune/otelcol-intune.env '"
  service_user() {
    local entry
    entry=$(getent passwd otelcol-intune) || { echo "no user otelcol-intune"; return 1; }
    IFS=: read -r _ _ uid _ _ home shell <<<"$entry"
    [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/otelcol-intune ] && [ "${shell##*/}" = nologin ] || { echo "$entry"; return 1; }
    id -nG otelcol-intune | grep -qw otelcol-intune || { echo "not in group otelcol-intune"; return 1; }
  }
  check "system user otelcol-intune: no login, home /var/lib/otelcol-intune" service_user
  check "config.yaml is the gateway config" "${as_root[@]}" cmp /etc/otelcol-intune/config.yaml config/gateway.yaml
  if command -v systemd-analyze >/dev/null 2>&1; then
    check "systemd-analyze verify otelcol-intune.service" \
      env SYSTEMD_LOG_LEVEL=warning systemd-analyze verify /usr/lib/systemd/system/otelcol-intune.service
  else
    echo "skip  systemd-analyze verify: systemd-analyze is not installed (Debian package systemd)"
  fi
  unit_settings() {
    local u=/usr/lib/systemd/system/otelcol-intune.service k
    for k in 'User=otelcol-intune' 'StateDirectory=otelcol-intune' 'Environment=INTUNE_STATE_DIR=/var/lib/otelcol-intune' \
      'EnvironmentFile=/etc/otelcol-intune/otelcol-intune.env' 'ExecStart=/usr/bin/otelcol-intune --config /etc/otelcol-intune/config.yaml' \
      'Restart=on-failure' 'ProtectSystem=strict'; do
      grep -qxF "$k" "$u" || { echo "$u lacks $k"; return 1; }
    done
  }
  check "unit: service user, state folder, env file, restart on failure, read-only system" unit_settings
  # As the service runs it: its user, the env file, then the values an admin
  # fills in (placeholders; nothing is contacted by validate).
  as_service() {
    "${as_root[@]}" runuser -u otelcol-intune -- env -i PATH=/usr/bin:/bin sh -c \
      'set -a; . /etc/otelcol-intune/otelcol-intune.env; INTUNE_STATE_DIR=/var/lib/otelcol-intune; '"$1"
  }
  fill='ES_ENDPOINT=https://elasticsearch.example:9200 ES_API_KEY=placeholder SPLUNK_HEC_ENDPOINT=https://splunk.example:8088 SPLUNK_HEC_TOKEN=00000000-0000-0000-0000-000000000000'
  check "the installed binary accepts the installed config once the env file is filled in (as the service user)" \
    as_service "$fill /usr/bin/otelcol-intune validate --config /etc/otelcol-intune/config.yaml"
  unfilled() {
    if as_service '/usr/bin/otelcol-intune validate --config /etc/otelcol-intune/config.yaml' >"$work/unfilled.txt" 2>&1; then
      echo "validate accepted the config with an empty env file"; return 1
    fi
    grep -q endpoint "$work/unfilled.txt" || { cat "$work/unfilled.txt"; return 1; }
  }
  check "with the env file as shipped, validate refuses and names the endpoint" unfilled
  check "intunectl runs: explain 0x00000400" sh -c "/usr/bin/intunectl explain 0x00000400 | grep -q PKCS_Issue_CA_Unavailable"
  check "the state folder is writable by the service user only" "${as_root[@]}" sh -c \
    "runuser -u otelcol-intune -- touch /var/lib/otelcol-intune/.probe && rm /var/lib/otelcol-intune/.probe &&
     ! runuser -u nobody -- ls /var/lib/otelcol-intune >/dev/null 2>&1"

  # An admin's edit and the state a running service leaves; dpkg -r keeps
  # both (it would delete an empty state folder, which holds nothing to keep).
  "${as_root[@]}" sh -c "echo 'ES_ENDPOINT=https://kept.example:9200' >>/etc/otelcol-intune/otelcol-intune.env &&
    runuser -u otelcol-intune -- touch /var/lib/otelcol-intune/checkpoint.probe"
  check "dpkg -r otelcol-intune" "${as_root[@]}" dpkg -r otelcol-intune
  after_remove() {
    [ ! -e /usr/bin/otelcol-intune ] && [ ! -e /usr/bin/intunectl ] && [ ! -e /usr/lib/systemd/system/otelcol-intune.service ] ||
      { echo "binaries or unit left behind"; return 1; }
    "${as_root[@]}" grep -q kept.example /etc/otelcol-intune/otelcol-intune.env || { echo "the edited env file was not kept"; return 1; }
    "${as_root[@]}" test -e /var/lib/otelcol-intune/checkpoint.probe || { echo "the state was removed"; return 1; }
  }
  check "after remove: binaries and unit gone; config, env file and state kept" after_remove
  check "dpkg -P otelcol-intune" "${as_root[@]}" dpkg -P otelcol-intune
  after_purge() {
    [ ! -e /etc/otelcol-intune ] && [ ! -e /var/lib/otelcol-intune ] && [ ! -e /usr/share/otelcol-intune ] ||
      { ls -la /etc/otelcol-intune /var/lib/otelcol-intune /usr/share/otelcol-intune 2>&1; return 1; }
    ! dpkg-query -W -f='${Status}' otelcol-intune 2>/dev/null | grep -q 'installed\|config-files' ||
      { echo "dpkg still lists the package"; return 1; }
  }
  check "after purge: nothing left but the otelcol-intune user" after_purge
fi

# ---------------------------------------------------------------------------
if [ "$rebuild" = yes ]; then
  section "reproducible: a second build into another folder"
  second=$work/rebuild
  PACKAGE_OUT=$second packaging/build.sh >"$work/rebuild.log" 2>&1 || { cat "$work/rebuild.log"; exit 1; }
  check "every artefact has the same SHA-256 in both builds" diff -u "$out/SHA256SUMS" "$second/SHA256SUMS"
fi

echo
if [ "$failures" -gt 0 ]; then
  echo "package-check: $failures check(s) failed"
  exit 1
fi
echo "package-check: all checks passed"
