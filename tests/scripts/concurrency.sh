#!/bin/sh
# concurrency.sh - 8 processes x 2000 cycles of acquire/associate/bind/
# release on overlapping blocks (tests/stress/stress.c): no block granted
# twice, no bind outside its block, the pool empty afterwards, within 300 s.
set -u
cd "$PORTRES_TOP/tests/stress/x86_64-windows" || exit 2
out=$(mktemp "${TMPDIR:-/tmp}/portres-concurrency.XXXXXX")
timeout 400 wine stress.exe run 8 2000 300 >"$out" 2>&1
rc=$?
cat "$out"
failures=0
if [ $rc -ne 0 ]; then
    failures=1
    # the lines that say why (run-all shows "Test failed" lines only)
    grep -v ' 0 violations$' "$out" | sed 's/^/concurrency.sh: Test failed: /'
    echo "concurrency.sh: Test failed: stress run exited $rc"
fi
rm -f "$out"
echo "concurrency: 1 tests executed (0 marked as todo, $failures failures), 0 skipped."
[ $failures -eq 0 ]
