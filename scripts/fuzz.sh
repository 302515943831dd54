#!/usr/bin/env bash
# Runs each fuzz target given as PKG:NAME for FUZZTIME (default 10s).
#
# A target fails when it finds an input its checks refuse: Go then writes
# the input under PKG/testdata/fuzz/NAME/, which is what to commit with the
# fix. Go 1.26's fuzzing coordinator can also end a clean run with a bare
# "context deadline exceeded" at the FUZZTIME boundary (golang/go#75804,
# fixed in Go 1.27): that run wrote no input, and is reported here as a
# warning, not a failure, so CI does not fail at random.
set -uo pipefail
fuzztime=${FUZZTIME:-10s}
GO=${GO:-go}
status=0
for t in "$@"; do
  pkg=${t%%:*} name=${t##*:}
  dir=$pkg/testdata/fuzz/$name
  before=$(ls "$dir" 2>/dev/null | sort)
  echo "fuzz $name in $pkg for $fuzztime"
  out=$(mktemp)
  if $GO test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" -fuzzminimizetime=0 "$pkg" 2>&1 | tee "$out"; then
    rm -f "$out"
    continue
  fi
  after=$(ls "$dir" 2>/dev/null | sort)
  if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' "$out" &&
    [ "$(grep -c -e '^--- FAIL' "$out")" = 1 ]; then
    echo "fuzz: $name: warning: the run ended on Go's fuzztime deadline race (golang/go#75804) and found no failing input"
  else
    echo "fuzz: $name FAILED; a failing input, if one was found, is in $dir" >&2
    status=1
  fi
  rm -f "$out"
done
exit $status
