#!/bin/sh
# persistence.sh - 1000 persistent reservations survive a Wine restart
# (wineserver -k), none lost; corrupted registry values are skipped with a
# warn:portres line and block nothing.  Ports 20000-21998 (even).
set -u
count=${PERSIST_COUNT:-1000}
cd "$PORTRES_TOP/tests/stress/x86_64-windows" || exit 2
tests=0; failures=0
check() { tests=$((tests + 1)); if [ "$1" -ne 0 ]; then failures=$((failures + 1)); echo "persistence.sh: Test failed: $2"; fi; }
key='HKLM\Software\Wine\Portres\Tcp'
cleanup() {
    timeout 300 wine stress.exe persist clear "$count" >/dev/null 2>&1
    for v in 70000-70001 bogus 30000-30001 30010-30011; do wine reg delete "$key" /v "$v" /f /reg:64 >/dev/null 2>&1; done
}
trap cleanup EXIT INT TERM

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
WINEDEBUG=-all,warn+portres timeout 300 wine stress.exe persist verify "$count" >out.txt 2>err.txt
rc=$?
cat out.txt
check $rc "reservations lost or blocked after corrupt values were added"
warns=$(grep -c "warn:portres.*skipping malformed" err.txt)
echo "warn lines for corrupt values: $warns"
check $(( warns < 4 )) "expected 4 warn lines for 4 corrupt values, got $warns: $(cat err.txt | head -5)"
rm -f out.txt err.txt

timeout 300 wine stress.exe persist clear "$count"
check $? "deleting the reservations"
timeout 60 wine stress.exe persist verify 1 >/dev/null 2>&1
check $(( $? == 0 )) "a deleted reservation is still found"
echo "persistence: $tests tests executed (0 marked as todo, $failures failures), 0 skipped."
[ $failures -eq 0 ]
