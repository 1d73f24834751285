#!/bin/sh
# concurrency.sh - 8 processes x 2000 cycles of acquire/associate/bind/
# release on overlapping blocks (tests/stress/stress.c): no block granted
# twice, no bind outside its block, the pool empty afterwards, within 300 s.
set -u
cd "$PORTRES_TOP/tests/stress/x86_64-windows" || exit 2
timeout 400 wine stress.exe run 8 2000 300
rc=$?
failures=0
[ $rc -eq 0 ] || { failures=1; echo "concurrency.sh: Test failed: stress run exited $rc"; }
echo "concurrency: 1 tests executed (0 marked as todo, $failures failures), 0 skipped."
[ $failures -eq 0 ]
