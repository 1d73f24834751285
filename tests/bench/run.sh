#!/bin/sh
# run.sh - the benchmarks of `make bench`: portres against Wine's builtin
# ws2_32 and against one wineserver round trip, as ratios of medians
# measured in one run.
#
#   WINEPREFIX=<prefix with portres installed> PORTRES_TOP=<repo> tests/bench/run.sh
#
# Each benchmark alternates subject and baseline runs (BENCH_RUNS, at
# least 5, default 5), each a fresh Wine process timing a loop, and prints
#     bench NAME: ratio R (target T)
# followed by the medians.  Background helpers (reservation holders, bound
# sockets) are started and killed here.
#
# BENCH_ONLY="B1 B5 ..." runs only the benchmarks of those numbers (for a
# quick look while working; `make bench` runs them all).
#
# BENCH_OTHER_PREFIXES=N (default 0) first makes N more prefixes of this
# user (in the run's runtime folder) that each hold a runtime TCP and UDP
# block and a persistent one for the whole run: the host view (behaviour
# §6) with other prefixes live.

set -u

runs=${BENCH_RUNS:-5}
[ "$runs" -ge 5 ] || runs=5
cd "$PORTRES_TOP/tests/bench/x86_64-windows" || exit 2
export WINEDEBUG=-all
tmp=$(mktemp -d "${TMPDIR:-/tmp}/portres-bench.XXXXXX")
helper=
keeper=

others=
cleanup() {
    [ -n "$helper" ] && kill -9 "$helper" 2>/dev/null
    [ -n "$keeper" ] && kill -9 "$keeper" 2>/dev/null
    for p in $others; do WINEPREFIX=$p timeout 60 wineserver -k 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# one timed run: OVERRIDES MODE N [ARGS] -> microseconds per operation ("-": no override)
timed() {
    ovr=$1; [ "$ovr" = - ] && ovr=
    shift
    res=$(WINEDLLOVERRIDES="$ovr" timeout 300 wine bench.exe "$@" 2>/dev/null)
    us=$(echo "$res" | sed -n 's/^us_per_op //p')
    [ -n "$us" ] || { echo "bench.exe $* failed: $res" >&2; us=0; }
    echo "$us"
}

# want B1 [B5...]: is one of these benchmarks asked for (BENCH_ONLY)?
want() {
    [ -z "${BENCH_ONLY:-}" ] && return 0
    for w in "$@"; do
        case " $BENCH_ONLY " in *" $w "*) return 0 ;; esac
    done
    return 1
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# start a background helper (MODE K [ARGS], MODE and its leading arguments
# as one word) and wait for its "ready"
start_helper() {
    # shellcheck disable=SC2086
    wine bench.exe $1 "$2" >"$tmp/helper.out" 2>/dev/null &
    helper=$!
    for i in $(seq 1 600); do
        grep -q ready "$tmp/helper.out" 2>/dev/null && return 0
        kill -0 "$helper" 2>/dev/null || break
        sleep 0.1
    done
    echo "helper bench.exe $1 $2 did not get ready: $(cat "$tmp/helper.out")" >&2
    return 1
}

stop_helper() {
    [ -n "$helper" ] && kill -9 "$helper" 2>/dev/null
    wait "$helper" 2>/dev/null
    helper=
}

# report NAME TARGET SUBJECT-LABEL BASELINE-LABEL
report() {
    s=$(median "$tmp/subject")
    b=$(median "$tmp/baseline")
    awk -v n="$1" -v t="$2" -v s="$s" -v b="$b" -v sl="$3" -v bl="$4" -v r="$runs" 'BEGIN {
        printf "bench %s: ratio %.2f (target %s)\n", n, (b > 0 ? s / b : 0), t
        printf "    %s: median %.1f us/op; %s: median %.1f us/op; %d runs each\n", sl, s, bl, b, r }'
    rm -f "$tmp/subject" "$tmp/baseline"
}

# report_abs NAME TARGET LABEL: the median of the subject runs, in us; the
# target is a maximum in us ("-": none)
report_abs() {
    s=$(median "$tmp/subject")
    awk -v n="$1" -v t="$2" -v s="$s" -v sl="$3" -v r="$runs" 'BEGIN {
        printf "bench %s: median %.0f us (target %s)\n", n, s, (t == "-" ? "-" : "<= " t " us")
        printf "    %s: median %.1f us/op; %d runs\n", sl, s, r }'
    rm -f "$tmp/subject"
}

# alternate OVR MODE N [BASE] (subject) and OVR MODE N [BASE] (baseline)
# $runs times; a BASE of "" is none
alternate() {
    for i in $(seq 1 "$runs"); do
        if [ $# -eq 8 ]; then
            timed "$1" "$2" "$3" "$4" >>"$tmp/subject"
            timed "$5" "$6" "$7" "$8" >>"$tmp/baseline"
        else
            timed "$1" "$2" "$3" >>"$tmp/subject"
            timed "$4" "$5" "$6" >>"$tmp/baseline"
        fi
    done
}

# the other prefixes, each holding 39000+20i (runtime) and 39010+20i
# (persistent) until its wineserver is killed
: "${PORTRES_RUNTIME_DIR:=$tmp/run}"
export PORTRES_RUNTIME_DIR
xp="$PORTRES_TOP/tests/conformance/x86_64-windows/crossprocess.exe"
i=0
while [ "$i" -lt "${BENCH_OTHER_PREFIXES:-0}" ]; do
    p="$tmp/other-$i"
    others="$others $p"
    WINEPREFIX=$p timeout 300 wine wineboot -i >/dev/null 2>&1
    WINEPREFIX=$p timeout 60 wineserver -w  # system.reg is written when it ends
    WINEPREFIX=$p timeout 300 "$PORTRES_TOP/tools/wine-portres" install >/dev/null 2>&1
    WINEPREFIX=$p timeout 60 wine "$xp" child pcreate $((39010 + 20 * i)) >/dev/null 2>&1
    WINEPREFIX=$p wine "$xp" child hold $((39000 + 20 * i)) 10 3600 >"$p.hold" 2>&1 &
    for j in $(seq 1 200); do grep -q held "$p.hold" 2>/dev/null && break; sleep 0.1; done
    echo "other prefix $p: $(head -1 "$p.hold")"
    i=$((i + 1))
done

# a Wine process idle for the whole run keeps the wineserver and the
# prefix's services up: else they stop 3 s after a run and start again
# with the next, in the middle of its timed loop
wine bench.exe idle 3600 >"$tmp/keeper.out" 2>/dev/null &
keeper=$!
for i in $(seq 1 600); do grep -q ready "$tmp/keeper.out" 2>/dev/null && break; sleep 0.1; done

# one-port acquires on ports outside the kernel's ephemeral range (where an
# acquire has no /proc/net/tcp to read), and inside it
# (not read <file: sysctl files give nothing to the shell's 1-byte reads after the first)
set -- $(cat /proc/sys/net/ipv4/ip_local_port_range)
kfirst=${1:-32768} klast=${2:-60999}
if [ "$klast" -le 65000 ]; then out=$((klast + 301)); else out=48800; fi
in=$((kfirst + 200))

# B2 first: B5's connects leave connections closing (TIME_WAIT, FIN_WAIT2)
# on ports of 61000+ that portres chose for them, which the in-use check
# then looks up (or finds in use) for a minute
# B2: one specific acquire + release against one builtin socket+bind+closesocket
if want B2; then
alternate - acquire 500 "$out" ws2_32=b sockbind 500 "$out"
report B2-acquire 1.5 "acquire+release (1 TCP port, $out+)" "builtin socket+bind+closesocket"
# the same against a named-mutex wait+release (information: the old line)
alternate - acquire 500 "$out" - mutex 5000 0
report B2-acquire-mutex - "acquire+release (1 TCP port, $out+)" "named mutex wait+release"
# inside the kernel's range: /proc/net/tcp and tcp6 are read (information)
alternate - acquire 20 "$in" ws2_32=b sockbind 500 "$in"
report B2-acquire-kernel-range - "acquire+release (1 TCP port, $in+)" "builtin socket+bind+closesocket"
fi

# B6: one-port acquires
# while another process acquires and releases
# 1000-port specific blocks in a loop (helper "MODE K", ARG), against the
# same beside an idle one, alternated
b6() {
    for i in $(seq 1 "$runs"); do
        start_helper idle 600 && timed - acquire 300 "$out" >>"$tmp/baseline"
        stop_helper
        start_helper "$1" "$2" && timed - acquire 300 "$out" >>"$tmp/subject"
        stop_helper
    done
}
if want B6; then
b6 "bigloop 1000000 tcp" 30000
report B6-lock-hold 2 "acquire+release (1 port), 1000-port TCP blocks in a loop beside" "the same, idle process beside"
b6 "bigloop 1000000 udp" 40000
report B6-lock-hold-udp - "acquire+release (1 port), 1000-port UDP blocks in a loop beside" "the same, idle process beside"
# control: the same wineserver load as B6's TCP loop (its test binds), no
# reservation and no pool lock: what two cores and one wineserver cost
b6 "testbinds 1000000" 30000
report B6-lock-hold-control - "acquire+release (1 port), B6's test binds in a loop beside, no locks" "the same, idle process beside"
fi

# B7: specific acquire+release of 1000 ports, absolute
if want B7; then
for i in $(seq 1 "$runs"); do timed - block 5 udp 40000 >>"$tmp/subject"; done
report_abs B7-bigblock-udp 10000 "1000 UDP ports 40000-40999"
for i in $(seq 1 "$runs"); do timed - block 2 tcp 30000 >>"$tmp/subject"; done
report_abs B7-bigblock-tcp - "1000 TCP ports 30000-30999, below the kernel's range"
for i in $(seq 1 "$runs"); do timed - block 2 tcp 40000 >>"$tmp/subject"; done
report_abs B7-bigblock-tcp-kernel-range - "1000 TCP ports 40000-40999, inside the kernel's range"
fi

# B9: 1000 UDP reservations whose sockets are closed with CloseHandle: the
# time until all have ended (the last-handle watch, no count limit)
if want B9; then
for i in $(seq 1 "$runs"); do timed - closehandle 1000 62000 >>"$tmp/subject"; done
report_abs B9-closehandle 1000000 "CloseHandle of 1000 sockets, each holding 1 UDP port of 62000-62999, until all have ended"
fi
# B3: create+lookup+delete with 1000 other persistent reservations, and with none
if want B3; then
for i in $(seq 1 "$runs"); do timed - persistent 20 >>"$tmp/baseline"; done
WINEDLLOVERRIDES= timeout 600 wine bench.exe fill 1000 >/dev/null 2>&1
for i in $(seq 1 "$runs"); do timed - persistent 20 >>"$tmp/subject"; done
WINEDLLOVERRIDES= timeout 600 wine bench.exe clear 1000 >/dev/null 2>&1
report B3-persistent 1.5 "create+lookup+delete, 1000 others" "the same, none"
# B3's absolute cost: one port inside the kernel's range (/proc/net/tcp and
# tcp6 read) and outside it
for i in $(seq 1 "$runs"); do timed - persistent 20 "$in" >>"$tmp/subject"; done
report_abs B3-persistent-abs - "create+lookup+delete (1 TCP port, $in+)"
for i in $(seq 1 "$runs"); do timed - persistent 20 "$out" >>"$tmp/subject"; done
report_abs B3-persistent-abs-out - "create+lookup+delete (1 TCP port, $out+)"

# B3-journal: the cost of the journal: create+lookup+delete with
# it, and with PORTRES_JOURNAL=off (no journal: not durable, for this
# comparison only)
for i in $(seq 1 "$runs"); do
    timed - persistent 20 >>"$tmp/subject"
    export PORTRES_JOURNAL=off
    timed - persistent 20 >>"$tmp/baseline"
    unset PORTRES_JOURNAL
done
report B3-journal - "create+lookup+delete, journal" "the same, PORTRES_JOURNAL=off"
fi

# B1 and B5 after B2, B6, B7, B9 and B3: the builtin's connects leave
# TIME_WAIT connections on ports the kernel chose, and portres's (above the
# kernel's range, while reserved ports lie in it) closing ones, which the
# acquires and creates of those benchmarks would meet for a minute
# B1: bind+closesocket through portres against the builtin
if want B1; then
alternate - bind 3000 ws2_32=b bind 3000
report B1-bind 1.05 "portres" "builtin ws2_32"
fi

if want B1 B5 && start_helper hold 100; then
    alternate - bind 3000 ws2_32=b bind 3000
    report B1-bind-busy 1.20 "portres, 100 runtime reservations live" "builtin ws2_32"
    # B5 with the same 100 reservations
    alternate - connect 1000 ws2_32=b connect 1000
    report B5-connect 1.20 "portres connect, 100 reservations live" "builtin ws2_32 connect"
fi
stop_helper

# the same two with the 100 reservations inside the kernel's ephemeral port
# range, where portres must pick the ports of port-0 and implicit binds itself
if want B1 B5 && start_helper holdlow 100; then
    alternate - bind 3000 ws2_32=b bind 3000
    report B1-bind-busy-kernel-range 1.20 "portres, 100 reservations in 33000-33999" "builtin ws2_32"
    alternate - connect 1000 ws2_32=b connect 1000
    report B5-connect-kernel-range 1.20 "portres connect, 100 reservations in 33000-33999" "builtin ws2_32 connect"
    # and once the kernel reserves them itself (wine-portres sync-kernel, root)
    if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/net/ipv4/ip_local_reserved_ports ]; then
        saved=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)
        "$PORTRES_TOP/tools/wine-portres" sync-kernel >/dev/null 2>&1
        alternate - connect 1000 ws2_32=b connect 1000
        report B5-connect-kernel-range-synced 1.20 "portres connect, the same after sync-kernel" "builtin ws2_32 connect"
        echo "$saved" >/proc/sys/net/ipv4/ip_local_reserved_ports
        rm -f "$WINEPREFIX/portres-kernel-ports"
    fi
fi
stop_helper

# B4: wildcard acquire of 100 ports with 2000 sockets bound, and with 10
want B4 || exit 0
if start_helper sockets 10; then
    for i in $(seq 1 "$runs"); do timed - wildcard 50 >>"$tmp/baseline"; done
fi
stop_helper
if start_helper sockets 2000; then
    for i in $(seq 1 "$runs"); do timed - wildcard 50 >>"$tmp/subject"; done
fi
stop_helper
report B4-wildcard 2 "wildcard 100 ports, 2000 sockets bound" "the same, 10 bound"
