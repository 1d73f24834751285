#!/bin/sh
# hostwide.sh - a reservation holds in every prefix of the user (behaviour
# §6, the host view): three prefixes, the run's (A) and two made here (B,
# C), sharing the runtime folder of the run
#
#   WINEPREFIX=<prefix with portres installed> sh tests/scripts/hostwide.sh
#
# With crossprocess.exe's child modes: a runtime block held in B cannot be
# acquired in A or C (TCP, UDP, IPv4, IPv6; 64- and 32-bit) nor bound into
# explicitly (WSAEACCES); 1000 implicit binds in A never land in a
# 1000-port block B holds where the kernel picks ports; portres.exe show in
# A lists B's block with B's path; a persistent block of A keeps B's
# acquire and persistent create out; SIGKILL of B's holder and of B's
# wineserver frees the block for A at once; per kind (behaviour §4), an
# explicit bind into a persistent block made through the API fails
# WSAEACCES in every prefix, one into an administered exclusion (netsh)
# succeeds, and acquires over either fail; a damaged or truncated file is
# made anew and B's holder writes its block again within a second or two;
# PORTRES_HOSTWIDE=off and the registry value HostWide=off isolate a
# prefix again.  Ports 49000-49199, a 1000-port block of 33000-38999 and
# a 10-port block of 64500-64909 only.  Prints a
# Wine-style summary line; exits non-zero on failure.
set -u
. "$(dirname "$0")/lib.sh"
need_prefix
exe64="$top/tests/conformance/x86_64-windows/crossprocess.exe"
exe32="$top/tests/conformance/i386-windows/crossprocess.exe"
portres_exe="$top/tools/portres/x86_64-windows/portres.exe"
make_tmp
A=$WINEPREFIX
B="$tmp/prefix-b"
C="$tmp/prefix-c"
: "${PORTRES_RUNTIME_DIR:=$tmp/run}"
export PORTRES_RUNTIME_DIR
hostfile="$PORTRES_RUNTIME_DIR/host-1"
key='HKLM\Software\Wine\Portres'

cleanup() {
    for p in $B $C; do
        for k in $(WINEPREFIX=$p; prefix_pids 'crossprocess.exe'); do kill -9 "$k" 2>/dev/null; done
        [ -d "$p" ] && WINEPREFIX=$p timeout 60 wineserver -k 2>/dev/null
    done
    timeout 60 "$WINE" "$exe64" child pdelete 49100 0 >/dev/null 2>&1
    for p in tcp udp; do
        timeout 60 "$WINE" "$portres_exe" int ipv4 delete excludedportrange protocol=$p startport=49150 numberofports=5 \
            >/dev/null 2>&1
    done
}

# run_in PREFIX MODE PORT [ARG] [ARCH]: crossprocess.exe child MODE in
# PREFIX, with the environment's $xenv too (VAR=VALUE or empty); output in
# $tmp/MODE.out, exit code (its failure count) in $rc
xenv=
run_in() {
    p=$1; m=$2; port=$3; arg=${4:-}; e=$exe64
    [ "${5:-64}" = 32 ] && e=$exe32
    env WINEPREFIX="$p" $xenv timeout 60 "$WINE" "$e" child "$m" "$port" $arg >"$tmp/$m.out" 2>&1
    rc=$?
    # a Wine process that died before its start (start.exe: "Internal
    # error"; seen under load, before any DLL of portres ran) is started again
    if grep -q 'ShellExecuteEx failed: Internal error' "$tmp/$m.out"; then
        echo "hostwide.sh: $m in $p did not start, started again" >&2
        env WINEPREFIX="$p" $xenv timeout 60 "$WINE" "$e" child "$m" "$port" $arg >"$tmp/$m.out" 2>&1
        rc=$?
    fi
}

# implicit_in PREFIX PORT COUNT: run_in PREFIX implicit, with portres's
# traces; $tmp/implicit.diag keeps the test's failures, the host view's
# trace lines and how many binds portres made itself, for a failure's report
implicit_in() {
    xenv=WINEDEBUG=trace+portres
    run_in "$1" implicit "$2" "$3"
    xenv=
    { grep -a 'Test failed' "$tmp/implicit.out"
      grep -a 'host view\|has ended\|slot [0-9]' "$tmp/implicit.out" | head -n 20
      echo "binds portres made outside the reservations: $(grep -ac 'outside the reservations' "$tmp/implicit.out")"
    } >"$tmp/implicit.diag"
}

# hold PREFIX PORT [COUNT]: "child hold" in the background until "held" (20 s);
# its status in $rc and returned ("not held": a port of the block is in
# use, as the host helper's own UDP port in the kernel's range can be)
hold() {
    out="$tmp/hold-$(basename "$1")-$2.out"
    bg env WINEPREFIX="$1" "$WINE" "$exe64" child hold "$2" ${3:-} >"$out" 2>&1
    wait_for '^held' "$out" 20 "$bg_pid"
    rc=$?
    held_out=$out
    return $rc
}

# unhold PREFIX: SIGKILL the prefix's holders
unhold() {
    for k in $(WINEPREFIX=$1; prefix_pids 'crossprocess.exe child hold'); do kill -9 "$k" 2>/dev/null; done
    nap
}

[ -f "$exe64" ] || { check 1 "$exe64 is not built"; summary; }

# --- B and C: two more prefixes of this user ---------------------------------
# made PREFIX: a program runs there (seen once under load: a prefix whose
# every program failed "could not load kernel32.dll", before portres ran)
made() {
    WINEPREFIX=$1 timeout 60 "$WINE" "$portres_exe" --version 2>&1 | grep -q '^portres.exe '
}
make_prefix() {
    WINEPREFIX=$1 timeout 300 "$WINE" wineboot -i >"$1.boot" 2>&1; WINEPREFIX=$1 timeout 60 wineserver -w
    WINEPREFIX=$1 timeout 300 "$top/tools/wine-portres" install >"$1.install" 2>&1
}
for p in "$B" "$C"; do
    make_prefix "$p" &
done
wait
for p in "$B" "$C"; do
    if ! made "$p"; then
        # once more from scratch, said in the log (Wine's, not portres's)
        echo "hostwide.sh: prefix $p does not run a program: made again ($(said "$p.boot"))"
        WINEPREFIX=$p timeout 60 wineserver -k 2>/dev/null
        rm -rf "$p"
        make_prefix "$p"
    fi
    made "$p"
    check $? "prefix $p was not made (no program runs there)" "$p.install"
done

# --- 1. a runtime block of B, in A and C ---------------------------------------
hold "$B" 49000
check $rc "B: child hold 49000 did not print \"held\"" "$held_out"
run_in "$A" busy 49000
check $rc "A acquired B's blocks at 49000 (IPv4)" "$tmp/busy.out"
run_in "$A" busy6 49000
check $rc "A acquired B's blocks at 49000 (IPv6)" "$tmp/busy6.out"
run_in "$A" denied 49000
check $rc "A's explicit bind into B's blocks at 49000 did not fail WSAEACCES (IPv4)" "$tmp/denied.out"
run_in "$A" denied6 49000
check $rc "A's explicit bind into B's blocks at 49000 did not fail WSAEACCES (IPv6)" "$tmp/denied6.out"
run_in "$C" busy 49000
check $rc "C (a third prefix) acquired B's blocks at 49000" "$tmp/busy.out"
run_in "$C" denied 49000
check $rc "C's explicit bind into B's blocks did not fail WSAEACCES" "$tmp/denied.out"
if [ -f "$exe32" ] && { WINEPREFIX=$A timeout 120 "$WINE" "$exe32" child plookup 49190 >"$tmp/probe32.out" 2>&1
                        grep -q '^tokens ' "$tmp/probe32.out"; }; then
    run_in "$A" busy 49000 "" 32
    check $rc "a 32-bit process of A acquired B's blocks at 49000" "$tmp/busy.out"
    run_in "$A" denied 49000 "" 32
    check $rc "a 32-bit explicit bind in A into B's blocks did not fail WSAEACCES" "$tmp/denied.out"
else
    skip "32-bit programs do not run under this Wine: $(said "$tmp/probe32.out")"
fi

# --- 2. show lists B's block, with B's path ------------------------------------
WINEPREFIX=$A timeout 60 "$WINE" "$portres_exe" int ipv4 show excludedportrange protocol=tcp 2>&1 | tr -d '\r' >"$tmp/show"
grep -A100 'other prefixes' "$tmp/show" | grep -E "^ +49000 +49009 .*$B\$" >/dev/null
check $? "A's show excludedportrange does not list B's 49000-49009 with B's path" "$tmp/show"

# --- 3. the off switch: PORTRES_HOSTWIDE=off, and HostWide=off in C ------------
xenv=PORTRES_HOSTWIDE=off
run_in "$A" bindok 49000
xenv=
check $rc "with PORTRES_HOSTWIDE=off, A's bind into B's block failed" "$tmp/bindok.out"
WINEPREFIX=$C timeout 60 "$WINE" reg add "$key" /v HostWide /d off /f /reg:64 >/dev/null 2>&1
run_in "$C" bindok 49000
check $rc "with HostWide=off in C's registry, C's bind into B's block failed" "$tmp/bindok.out"
WINEPREFIX=$C timeout 60 "$WINE" reg delete "$key" /v HostWide /f /reg:64 >/dev/null 2>&1
run_in "$C" denied 49000
check $rc "HostWide deleted again: C's bind into B's block did not fail WSAEACCES" "$tmp/denied.out"

# --- 4. SIGKILL of B's holder frees the block at once --------------------------
unhold "$B"
run_in "$A" check 49000
check $rc "B's holder killed with SIGKILL: A could not acquire 49000" "$tmp/check.out"

# --- 5. 1000 implicit binds in A stay out of a 1000-port block of B ------------
# (the first 1000-port block free for TCP and UDP of 33000-38999)
for big in 34000 36000 38000 33000 35000 37000 none; do
    [ $big = none ] && break
    hold "$B" $big 1000 && break
done
check $([ $big != none ]; echo $?) "B: no 1000-port block of 33000-38999 could be held" "$held_out"
if [ $big != none ]; then
    implicit_in "$A" $big 1000
    check $rc "implicit binds in A took ports of B's block $big-$((big + 999))" "$tmp/implicit.diag"
    # again while A holds a block of its own above the kernel's range
    # (its live count once kept the bind path from reading the host view)
    for own in 64500 64700 64900 none; do
        [ $own = none ] && break
        hold "$A" $own && break
    done
    check $([ $own != none ]; echo $?) "A: no block of its own could be held above the kernel's range" "$held_out"
    if [ $own != none ]; then
        implicit_in "$A" $big 1000
        check $rc "implicit binds in A, which holds $own+10, took ports of B's block $big-$((big + 999))" \
            "$tmp/implicit.diag"
        unhold "$A"
    fi
    unhold "$B"
fi

# --- 6. a persistent block of A keeps B out ------------------------------------
# (while a process of A that loaded portres runs: under Wine 8.0 its
# winedevice.exe is one only until Debian's wineserver, started with -p0,
# ends after the last program; under Wine 10.0 none is; behaviour §6)
hold "$A" 49180
check $rc "A: child hold 49180 did not print \"held\"" "$held_out"
run_in "$A" pcreate 49100
check $rc "A: persistent create of 49100 failed" "$tmp/pcreate.out"
run_in "$A" denied 49100
check $rc "A's explicit bind into its own persistent block (made through the API) did not fail WSAEACCES" "$tmp/denied.out"
run_in "$B" denied 49100
check $rc "B's explicit bind into A's persistent block (made through the API) did not fail WSAEACCES" "$tmp/denied.out"
run_in "$B" busy 49100
check $rc "B acquired over A's persistent block at 49100" "$tmp/busy.out"
run_in "$B" pcreate 49100 32
check $rc "B's persistent create over A's at 49100 did not fail ERROR_SHARING_VIOLATION" "$tmp/pcreate.out"
run_in "$A" pdelete 49100 0
check $rc "A: persistent delete of 49100 failed" "$tmp/pdelete.out"
run_in "$B" check 49100
check $rc "A's persistent block deleted: B could not acquire 49100" "$tmp/check.out"

# --- 6b. an administered exclusion (netsh add excludedportrange): binds
# may take its ports, in its prefix and in the others; acquires may not
# (A's holder of 6 still runs: an exclusion is a persistent block too)
for p in tcp udp; do
    WINEPREFIX=$A timeout 60 "$WINE" "$portres_exe" int ipv4 add excludedportrange protocol=$p startport=49150 \
        numberofports=5 >"$tmp/add.out" 2>&1
    check $? "A: netsh add excludedportrange $p 49150 5 failed" "$tmp/add.out"
done
run_in "$A" bindok 49150
check $rc "A's explicit bind into its own administered exclusion failed" "$tmp/bindok.out"
run_in "$A" busy 49150
check $rc "A acquired over its own administered exclusion at 49150" "$tmp/busy.out"
run_in "$B" bindok 49150
check $rc "B's explicit bind into A's administered exclusion failed" "$tmp/bindok.out"
run_in "$B" busy 49150
check $rc "B acquired over A's administered exclusion at 49150" "$tmp/busy.out"
for p in tcp udp; do
    WINEPREFIX=$A timeout 60 "$WINE" "$portres_exe" int ipv4 delete excludedportrange protocol=$p startport=49150 \
        numberofports=5 >"$tmp/delete.out" 2>&1
    check $? "A: netsh delete excludedportrange $p 49150 5 failed" "$tmp/delete.out"
done
unhold "$A"

# --- 7. a damaged, then a truncated file: made anew, B's block written again ---
for damage in damaged truncated; do
    hold "$B" 49000
    check $rc "B: child hold 49000 did not print \"held\" ($damage)" "$held_out"
    if [ $damage = damaged ]; then
        printf 'not a header at all, not a header at all' | dd of="$hostfile" conv=notrunc 2>/dev/null
    else
        : >"$hostfile"
    fi
    run_in "$A" check 49100   # A notices and makes the file anew
    sleep 2               # B's socket watcher looks at its slot every second
    run_in "$A" busy 49000
    check $rc "the host view's file $damage: B's block at 49000 was not written again" "$tmp/busy.out"
    unhold "$B"
done

# --- 8. SIGKILL of B's wineserver frees the block ------------------------------
hold "$B" 49000
check $rc "B: child hold 49000 did not print \"held\" (wineserver)" "$held_out"
run_in "$A" busy 49000
check $rc "A acquired B's blocks at 49000 (before B's wineserver is killed)" "$tmp/busy.out"
for k in $(WINEPREFIX=$B; prefix_pids wineserver); do kill -9 "$k" 2>/dev/null; done
nap
run_in "$A" check 49000
check $rc "B's wineserver killed with SIGKILL: A could not acquire 49000" "$tmp/check.out"
(WINEPREFIX=$B; end_prefix_clients)

summary
