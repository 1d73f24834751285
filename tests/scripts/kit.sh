#!/bin/sh
# kit.sh - the conformance kit portres_test.exe as a user runs it: --list,
# the exit codes, one test, the time limit (the test and what it started
# are ended, it counts as a failure), and the cleanup of persistent blocks
# left by a killed run (a ledger naming a block) or a timed-out test.
# In the prefix of tests/run-all, with portres installed.
set -u
. "$(dirname "$0")/lib.sh"
need_prefix
make_tmp

kit=$top/tests/kit/x86_64-windows/portres_test.exe
if [ ! -f "$kit" ]; then
    check 1 "$kit was not built"
    summary
fi

# run the kit with ARGS from $tmp: its output, CRs stripped, in $tmp/o; $rc
kit() {
    (cd "$tmp" && timeout 600 $WINE "$kit" "$@") >"$tmp/out" 2>&1
    rc=$?
    tr -d '\r' <"$tmp/out" >"$tmp/o"
}

# the persistent TCP blocks netsh shows, as "START-END" lines
tcp_blocks() {
    netsh int ipv4 show excludedportrange protocol=tcp
    awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ { print $1 "-" $2 }' "$tmp/out"
}

# --- the options -----------------------------------------------------------
kit --list
n=$(grep -c . "$tmp/o")
want=$(ls "$top"/tests/conformance/*.c | wc -l)
check $([ $rc -eq 0 ] && [ "$n" -eq "$want" ]; echo $?) "--list: exit $rc, $n tests, $want programs" "$tmp/o"
kit nosuchtest
check $([ $rc -eq 2 ] && grep -q 'no test "nosuchtest"' "$tmp/o" && ! grep -q '^===' "$tmp/o"; echo $?) \
    "an unknown test: exit $rc (2 wanted), or something ran" "$tmp/o"
kit --timeout 0 header
check $([ $rc -eq 2 ] && grep -q '^usage:' "$tmp/o"; echo $?) "--timeout 0: exit $rc (2 wanted) without usage" "$tmp/o"

# --- one test, and the environment report ------------------------------------
kit header
check $([ $rc -eq 0 ]; echo $?) "header: exit $rc" "$tmp/o"
grep -q '^    Wine: [0-9]' "$tmp/o"
check $? "header: no Wine line in the environment report" "$tmp/o"
grep -q '^    architecture: a x86_64 program' "$tmp/o"
check $? "header: no architecture line" "$tmp/o"
grep -q '^    CreatePersistentTcpPortReservation: .*system32.iphlpapi.dll (portres)$' "$tmp/o"
check $? "header: the module answering CreatePersistentTcpPortReservation is not portres's system32 one" "$tmp/o"
grep -q '^    administrator: yes' "$tmp/o"
check $? "header: not an administrator under Wine" "$tmp/o"
grep -q '^header  *10 tests, 0 failures' "$tmp/o" && grep -q '^total: .* 1 of 1 tests passed$' "$tmp/o" &&
    grep -qx 'decisions contradicted by this system: none' "$tmp/o"
check $? "header: the result lines" "$tmp/o"
ledger=$(sed -n 's/^cleanup before: no ledger \(.*\): no persistent block.*/\1/p' "$tmp/o" | head -n 1)
check $([ -n "$ledger" ]; echo $?) "header: the first cleanup pass does not name the ledger" "$tmp/o"
ledger_unix=$($WINE winepath -u "$ledger" 2>/dev/null | tr -d '\r')

# --- a decision contradicted: Wine's builtin ws2_32 (no reservations) taken
# for Windows (WINETEST_PLATFORM=windows): the runtime checks of decisions
# it fails are listed at the end and not counted as failures ------------------
(cd "$tmp" && WINETEST_PLATFORM=windows WINEDLLOVERRIDES=ws2_32=b timeout 600 $WINE "$kit" runtime) >"$tmp/out" 2>&1
rc=$?
tr -d '\r' <"$tmp/out" >"$tmp/o"
n=$(sed -n 's/^decisions contradicted by this system: \([0-9]*\)$/\1/p' "$tmp/o")
listed=$(sed -n '/^decisions contradicted by this system/,$p' "$tmp/o" | grep -c "^    runtime runtime.c:[0-9]*: Decision contradicted (behaviour §")
counted=$(sed -n 's/^runtime .*, \([0-9]*\) decision checks (\([0-9]*\) contradicted).*/\2/p' "$tmp/o")
check $([ "${n:-0}" -ge 1 ] && [ "$listed" -eq "$n" ] && [ "$counted" = "$n" ]; echo $?) \
    "builtin ws2_32 taken for Windows: ${n:-no} decisions contradicted, $listed listed, ${counted:-none} counted" "$tmp/o"
echo "kit: builtin ws2_32 taken for Windows: $n decisions contradicted (exit code $rc)"
check $(grep -q 'Test failed: .*Decision' "$tmp/o"; [ $? -ne 0 ]; echo $?) "a contradicted decision was printed as a failure"

# --- a ledger left by a killed run: its block is deleted before the tests ----
netsh int ipv4 delete excludedportrange protocol=tcp startport=30010 numberofports=5
netsh int ipv4 add excludedportrange protocol=tcp startport=30010 numberofports=5
check $rc "netsh add 30010+5 failed: $(cat "$tmp/out")"
if [ -n "$ledger_unix" ]; then
    printf '+ tcp 30010 5\r\n+ udp 30020 5\r\n- udp 30020 5\r\ngarbage\r\n' >"$ledger_unix"
    kit header
    check $([ $rc -eq 0 ]; echo $?) "header after a left ledger: exit $rc" "$tmp/o"
    grep -qx 'cleanup before: deleted the TCP block 30010+5 a test left' "$tmp/o" &&
        grep -qx 'cleanup before: 1 persistent blocks of the kit deleted, 0 left' "$tmp/o"
    check $? "the block of the left ledger was not deleted before the tests" "$tmp/o"
    check $([ ! -e "$ledger_unix" ]; echo $?) "the ledger is still there after a clean pass"
    check $(tcp_blocks | grep -qx '30010-30014'; [ $? -ne 0 ]; echo $?) "netsh still shows 30010-30014" "$tmp/out"
else
    skip "winepath -u '$ledger' gave nothing: the left-ledger case is not run"
fi

# --- the time limit: lifetime ended after 1 s, with the children it
# started; every test process lingers 30 s after its work
# (PORTRES_KIT_LINGER), as lifetime alone takes less than a second under
# Wine 10 ------------------------------------------------------------------
PORTRES_KIT_LINGER=30 kit --timeout 1 lifetime
check $([ $rc -eq 1 ]; echo $?) "lifetime with a 1 s limit: exit $rc (1 wanted)" "$tmp/o"
grep -q '^lifetime .* 1 failures (timed out), ' "$tmp/o" && grep -q '^total: .* 0 of 1 tests passed$' "$tmp/o"
check $? "lifetime with a 1 s limit: not reported as timed out" "$tmp/o"
left=$(prefix_pids portres_test)
check $([ -z "$left" ]; echo $?) "processes of the kit left after the time out: $left"

# --- the cleanup after the tests: a block noted in the ledger while
# implicit (about 20 s) runs, as a test killed after creating it would
# leave it, is deleted after the last test -------------------------------
(cd "$tmp" && exec timeout 600 $WINE "$kit" implicit) >"$tmp/bg.out" 2>&1 &
bg_pid=$!
wait_for '^=== implicit' "$tmp/bg.out" 60 $bg_pid
check $? "the kit did not start implicit" "$tmp/bg.out"
netsh int ipv4 delete excludedportrange protocol=tcp startport=30030 numberofports=5
netsh int ipv4 add excludedportrange protocol=tcp startport=30030 numberofports=5
check $rc "netsh add 30030+5 failed: $(cat "$tmp/out")"
[ -n "$ledger_unix" ] && printf '+ tcp 30030 5\r\n' >>"$ledger_unix"
wait $bg_pid
rc=$?
tr -d '\r' <"$tmp/bg.out" >"$tmp/o"
check $([ $rc -eq 0 ]; echo $?) "implicit: exit $rc" "$tmp/o"
if [ -n "$ledger_unix" ]; then
    grep -qx 'cleanup after: deleted the TCP block 30030+5 a test left' "$tmp/o" &&
        grep -qx 'cleanup after: 1 persistent blocks of the kit deleted, 0 left' "$tmp/o"
    check $? "the block noted while implicit ran was not deleted after it" "$tmp/o"
    check $(tcp_blocks | grep -qx '30030-30034'; [ $? -ne 0 ]; echo $?) "netsh still shows 30030-30034" "$tmp/out"
fi

summary
