#!/bin/sh
# persistence.sh - 1000 persistent reservations survive a Wine restart
# (wineserver -k), none lost; corrupted registry values are skipped with a
# warn:portres line and block nothing.  Ports 20000-21998 (even).
set -u
. "$(dirname "$0")/lib.sh"
count=${PERSIST_COUNT:-1000}
cd "$top/tests/stress/x86_64-windows" || exit 2
make_tmp
key="HKLM\\$(portres_name REGISTRY_TCP_KEY)"
cleanup() {
    timeout 300 wine stress.exe persist clear "$count" >/dev/null 2>&1
    for v in 70000-70001 bogus 30000-30001 30010-30011; do wine reg delete "$key" /v "$v" /f /reg:64 >/dev/null 2>&1; done
}

timeout 900 wine stress.exe persist fill "$count"
check $? "creating $count persistent reservations"

wineserver -k; wineserver -w
timeout 300 wine stress.exe persist verify "$count"
check $? "not every reservation survived wineserver -k"

# corrupt values beside the good ones: out of range, not a block, bad token, wrong type
wine reg add "$key" /v 70000-70001 /d 0x8000000000000001 /f /reg:64 >/dev/null 2>&1
wine reg add "$key" /v bogus /d 0x8000000000000002 /f /reg:64 >/dev/null 2>&1
wine reg add "$key" /v 30000-30001 /d not-a-token /f /reg:64 >/dev/null 2>&1
wine reg add "$key" /v 30010-30011 /t REG_DWORD /d 5 /f /reg:64 >/dev/null 2>&1
wineserver -k; wineserver -w
WINEDEBUG=-all,warn+portres timeout 300 wine stress.exe persist verify "$count" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out"
check $rc "reservations lost or blocked after corrupt values were added"
warns=$(grep -c "warn:portres.*skipping malformed" "$tmp/err")
echo "warn lines for corrupt values: $warns"
check $(( warns < 4 )) "expected 4 warn lines for 4 corrupt values, got $warns: $(head -5 "$tmp/err")"

timeout 300 wine stress.exe persist clear "$count"
check $? "deleting the reservations"
timeout 60 wine stress.exe persist verify 1 >/dev/null 2>&1
check $(( $? == 0 )) "a deleted reservation is still found"
summary
