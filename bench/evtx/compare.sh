#!/bin/sh
# Compares the pure-Go EVTX reader with libevtx's evtxexport on the same
# files: both render every record as XML to /dev/null. Prints MB/s,
# records/s and the ratio, then the reader's peak memory on a 100+ MB file
# assembled from real chunks, against a 3 MB one.
#
# usage: bench/evtx/compare.sh [CORPUS_DIR]   (default: ../shared/evtx-corpus
#        beside the repository root). Needs evtxexport (libevtx-utils).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${1:-$root/../shared/evtx-corpus}
reps=${REPS:-3}

if ! env time -f '' true 2>/dev/null; then
	echo "GNU time not found: install the time package" >&2
	exit 1
fi
if ! command -v evtxexport >/dev/null 2>&1; then
	echo "evtxexport not found: install libevtx-utils" >&2
	exit 1
fi
if [ ! -f "$corpus/manifest.tsv" ]; then
	echo "no EVTX corpus at $corpus (pass its directory as the argument)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$root" && go build -o "$tmp/evtxdump" ./wineventlog/evtx/internal/evtxdump)

# The file list: every corpus file both programs can read to the end, so
# that neither side gets credit for stopping early at damage.
tail -n +2 "$corpus/manifest.tsv" | cut -f1 | while read -r f; do
	if evtxexport -f xml "$corpus/$f" >/dev/null 2>&1; then
		printf '%s\n' "$corpus/$f"
	fi
done >"$tmp/files"

# best_of CMD...: the fastest of $reps runs over all files, as "wall cpu"
# seconds. CPU time (user+system, all threads) is the fairer measure on a
# shared machine; wall time is shown beside it.
best_of() {
	best=
	i=0
	while [ "$i" -lt "$reps" ]; do
		env time -f '%e %U %S' -o "$tmp/time" sh -c '
			while read -r f; do "$@" "$f" >/dev/null 2>&1 || true; done <"$0"' "$tmp/files" "$@"
		read -r wall user sys <"$tmp/time"
		cpu=$(echo "$user + $sys" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$cpu < ${best#* }" | bc -l)" = 1 ]; then
			best="$wall $cpu"
		fi
		i=$((i + 1))
	done
	echo "$best"
}

bytes=0
records=0
while read -r f; do
	bytes=$((bytes + $(wc -c <"$f")))
	records=$((records + $(evtxexport -f xml "$f" 2>/dev/null | grep -c '^<Event ' || true)))
done <"$tmp/files"

t_lib=$(best_of evtxexport -f xml)
t_go=$(best_of "$tmp/evtxdump")

echo "files: $(wc -l <"$tmp/files"), $(echo "$bytes / 1048576" | bc -l | xargs printf '%.1f') MiB, $records records (best of $reps runs, XML to /dev/null)"
printf '%-12s %8s %8s %12s %14s\n' program wall-s cpu-s MB/cpu-s records/cpu-s
for p in "evtxexport:$t_lib" "go-reader:$t_go"; do
	name=${p%%:*}
	t=${p#*:}
	wall=${t% *}
	cpu=${t#* }
	printf '%-12s %8.3f %8.3f %12.1f %14.0f\n' "$name" "$wall" "$cpu" "$(echo "$bytes / 1048576 / $cpu" | bc -l)" "$(echo "$records / $cpu" | bc -l)"
done
printf 'ratio (go-reader throughput / evtxexport, by CPU time): %.2fx\n' "$(echo "${t_lib#* } / ${t_go#* }" | bc -l)"
printf 'ratio by wall time: %.2fx\n' "$(echo "${t_lib% *} / ${t_go% *}" | bc -l)"

# Memory: a file of the Intune log's 41 chunks repeated to over 100 MB.
intune="$corpus/markstan+Validate-NDESConfiguration/_history/bc553b2a7d90_Microsoft-Intune-CertificateConnectors%4Admin.evtx"
if [ -f "$intune" ]; then
	head -c 4096 "$intune" >"$tmp/big.evtx"
	tail -c +4097 "$intune" | head -c $((41 * 65536)) >"$tmp/chunks"
	n=0
	while [ "$n" -lt 40 ]; do
		cat "$tmp/chunks" >>"$tmp/big.evtx"
		n=$((n + 1))
	done
	size=$(wc -c <"$tmp/big.evtx")
	echo
	echo "memory: peak RSS of the reader writing XML to /dev/null"
	for f in "$intune" "$tmp/big.evtx"; do
		env time -f '%M' -o "$tmp/rss" "$tmp/evtxdump" "$f" >/dev/null 2>&1 || true
		printf '  %6.1f MiB file: %6.1f MiB peak RSS\n' "$(echo "$(wc -c <"$f") / 1048576" | bc -l)" "$(echo "$(cat "$tmp/rss") / 1024" | bc -l)"
	done
	echo
	echo "Go benchmark on the $((size / 1048576)) MiB file (peak Go heap):"
	(cd "$root" && EVTX_BENCH_FILE="$tmp/big.evtx" go test -run='^$' -bench=BenchmarkLargeFile -benchtime=3x ./wineventlog/evtx/ | grep -E '^Benchmark')
fi
