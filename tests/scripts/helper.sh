#!/bin/sh
# helper.sh - the host helper (tools/portres-helper.c): started on demand
# from the runtime folder's file, its in-use answers against today's (test
# binds, PORTRES_HELPER=off) on the same native Linux sockets (the same but
# for a socket that set SO_REUSEADDR and is only bound, which only the
# helper sees), a helper killed with SIGKILL started again, and the one
# warn line without it.
#
# The in-use check is asked through netsh's store=active exclusions of one
# port (portres.exe -> the reservation core): exit 0 when the port is free,
# 32 (ERROR_SHARING_VIOLATION) when a socket holds it.  Ports: free ones of
# 61800-61999, above Linux's ephemeral range (32768-60999 by default), where
# a test bind is the only check without the helper.
#
#   WINEPREFIX=<prefix with portres installed> sh tests/scripts/helper.sh

. "$(dirname "$0")/lib.sh"
need_prefix
make_tmp
helper="$top/tools/portres-helper"
sockhold="$top/tests/scripts/sockhold"
out=$tmp/out
export PORTRES_RUNTIME_DIR="$tmp/run"

if [ ! -x "$helper" ] || [ ! -x "$sockhold" ]; then
    skip "tools/portres-helper or tests/scripts/sockhold is not built"
    summary
fi

helper_pid() { [ -f "$PORTRES_RUNTIME_DIR/helper" ] && cut -d' ' -f3 "$PORTRES_RUNTIME_DIR/helper"; }

cleanup() {
    p=$(helper_pid)
    [ -n "$p" ] && kill "$p" 2>/dev/null
}

# check PORT of PROTO with the helper (HELPER: its path, or off): the exit
# code of an add of PORT store=active in $rc; the exclusion is deleted again
check_port() {
    PORTRES_HELPER=$1 netsh int ipv4 add excludedportrange "$2" "$3" 1 store=active
    add_rc=$rc
    [ "$add_rc" -eq 0 ] && netsh int ipv4 delete excludedportrange "$2" "$3" 1 store=active
    rc=$add_rc
}

# a free port of FROM-61999 (61800) that sockhold KIND can hold: started
# in the background ($bg_pid), its port in $port; 1 if none
hold() {
    port=${2:-61800}
    while [ $port -lt 62000 ]; do
        bg "$sockhold" "$1" $port >"$tmp/hold.out" 2>&1
        if wait_for '^ready' "$tmp/hold.out" 5 "$bg_pid"; then return 0; fi
        bg_wait "$bg_pid"
        port=$((port + 1))
    done
    return 1
}

# --- 1. started on demand; a free port is free ------------------------------
check_port "$helper" tcp 61990
check $([ $rc -eq 0 ]; echo $?) "a free TCP port: exit $rc with the helper" "$out"
pid=$(helper_pid)
check $([ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; echo $?) "no helper running after the first check (no $PORTRES_RUNTIME_DIR/helper)"
mode=$(stat -c %a "$PORTRES_RUNTIME_DIR" 2>/dev/null)
check $([ "$mode" = 700 ]; echo $?) "the runtime folder's mode is $mode, not 700"
mode=$(stat -c %a "$PORTRES_RUNTIME_DIR/helper-board" 2>/dev/null)
check $([ "$mode" = 600 ]; echo $?) "the helper's board is missing or its mode is $mode, not 600"

# --- 2. native sockets: the helper's answer against today's ------------------
# KIND PROTO WITH-HELPER TODAY: the exit codes expected
for c in "tcp-listen tcp 32 32" "udp udp 32 32" "tcp-bound tcp 32 0"; do
    set -- $c
    if ! hold "$1"; then
        check 1 "sockhold $1: no port of 61800-61999 could be held" "$tmp/hold.out"
        continue
    fi
    check_port "$helper" "$2" $port
    check $([ $rc -eq "$3" ]; echo $?) "native $1 socket on $port: exit $rc with the helper, expected $3" "$out"
    check_port off "$2" $port
    check $([ $rc -eq "$4" ]; echo $?) "native $1 socket on $port: exit $rc by test binds, expected $4 (today's answer)" "$out"
    bg_kill "$bg_pid"
    # and free again once the socket is gone
    check_port "$helper" "$2" $port
    check $([ $rc -eq 0 ]; echo $?) "$1 on $port closed: exit $rc with the helper, expected 0" "$out"
done

# a TCP connection of the port in TIME_WAIT, from a socket with
# SO_REUSEADDR as Wine's are, holds nothing (behaviour §2): Wine's binds
# pass it.  Free for the helper as for the test binds
port=61800
while [ $port -lt 62000 ] && ! "$sockhold" timewait $port >"$tmp/tw.out" 2>&1; do port=$((port + 1)); done
if [ $port -lt 62000 ]; then
    check_port "$helper" tcp $port
    check $([ $rc -eq 0 ]; echo $?) "TIME_WAIT on $port: exit $rc with the helper, expected 0" "$out"
    check_port off tcp $port
    check $([ $rc -eq 0 ]; echo $?) "TIME_WAIT on $port: exit $rc by test binds, expected 0" "$out"
    # and a socket only bound, with SO_REUSEADDR, beside the TIME_WAIT: in
    # use, from the kernel's list of such sockets (sock_diag, Linux 6.8)
    tw=$port
    kernel=$(uname -r | sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/')
    if [ "${kernel% *}" -gt 6 ] || { [ "${kernel% *}" -eq 6 ] && [ "${kernel#* }" -ge 8 ]; }; then
        if hold tcp-bound $tw && [ $port = $tw ]; then
            check_port "$helper" tcp $port
            check $([ $rc -eq 32 ]; echo $?) "TIME_WAIT and a bound-only socket on $port: exit $rc with the helper, expected 32" "$out"
        else
            check 1 "sockhold tcp-bound could not bind $tw beside its TIME_WAIT" "$tmp/hold.out"
        fi
        bg_kill "$bg_pid"
    else
        skip "kernel $(uname -r) lists no bound-only sockets (sock_diag, Linux 6.8)"
    fi
else
    check 1 "sockhold timewait: no port of 61800-61999" "$tmp/tw.out"
fi

# --- 2b. the helper's own UDP port is not in use to its answers ---------------
# (the kernel picks it in its range, where a block may be wanted): a
# reservation of it succeeds, and the same helper moves to another port
own=$(cut -d' ' -f1 "$PORTRES_RUNTIME_DIR/helper" 2>/dev/null)
pid=$(helper_pid)
check_port "$helper" udp "${own:-0}"
check $([ $rc -eq 0 ]; echo $?) "the helper's own UDP port $own: exit $rc, expected 0" "$out"
moved=$(cut -d' ' -f1 "$PORTRES_RUNTIME_DIR/helper" 2>/dev/null)
check $([ -n "$moved" ] && [ "$moved" != "$own" ] && [ "$(helper_pid)" = "$pid" ]; echo $?) \
    "the helper did not move off its port $own (now: $(cat "$PORTRES_RUNTIME_DIR/helper" 2>/dev/null), pid $pid before)"
if hold udp; then
    check_port "$helper" udp $port
    check $([ $rc -eq 32 ]; echo $?) "after the move, a native udp socket on $port: exit $rc, expected 32" "$out"
    bg_kill "$bg_pid"
else
    check 1 "sockhold udp: no port of 61800-61999 could be held" "$tmp/hold.out"
fi

# --- 3. a helper killed with SIGKILL is started again ------------------------
old=$(helper_pid)
[ -n "$old" ] && kill -9 "$old"
nap
check_port "$helper" tcp 61991
check $([ $rc -eq 0 ]; echo $?) "after SIGKILL of the helper: exit $rc" "$out"
new=$(helper_pid)
check $([ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new" 2>/dev/null; echo $?) \
    "after SIGKILL of the helper ($old), no new one runs (file: $new)"

# and one that ended by itself (SIGTERM, as after a minute idle), which
# removed its board: the next check goes to a new helper, and still sees a
# socket only it can see
old=$(helper_pid)
[ -n "$old" ] && kill -TERM "$old"
nap
if hold tcp-bound 61950; then
    check_port "$helper" tcp $port
    check $([ $rc -eq 32 ]; echo $?) "after SIGTERM of the helper: a bound-only socket on $port: exit $rc, expected 32" "$out"
    bg_kill "$bg_pid"
else
    check 1 "sockhold tcp-bound: no port of 61950-61999 could be held" "$tmp/hold.out"
fi
new=$(helper_pid)
check $([ -n "$new" ] && [ "$new" != "$old" ] && [ -f "$PORTRES_RUNTIME_DIR/helper-board" ]; echo $?) \
    "after SIGTERM of the helper ($old), no new one runs with a board (file: $new)"

# --- 3b. a helper that is only slow is waited for --------------------------
# (a loaded machine): stopped for 1.5 s while a check of a port only it
# sees in use (a native bound-only TCP socket) is made, the check still
# gets its answer, not the test binds' "free"
if hold tcp-bound 61900 && pid=$(helper_pid) && [ -n "$pid" ]; then
    kill -STOP "$pid"
    ( check_port "$helper" tcp $port; echo $rc >"$tmp/slow.rc" ) &
    slow=$!
    sleep 1.5
    kill -CONT "$pid"
    wait $slow
    rc=$(cat "$tmp/slow.rc" 2>/dev/null)
    check $([ "$rc" = 32 ]; echo $?) "a helper stopped for 1.5 s: a bound-only socket on $port: exit $rc, expected 32" \
        "$out"
    check $([ "$(helper_pid)" = "$pid" ]; echo $?) "a helper stopped for 1.5 s was replaced ($pid, now $(helper_pid))"
    bg_kill "$bg_pid"
else
    check 1 "sockhold tcp-bound: no port of 61800-61999 could be held, or no helper runs" "$tmp/hold.out"
fi

# --- 3c. a helper that cannot watch its board answers by socket ----------
# (the user's inotify instances used up, 128 by default): no board, and a
# port only it sees in use is still in use.  The limit is set to 0 in a
# user namespace of the helper's own, so nothing else on the machine meets it.
old=$(helper_pid)
[ -n "$old" ] && kill -TERM "$old"
nap
if ! unshare -U -r sh -c 'echo 0 >/proc/sys/user/max_inotify_instances' 2>"$tmp/userns.err"; then
    skip "no user namespace with its own inotify limit here ($(head -n 1 "$tmp/userns.err")): a helper without a board not tried"
elif hold tcp-bound 61850; then
    held=$bg_pid
    bg unshare -U -r sh -c 'echo 0 >/proc/sys/user/max_inotify_instances && exec "$0" "$1"' "$helper" "$PORTRES_RUNTIME_DIR"
    nb=$bg_pid
    for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(helper_pid)" = "$nb" ] && break; nap; done
    check $([ "$(helper_pid)" = "$nb" ] && [ ! -e "$PORTRES_RUNTIME_DIR/helper-board" ]; echo $?) \
        "a helper with no inotify instance left: not running ($(helper_pid), started $nb) or it made a board"
    PORTRES_HELPER=$helper WINEDEBUG=trace+portres netsh int ipv4 add excludedportrange tcp $port 1 store=active
    cp "$tmp/err" "$tmp/noboard.err"
    check $([ $rc -eq 32 ]; echo $?) "a helper without a board: a bound-only socket on $port: exit $rc, expected 32" "$out"
    [ $rc -eq 0 ] && netsh int ipv4 delete excludedportrange tcp $port 1 store=active
    check $(grep -q 'host helper has no board' "$tmp/noboard.err" && ! grep -q 'no host helper' "$tmp/noboard.err"; echo $?) \
        "a helper without a board: the check did not go by its socket" "$tmp/noboard.err"
    check $([ "$(helper_pid)" = "$nb" ]; echo $?) "a helper without a board was replaced ($nb, now $(helper_pid))"
    kill -TERM "$nb" 2>/dev/null
    bg_wait "$nb"
    bg_kill "$held"
else
    check 1 "sockhold tcp-bound: no port of 61850-61999 could be held" "$tmp/hold.out"
fi

# --- 3d. a 32-bit process starts the helper ---------------------------------
# (ntdll's __wine_unix_spawnvp is stdcall: called as cdecl, a 32-bit
# process that was first to need the helper crashed)
exe32="$top/tools/portres/i386-windows/portres.exe"
old=$(helper_pid)
[ -n "$old" ] && kill -TERM "$old"
nap
(cd "$tmp" && timeout 60 "$WINE" "$exe32" --version) >"$tmp/v32.out" 2>&1
if ! tr -d '\r' <"$tmp/v32.out" | grep -q '^portres\.exe '; then
    skip "32-bit programs do not run here: $(said "$tmp/v32.out")"
else
    (cd "$tmp" && PORTRES_HELPER=$helper timeout 120 "$WINE" "$exe32" int ipv4 add excludedportrange tcp 61993 1 \
        store=active) >"$tmp/add32.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && netsh int ipv4 delete excludedportrange tcp 61993 1 store=active
    check $rc "a 32-bit portres.exe add with no helper running: exit $rc" "$tmp/add32.out"
    new=$(helper_pid)
    check $([ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new" 2>/dev/null; echo $?) \
        "a 32-bit process started no helper ($old before, file: $new)"
fi

# --- 4. without a helper: one warn line, the test binds answer ---------------
PORTRES_HELPER=off WINEDEBUG=warn+portres netsh int ipv4 add excludedportrange tcp 61992 1 store=active
n=$(grep -c 'no host helper' "$tmp/err")
check $([ "$n" = 1 ]; echo $?) "PORTRES_HELPER=off: $n warn lines \"no host helper\", expected 1" "$tmp/err"
netsh int ipv4 delete excludedportrange tcp 61992 1 store=active

summary
