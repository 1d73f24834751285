#!/bin/sh
# fuzz.sh - the libFuzzer targets of tests/unit (registry value decoder,
# pool logic), FUZZ_SECONDS each (60 by default), through `make fuzz`,
# which prints the executions of each run.  Native; needs no Wine.
set -u
out=$(make -s -C "$PORTRES_TOP" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" 2>&1)
rc=$?
echo "$out"
targets=$(echo "$out" | grep -c '^fuzz [a-z]*: [0-9]* executions')
failures=0
[ $rc -eq 0 ] && [ "$targets" -ge 2 ] || failures=1
[ $failures -eq 0 ] || echo "fuzz.sh: Test failed: make fuzz exited $rc with $targets targets reporting"
echo "fuzz: 1 tests executed (0 marked as todo, $failures failures), 0 skipped."
[ $failures -eq 0 ]
