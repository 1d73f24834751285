#!/bin/sh
# fuzz.sh - the libFuzzer targets of tests/unit (registry value decoder,
# pool logic, journal), FUZZ_SECONDS each (60 by default), each on its
# corpus FOLDER/fuzz/corpus-NAME and the inputs that once failed,
# tests/unit/seeds-NAME; crashes land in FOLDER/fuzz/.  Prints
# the executions of each run.  Native; needs no Wine.  Runs no make: make
# check and make fuzz build the targets first and name them in
# FUZZ_TARGETS; without it, tests/unit/fuzz/fuzz_NAME for each
# tests/unit/fuzz_NAME.c.  A target not built is a failure.
set -u
. "$(dirname "$0")/lib.sh"
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-$(cd "$top" && for s in tests/unit/fuzz_*.c; do
    [ -f "$s" ] && echo "tests/unit/fuzz/$(basename "$s" .c)"; done)}
fail() { check 1 "$*"; }

ran=0
for t in $targets; do
    ran=$((ran + 1))
    case $t in /*) bin=$t ;; *) bin=$top/$t ;; esac
    f=${bin##*/}; name=${f#fuzz_}; dir=${bin%/*}
    if [ ! -x "$bin" ]; then
        fail "$bin is not built: run make fuzz (or make check), which builds the fuzz targets"
        continue
    fi
    corpus=$dir/corpus-$name; log=$dir/$f.log
    mkdir -p "$corpus"
    # inputs that once failed (tests/unit/seeds-NAME), read first, never written
    seeds=$top/tests/unit/seeds-$name
    [ -d "$seeds" ] || seeds=
    echo "== fuzz $name for $seconds s (corpus $corpus${seeds:+ and $seeds}, log $log)"
    if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$dir/$f-" "$corpus" $seeds >"$log" 2>&1; then
        tail -n 60 "$log"
        fail "fuzz $name (see $log, crash input $dir/$f-*)"
        continue
    fi
    line=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/fuzz '"$name"': \1 executions in \2 s/p' "$log")
    if [ -z "$line" ]; then
        tail -n 20 "$log"
        fail "fuzz $name: no \"Done\" line in $log"
        continue
    fi
    echo "$line"
    check 0 ""
done
[ $ran -gt 0 ] || fail "no fuzz targets (FUZZ_TARGETS is empty, no tests/unit/fuzz_*.c)"
summary
