#!/bin/sh
# kill9.sh - runtime reservations end with a Wine process killed by SIGKILL;
# persistent ones survive a Wine restart (wineserver -k), runtime ones do not
#
#   WINEPREFIX=... PORTRES_TOP=... sh tests/scripts/kill9.sh
#
# WINEPREFIX is a prefix with portres installed, PORTRES_TOP the repository
# with tests/conformance/x86_64-windows/crossprocess.exe built (its child
# modes hold, busy, check, pcreate, plookup, pdelete do the Windows side).
# Ports 46100-46959 only (a free block of 60 is looked for there).  Prints
# a Wine-style summary line; exits non-zero on failure.

set -u
. "$(dirname "$0")/lib.sh"

need_prefix
exe="$top/tests/conformance/x86_64-windows/crossprocess.exe"
make_tmp
job=       # the background "hold" job
wine_pid=  # its Wine process
persist=   # the block of the persistent reservations, while they exist

cleanup() {
    bg_kill "$wine_pid"
    bg_kill "$job"
    if [ -n "$persist" ]; then timeout 60 "$WINE" "$exe" child pdelete "$persist" 0 >/dev/null 2>&1; fi
}

# run the child MODE ARGS... of crossprocess.exe, output in $tmp/MODE.out; its exit code in $rc
child() {
    mode=$1
    timeout 60 "$WINE" "$exe" child "$@" >"$tmp/$mode.out" 2>&1
    rc=$?
    # a child that failed without its summary line did not run its checks
    # (CI once had "check" exit 1 with no output at all, right after a
    # SIGKILL): said on stderr, and run once more with Wine's and portres's
    # error lines, which the check's report then shows
    if [ $rc -ne 0 ] && ! grep -q ' tests executed ' "$tmp/$mode.out"; then
        echo "kill9.sh: child $* exited $rc without its summary line ($(head -c 300 "$tmp/$mode.out" | tr '\n' ' ')); running it again" >&2
        WINEDEBUG=err+all,warn+portres,+seh timeout 60 "$WINE" "$exe" child "$@" >"$tmp/$mode.out" 2>&1
        rc=$?
    fi
}

# is a port of FIRST..LAST bound on this machine (any address, TCP or UDP)?
ports_in_use() {
    # TIME_WAIT (state 06) does not count: it keeps out neither an acquire
    # nor a persistent create (portres's in-use check skips it too), and the
    # earlier tests' connections leave many in the kernel's range
    cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null |
        awk -v first="$1" -v last="$2" 'NR > 0 && $2 ~ /:/ && $4 != "06" {
            port = 0; hex = toupper(substr($2, index($2, ":") + 1))
            for (i = 1; i <= length(hex); i++) port = port * 16 + index("0123456789ABCDEF", substr(hex, i, 1)) - 1
            if (port >= first && port <= last) found = 1
        } END { exit !found }'
}

# start "child hold PORT" in the background and wait (20 s at most) for "held"
start_hold() {
    : >"$tmp/hold.out"
    bg "$WINE" "$exe" child hold "$1" >"$tmp/hold.out" 2>&1
    job=$bg_pid
    wait_for '^held' "$tmp/hold.out" 20 "$job"
}

# the Linux pid of the Wine process "crossprocess.exe child hold PORT" of this prefix
find_wine_pid() {
    pids=$(prefix_pids "crossprocess.exe child hold $1")
    [ -n "$pids" ] || return 1
    echo "$pids" | head -n 1
}

# wait for the background job to end (10 s at most), then reap it
end_hold() {
    i=0
    while [ $i -lt 50 ] && find_wine_pid "$1" >/dev/null; do
        nap
        i=$((i + 1))
    done
    bg_kill "$job"
    job=
    wine_pid=
}

[ -f "$exe" ] || { check 1 "crossprocess.exe is not built: $exe"; summary; }

# a free block of 60 ports: the hold block (10), the persistent one (5) and
# the hold block of the restart test (10)
base=
for b in $(seq 46100 60 46900); do
    if ! ports_in_use "$b" $((b + 59)); then base=$b; break; fi
done
if [ -z "$base" ]; then
    skip "no 60 free ports in 46100-46959"
    summary
fi
hold=$base
pblock=$((base + 20))
reboot=$((base + 40))

# --- 1. SIGKILL of a Wine process holding runtime reservations -------------
start_hold "$hold"
check $? "child hold $hold did not print \"held\" within 20 s" "$tmp/hold.out"

child busy "$hold"
check $rc "while held, another process acquired the blocks at $hold" "$tmp/busy.out"

wine_pid=$(find_wine_pid "$hold")
check $? "no Wine process \"crossprocess.exe child hold $hold\" found with pgrep"

if [ -n "$wine_pid" ]; then
    kill -9 "$wine_pid"
    check $? "kill -9 $wine_pid failed"
fi
end_hold "$hold"
check "$(find_wine_pid "$hold" >/dev/null && echo 1 || echo 0)" "the Wine process $wine_pid survived SIGKILL"

child check "$hold"
check $rc "after SIGKILL of the holder, acquiring the TCP and UDP blocks at $hold failed (exit $rc)" "$tmp/check.out"

# and again, now that the pool has seen a dead owner once
start_hold "$hold"
check $? "child hold $hold (second time) did not print \"held\" within 20 s" "$tmp/hold.out"
wine_pid=$(find_wine_pid "$hold")
if [ -n "$wine_pid" ]; then kill -9 "$wine_pid"; fi
end_hold "$hold"
child check "$hold"
check $rc "after a second SIGKILL, acquiring the blocks at $hold failed (exit $rc)" "$tmp/check.out"

# --- 2. wineserver -k: persistent reservations stay, runtime ones go --------
start_hold "$reboot"
check $? "child hold $reboot did not print \"held\" within 20 s" "$tmp/hold.out"

child pcreate "$pblock"
check $rc "creating the persistent TCP and UDP reservations at $pblock failed (exit $rc)" "$tmp/pcreate.out"
persist=$pblock
created=$(grep '^tokens ' "$tmp/pcreate.out" | tr -d '\r')

timeout 60 wineserver -k
timeout 60 wineserver -w
end_hold "$reboot"

child plookup "$pblock"
check $rc "after wineserver -k, looking up the persistent reservations at $pblock failed (exit $rc)" "$tmp/plookup.out"
found=$(grep '^tokens ' "$tmp/plookup.out" | tr -d '\r')
[ -n "$created" ] && [ "$found" = "$created" ]
check $? "after wineserver -k the tokens are \"$found\", created \"$created\""

child check "$reboot"
check $rc "after wineserver -k, the runtime blocks at $reboot are still held (exit $rc)" "$tmp/check.out"

child pdelete "$pblock" 0
check $rc "deleting the persistent reservations at $pblock failed (exit $rc)" "$tmp/pdelete.out"
[ $rc -eq 0 ] && persist=
child pdelete "$pblock" 1168
check $rc "the second delete at $pblock did not fail with ERROR_NOT_FOUND (exit $rc)" "$tmp/pdelete.out"
child plookup "$pblock"
[ "$rc" -ne 0 ]
check $? "the persistent reservations at $pblock are still found after delete"

summary
