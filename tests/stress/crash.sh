#!/bin/sh
# crash.sh - SIGKILL processes that hold reservations or are inside the
# pool's lock, at random moments, while a survivor keeps working
#
#   WINEPREFIX=... PORTRES_TOP=... tests/stress/crash.sh [ROUNDS]
#
# Each round starts a stress worker cycling acquire/associate/bind/release
# on 47000-47099, kills it with SIGKILL after a random 0.3-1.0 s, and goes
# on.  A survivor worker runs through all rounds and must see no violation
# and never hang; at the end `stress check` must reclaim every block of the
# dead and find the pool empty.  Prints the figures and a Wine-style
# summary line.

set -u
. "$(dirname "$0")/../scripts/lib.sh"

rounds=${1:-${CRASH_ROUNDS:-100}}
exe="$top/tests/stress/x86_64-windows/stress.exe"
dir=$(dirname "$exe")
make_tmp
log=$tmp

random_ms() { echo $(( $(od -An -N2 -tu2 /dev/urandom) % 700 + 300 )); }

cd "$dir" || exit 2
start=$(date +%s)

# the survivor: warn+portres shows the repairs it made after abandoned locks
bg env WINEDEBUG=-all,warn+portres timeout 900 wine stress.exe worker 999 100000000 $((rounds / 2 + 5)) \
    >"$log/survivor.out" 2>"$log/survivor.err"
survivor=$bg_pid

killed=0
for i in $(seq 1 "$rounds"); do
    # env and wine exec the program in place: $bg_pid is the worker's own pid
    bg env WINEDEBUG=-all,warn+portres wine stress.exe worker "$i" 100000000 60 >"$log/w$i.out" 2>>"$log/victims.err"
    worker=$bg_pid
    ms=$(random_ms)
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -0 "$worker" 2>/dev/null && killed=$((killed + 1))
    bg_kill "$worker"
done

# the survivor stops at its own deadline (timeout bounds it)
bg_wait "$survivor"
survivor_rc=$?
cat "$log/survivor.out"
grep -q "worker 999: .* 0 violations" "$log/survivor.out"
check $? "the survivor reported violations or did not finish (exit $survivor_rc)"

repairs=$(cat "$log/survivor.err" "$log/victims.err" | grep -c "died holding the pool lock")
granted=$(grep -h "held\|worker" "$log"/w*.out 2>/dev/null | wc -l)

WINEDEBUG=-all timeout 120 wine stress.exe check >"$log/check.out" 2>&1
check $? "the pool was not empty after reclaiming the dead owners' blocks: $(tr '\n' ' ' <"$log/check.out")"
cat "$log/check.out"

echo "crash: $rounds rounds, $killed processes killed with SIGKILL, $repairs abandoned-lock repairs, $(( $(date +%s) - start )) s"
summary
