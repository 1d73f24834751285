#!/bin/sh
# crosswine.sh - the host view across Wine versions (behaviour §6): a
# prefix of the host's Wine (A, 8.0) and one of Wine 10.0 (B, made in the
# trixie environment of envs.sh), run by one user with one runtime folder
# and one loopback, keep each other out of their blocks
#
#   WINEPREFIX=<prefix with portres installed> sh tests/envs/crosswine.sh
#
# B holds a runtime TCP and UDP block: A's acquires fail WSAEADDRINUSE, its
# explicit binds WSAEACCES, and A's show lists the block with B's path;
# B's holder ends: A acquires the block.  Then A holds one: B's acquires
# and binds fail the same way; and A's persistent block (made through the
# API), while A's holder runs, fails B's create over it and B's explicit
# bind into it.  tests/run-all runs it after the
# environments' own suites (envs.sh runs one command per environment at a
# time), in a network namespace of its own where envs.sh can isolate.
# Ports 49000-49024 only.  Prints a Wine-style summary line; exits
# non-zero on failure.
#
#   sh tests/envs/crosswine.sh inside DIR   (in the environment: B's part,
#                                            DIR the shared runtime folder)
set -u
. "$(dirname "$0")/../scripts/lib.sh"
exe64="$top/tests/conformance/x86_64-windows/crossprocess.exe"
envsh="$top/tests/envs/envs.sh"
env=trixie

# --- B's part, in the environment -----------------------------------------
# Steps are lines of the shared file steps: the host writes a-done when it
# has checked B's block, a-held when it holds its own; B writes each step
# of making its prefix with its exit code and time, then b-made.
if [ "${1:-}" = inside ]; then
    R=$2
    echo "b-started" >>"$R/steps"
    WINEPREFIX=/tmp/prefix-b
    PORTRES_RUNTIME_DIR=$R
    export PORTRES_RUNTIME_DIR
    need_prefix
    make_tmp
    # setup_step NAME CMD...: CMD, its output in b-setup.out, "b-NAME exit
    # N in S s" in steps
    setup_step() {
        s_name=$1; s_start=$(date +%s); shift
        "$@" >>"$R/b-setup.out" 2>&1
        s_rc=$?
        echo "b-$s_name exit $s_rc in $(( $(date +%s) - s_start )) s" >>"$R/steps"
        return $s_rc
    }
    setup_step wineboot timeout 300 "$WINE" wineboot -i &&
        setup_step wineserver-w timeout 60 wineserver -w &&
        setup_step install timeout 300 "$top/tools/wine-portres" install ||
        { echo "B could not be made (wineboot, install): $(tr '\n' ' ' <"$R/steps")"; exit 1; }
    echo "b-made" >>"$R/steps"
    bg "$WINE" "$exe64" child hold 49000 10 120 >"$R/b-hold.out" 2>&1
    wait_for '^a-done' "$R/steps" 180 || exit 1
    for k in $(prefix_pids 'crossprocess.exe child hold'); do kill -9 "$k" 2>/dev/null; done
    echo b-released >>"$R/steps"
    wait_for '^a-held' "$R/steps" 180 || exit 1
    for m in busy denied; do
        timeout 60 "$WINE" "$exe64" child $m 49010 >"$R/b-$m.out" 2>&1
        echo "$m $?" >>"$R/b-results"
    done
    echo b-done >>"$R/steps"
    wait_for '^a-persistent' "$R/steps" 180 || exit 1
    # traced: shown only when the check fails
    WINEDEBUG=trace+portres timeout 60 "$WINE" "$exe64" child pcreate 49020 32 >"$R/b-pcreate.out" 2>&1
    echo "pcreate $?" >>"$R/b-results"
    timeout 60 "$WINE" "$exe64" child denied 49020 >"$R/b-denied2.out" 2>&1
    echo "denied2 $?" >>"$R/b-results"
    echo b-done2 >>"$R/steps"
    timeout 60 wineserver -k
    exit 0
fi

# --- A's part, on the host --------------------------------------------------
need_prefix
if [ -z "${PORTRES_CROSS_NETNS:-}" ] && "$envsh" can-isolate >/dev/null 2>&1; then
    PORTRES_CROSS_NETNS=1 exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh sh "$0"
fi
make_tmp
R="$tmp/run"
mkdir -m 700 "$R"
: >"$R/steps"
PORTRES_RUNTIME_DIR=$R
export PORTRES_RUNTIME_DIR
portres_exe="$top/tools/portres/x86_64-windows/portres.exe"

cleanup() {
    timeout 60 "$WINE" "$exe64" child pdelete 49020 >/dev/null 2>&1
    # the host helper both prefixes shared (design.md)
    [ -f "$R/helper" ] && kill "$(cut -d' ' -f3 "$R/helper")" 2>/dev/null
    timeout 60 wineserver -k 2>/dev/null
}

# b_result NAME MESSAGE FILE: B's check NAME (its line in b-results) passed
b_result() {
    grep -qx "$1 0" "$R/b-results" 2>/dev/null
    check $? "$2" "$3"
}

# where B is, for a failed wait: the steps written so far, the time since
# A started B, the last lines of envs.sh run, B's setup and B's holder
b_state() {
    { echo "after $(( $(date +%s) - a_start )) s; steps: $(tr '\n' ' ' <"$R/steps")"
      [ -s "$tmp/inside.out" ] && { echo "envs.sh run:"; tail -n 8 "$tmp/inside.out"; }
      [ -s "$R/b-setup.out" ] && { echo "B's setup (last lines):"; tail -n 8 "$R/b-setup.out"; }
      [ -s "$R/b-hold.out" ] && { echo "B's holder:"; tail -n 8 "$R/b-hold.out"; }
    } >"$tmp/b-state" 2>&1
    echo "$tmp/b-state"
}

run_a() {
    timeout 60 "$WINE" "$exe64" child "$1" "$2" >"$tmp/a-$1.out" 2>&1
    rc=$?
}

[ -f "$exe64" ] || { check 1 "$exe64 is not built"; summary; }
ver=$("$envsh" wine-version $env 2>/dev/null) || { check 1 "env $env is not made"; summary; }
ver=$(echo "$ver" | sed -n 's/^wine-\([^ ]*\).*/Wine \1/p')
echo "crosswine.sh: A: $("$WINE" --version 2>/dev/null) on the host; B: $ver in env $env"
wineserver -k 2>/dev/null   # A's server starts again with this runtime folder
a_start=$(date +%s)
bg env PORTRES_ENVS_SHARE="$R" PORTRES_ENVS_NET=caller "$envsh" run $env \
    sh "$top/tests/envs/crosswine.sh" inside "$R" >"$tmp/inside.out" 2>&1
inside=$bg_pid

# B's prefix made (its time is Wine's, not portres's: waited for apart)
wait_for '^b-made' "$R/steps" 700 $inside
check $? "B's prefix ($ver) was not made" "$(b_state)"
echo "crosswine.sh: B's prefix made: $(grep '^b-[a-z-]* exit' "$R/steps" | tr '\n' ' ')"

# 1. B's block (Wine 10.0) keeps A (this Wine) out
wait_for '^held' "$R/b-hold.out" 60 $inside
check $? "B ($ver): child hold 49000 did not print \"held\"" "$(b_state)"
run_a busy 49000
check $rc "A acquired B's blocks at 49000 ($ver)" "$tmp/a-busy.out"
run_a denied 49000
check $rc "A's explicit bind into B's blocks at 49000 ($ver) did not fail WSAEACCES" "$tmp/a-denied.out"
timeout 60 "$WINE" "$portres_exe" int ipv4 show excludedportrange protocol=tcp 2>&1 | tr -d '\r' >"$tmp/show"
grep -A100 'other prefixes' "$tmp/show" | grep -E '^ +49000 +49009 .*/tmp/prefix-b$' >/dev/null
check $? "A's show excludedportrange does not list B's 49000-49009 with B's path" "$tmp/show"
echo a-done >>"$R/steps"

# 2. B's holder ended: A acquires the block
wait_for '^b-released' "$R/steps" 60 $inside
check $? "B did not end its holder" "$(b_state)"
run_a check 49000
check $rc "B's holder ended: A could not acquire 49000" "$tmp/a-check.out"

# 3. A's block keeps B out
bg "$WINE" "$exe64" child hold 49010 10 120 >"$tmp/a-hold.out" 2>&1
wait_for '^held' "$tmp/a-hold.out" 30 "$bg_pid"
check $? "A: child hold 49010 did not print \"held\"" "$tmp/a-hold.out"
echo a-held >>"$R/steps"
wait_for '^b-done' "$R/steps" 120 $inside
check $? "B did not finish its checks" "$(b_state)"
b_result busy "B ($ver) acquired A's blocks at 49010" "$R/b-busy.out"
b_result denied "B's ($ver) explicit bind into A's blocks at 49010 did not fail WSAEACCES" "$R/b-denied.out"

# 4. A's persistent block, while a program of A runs (A's holder of 3):
# B's create over it and B's explicit bind into it fail.  Only while one
# runs (behaviour §6): Debian starts the wineserver with -p0, so it ends,
# and winedevice.exe with it, a second or so after the prefix's last
# program (measured in a fresh chroot: B's checks then passed or failed
# by that race)
run_a pcreate 49020
check $rc "A: persistent create of 49020 failed" "$tmp/a-pcreate.out"
echo a-persistent >>"$R/steps"
wait_for '^b-done2' "$R/steps" 120 $inside
check $? "B did not finish its checks of A's persistent block" "$(b_state)"
b_result pcreate "B's ($ver) persistent create over A's at 49020 did not fail ERROR_SHARING_VIOLATION" "$R/b-pcreate.out"
b_result denied2 "B's ($ver) explicit bind into A's persistent block at 49020 did not fail WSAEACCES" "$R/b-denied2.out"
for k in $(prefix_pids 'crossprocess.exe child hold'); do kill -9 "$k" 2>/dev/null; done
timeout 60 "$WINE" "$exe64" child pdelete 49020 0 >"$tmp/a-pdelete.out" 2>&1
check $? "A: persistent delete of 49020 failed" "$tmp/a-pdelete.out"

bg_wait $inside
check $? "B's part in env $env failed" "$tmp/inside.out"
summary
