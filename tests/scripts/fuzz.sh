#!/bin/sh
# fuzz.sh - the libFuzzer targets of tests/unit (registry value decoder,
# pool logic), FUZZ_SECONDS each (60 by default), through `make fuzz`,
# which prints the executions of each run.  Native; needs no Wine.
set -u
. "$(dirname "$0")/lib.sh"
out=$(make -s -C "$top" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" 2>&1)
rc=$?
echo "$out"
targets=$(echo "$out" | grep -c '^fuzz [a-z]*: [0-9]* executions')
check $([ $rc -eq 0 ] && [ "$targets" -ge 2 ]; echo $?) "make fuzz exited $rc with $targets targets reporting"
summary
