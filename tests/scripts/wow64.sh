#!/bin/sh
# wow64.sh - 32-bit and 64-bit processes share one prefix's reservations
#
#   WINEPREFIX=... PORTRES_TOP=... sh tests/scripts/wow64.sh
#
# With the i386 and x86_64 builds of crossprocess.exe (child modes hold,
# busy, denied, check, pcreate, plookup, pdelete): a block held by one
# architecture cannot be acquired by the other (WSAEADDRINUSE) nor bound
# into explicitly (WSAEACCES), each way; persistent reservations made by
# one are found by the other with the same tokens; a 32-bit holder killed
# with SIGKILL gives its blocks back to a 64-bit process.  Skipped (1
# skipped) where 32-bit programs cannot run.  Ports 47500-47599 only.
# Prints a Wine-style summary line; exits non-zero on failure.
set -u
. "$(dirname "$0")/lib.sh"
need_prefix
exe64="$top/tests/conformance/x86_64-windows/crossprocess.exe"
exe32="$top/tests/conformance/i386-windows/crossprocess.exe"
make_tmp
persist=   # "ARCH PORT" of persistent blocks still to delete

cleanup() {
    for p in $(wine_pids); do bg_kill "$p"; done
    echo "$persist" | while read -r a p; do
        [ -n "$p" ] && timeout 60 "$WINE" "$(exe "$a")" child pdelete "$p" 0 >/dev/null 2>&1
    done
}

exe() { if [ "$1" = 32 ]; then echo "$exe32"; else echo "$exe64"; fi; }

# child ARCH MODE PORT [ARG]: crossprocess.exe of ARCH (32 or 64); output
# in $tmp/ARCH-MODE.out, exit code (its failure count) in $rc
child() {
    a=$1; shift
    timeout 60 "$WINE" "$(exe "$a")" child "$@" >"$tmp/$a-$1.out" 2>&1
    rc=$?
}

# the Linux pids of this prefix's "crossprocess.exe child hold" processes [of PORT]
wine_pids() { prefix_pids "crossprocess.exe child hold ${1:-}"; }

# hold ARCH PORT: "child hold PORT" in the background until it says "held" (20 s)
hold() {
    out="$tmp/$1-hold-$2.out"
    bg "$WINE" "$(exe "$1")" child hold "$2" >"$out" 2>&1
    wait_for '^held' "$out" 20 "$bg_pid"
}

[ -f "$exe64" ] || { check 1 "$exe64 is not built"; summary; }
# can 32-bit programs run here?  (a 1-port-free check, nothing held)
if [ ! -f "$exe32" ]; then
    skip "$exe32 is not built"
    summary
fi
timeout 120 "$WINE" "$exe32" child plookup 47590 >"$tmp/probe.out" 2>&1
if ! grep -q '^tokens ' "$tmp/probe.out"; then
    skip "32-bit programs do not run under this Wine (wine32:i386 missing?): $(said "$tmp/probe.out")"
    summary
fi

p32=47500   # held by a 32-bit process
p64=47520   # held by a 64-bit process
pp32=47540  # persistent, made by a 32-bit process
pp64=47550  # persistent, made by a 64-bit process

# --- 1. runtime blocks, each way -------------------------------------------
hold 32 $p32
check $? "32-bit child hold $p32 did not print \"held\" within 20 s" "$tmp/32-hold-$p32.out"
hold 64 $p64
check $? "64-bit child hold $p64 did not print \"held\" within 20 s" "$tmp/64-hold-$p64.out"

child 64 busy $p32
check $rc "a 64-bit process acquired the blocks a 32-bit one holds at $p32" "$tmp/64-busy.out"
child 32 busy $p64
check $rc "a 32-bit process acquired the blocks a 64-bit one holds at $p64" "$tmp/32-busy.out"
child 64 denied $p32
check $rc "a 64-bit explicit bind into the 32-bit block at $p32 did not fail WSAEACCES" "$tmp/64-denied.out"
child 32 denied $p64
check $rc "a 32-bit explicit bind into the 64-bit block at $p64 did not fail WSAEACCES" "$tmp/32-denied.out"

# --- 2. SIGKILL of the 32-bit holder: a 64-bit process gets the blocks -------
pid=$(wine_pids "$p32")
check $([ -n "$pid" ]; echo $?) "no Linux process found for the 32-bit holder of $p32"
[ -n "$pid" ] && kill -9 $pid
i=0
while [ $i -lt 50 ] && [ -n "$(wine_pids "$p32")" ]; do nap; i=$((i + 1)); done
child 64 check $p32
check $rc "after SIGKILL of the 32-bit holder, a 64-bit process cannot acquire $p32" "$tmp/64-check.out"
# the 64-bit holder is untouched
child 32 busy $p64
check $rc "after the SIGKILL, the 64-bit block at $p64 is no longer held" "$tmp/32-busy.out"
for p in $(wine_pids "$p64"); do bg_kill "$p"; done

# --- 3. persistent reservations, each way ----------------------------------
child 32 pcreate $pp32
check $rc "32-bit pcreate $pp32" "$tmp/32-pcreate.out"
[ $rc -eq 0 ] && persist="32 $pp32"
made=$(grep '^tokens ' "$tmp/32-pcreate.out" | tr -d '\r')
child 64 plookup $pp32
found=$(grep '^tokens ' "$tmp/64-plookup.out" | tr -d '\r')
check $([ $rc -eq 0 ] && [ -n "$made" ] && [ "$made" = "$found" ]; echo $?) \
    "64-bit lookup of the 32-bit persistent blocks at $pp32: made '$made', found '$found'" "$tmp/64-plookup.out"

child 64 pcreate $pp64
check $rc "64-bit pcreate $pp64" "$tmp/64-pcreate.out"
[ $rc -eq 0 ] && persist="$persist
64 $pp64"
made=$(grep '^tokens ' "$tmp/64-pcreate.out" | tr -d '\r')
child 32 plookup $pp64
found=$(grep '^tokens ' "$tmp/32-plookup.out" | tr -d '\r')
check $([ $rc -eq 0 ] && [ -n "$made" ] && [ "$made" = "$found" ]; echo $?) \
    "32-bit lookup of the 64-bit persistent blocks at $pp64: made '$made', found '$found'" "$tmp/32-plookup.out"

# each deletes the other's; then they are gone for both
child 64 pdelete $pp32 0
check $rc "64-bit delete of the 32-bit persistent blocks at $pp32" "$tmp/64-pdelete.out"
child 32 pdelete $pp64 0
check $rc "32-bit delete of the 64-bit persistent blocks at $pp64" "$tmp/32-pdelete.out"
persist=
child 32 pdelete $pp32 1168
check $rc "the blocks at $pp32 are still there for a 32-bit process after the delete" "$tmp/32-pdelete.out"

summary
