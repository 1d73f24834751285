#!/bin/sh
# concurrency.sh - 8 processes x 2000 cycles of acquire/associate/bind/
# release on overlapping blocks (tests/stress/stress.c): no block granted
# twice, no bind outside its block, the pool empty afterwards, within 300 s.
set -u
. "$(dirname "$0")/lib.sh"
cd "$top/tests/stress/x86_64-windows" || exit 2
make_tmp
timeout 400 wine stress.exe run 8 2000 300 >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
if [ $rc -ne 0 ]; then
    # the lines that say why (run-all shows "Test failed" lines only)
    grep -v ' 0 violations$' "$tmp/out" | sed "s/^/$test_name.sh: Test failed: /"
fi
check $rc "stress run exited $rc"
summary
