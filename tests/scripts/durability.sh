#!/bin/sh
# durability.sh - every acknowledged persistent change survives a SIGKILL
# of the wineserver: the journal of libs/portres/store.c
#
#   WINEPREFIX=... PORTRES_TOP=... sh tests/scripts/durability.sh [CYCLES]
#
# CYCLES (20) rounds of: start this prefix's wineserver (wineserver -p),
# check that the state of the round before is there exactly (no block
# lost, none resurrected, the TCP dynamic range), make one change (add a
# TCP or UDP exclusion, delete one, or set the TCP dynamic range) through
# `wine-portres netsh`, then SIGKILL the wineserver, found by its pid
# (the process whose working directory is this prefix's server
# directory), before it saves the registry.  Then the journal cases: a
# corrupt line, garbage and a truncated last line are skipped with a
# warn:portres line and block nothing; a hand delete made while Wine was
# stopped is not undone, a hand edit that conflicts with a newer journal
# line wins; a journal that cannot be written (a link to /dev/full) makes
# the change fail and changes nothing.  Ports 47000-47499 only.  Prints a
# Wine-style summary line; exits non-zero on failure.

set -u
. "$(dirname "$0")/lib.sh"

need_prefix
cycles=${1:-20}
wine_portres="$top/tools/wine-portres"
make_tmp
key="HKLM\\$(portres_name REGISTRY_TCP_KEY)"
udp_key="HKLM\\$(portres_name REGISTRY_UDP_KEY)"
journal_dir="$WINEPREFIX/drive_c/windows/$(portres_name JOURNAL_DIR)"
journal="$journal_dir/$(portres_name JOURNAL_FILE)"
lost=0
resurrected=0

# the wineserver of this prefix: the process (wineserver, or Debian's
# wineserver64) whose cwd is its server directory, ".../server-DEV-INODE"
# of the prefix (the parent directory varies: /tmp/.wine-UID, or
# Debian's /tmp/wine-XXXXXX)
server_pid() {
    suffix=$(printf '/server-%x-%x' "$(stat -c %d "$WINEPREFIX")" "$(stat -c %i "$WINEPREFIX")")
    for p in /proc/[0-9]*; do
        case "$(cat "$p/comm" 2>/dev/null)" in wineserver*) ;; *) continue ;; esac
        case "$(readlink "$p/cwd" 2>/dev/null)" in *"$suffix") echo "${p#/proc/}"; return 0 ;; esac
    done
    return 1
}

# start this prefix's wineserver as a persistent one (after ending the one
# that may linger after the last command: `wineserver -p` does not change it)
start_server() {
    timeout 60 wineserver -k >/dev/null 2>&1
    timeout 60 wineserver -w >/dev/null 2>&1
    wineserver -p
}

# SIGKILL this prefix's wineserver (only it) and wait until it is gone
kill_server() {
    pid=$(server_pid)
    if [ -z "$pid" ]; then
        check 1 "no wineserver found for $WINEPREFIX"
        return
    fi
    kill -9 "$pid"
    n=0
    while [ $n -lt 100 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
    n=0
    while [ $n -lt 50 ] && server_pid >/dev/null; do sleep 0.1; n=$((n + 1)); done
    # its clients (services.exe, winedevice.exe) may outlive it: end them
    end_prefix_clients
    n=0
    while [ $n -lt 50 ] && [ -n "$(prefix_pids '.exe')" ]; do sleep 0.1; n=$((n + 1)); done
    check $([ -z "$(prefix_pids '.exe')" ]; echo $?) "Wine programs of the prefix left after its wineserver was killed"
}

# the exclusions of PROTO in our range, "PROTO START END" per line, sorted
shown() {
    netsh int ipv4 show excludedportrange protocol="$1"
    awk -v p="$1" '$1 ~ /^[0-9]+$/ && $1 >= 47000 && $1 <= 47499 { print p, $1, $2 }' "$tmp/out"
}

# compare what Wine shows with $tmp/expect and the dynamic range with $dyn
verify() {
    { shown tcp; shown udp; } | sort >"$tmp/shown"
    sort "$tmp/expect" >"$tmp/expect.sorted"
    n_lost=$(comm -23 "$tmp/expect.sorted" "$tmp/shown" | wc -l)
    n_res=$(comm -13 "$tmp/expect.sorted" "$tmp/shown" | wc -l)
    lost=$((lost + n_lost))
    resurrected=$((resurrected + n_res))
    [ "$n_lost" -eq 0 ] && [ "$n_res" -eq 0 ]
    check $? "$1: $n_lost blocks lost, $n_res resurrected (expected | shown):
$(diff "$tmp/expect.sorted" "$tmp/shown")"
    netsh int ipv4 show dynamicport protocol=tcp
    got=$(awk -F': ' '/^Start Port/ { s = $2 } /^Number of Ports/ { n = $2 } END { print s, n }' "$tmp/out")
    [ "$got" = "$dyn" ]
    check $? "$1: TCP dynamic range \"$got\", expected \"$dyn\"" "$tmp/out"
}

cleanup() {
    rm -f "$journal.durability"
    [ -L "$journal" ] && rm -f "$journal"
    while read -r p s e; do
        timeout 60 "$wine_portres" netsh int ipv4 delete excludedportrange "$p" "$s" $((e - s + 1)) >/dev/null 2>&1
    done <"$tmp/expect"
    for v in 47300-47302 47310-47319; do timeout 60 "$WINE" reg delete "$key" /v "$v" /f /reg:64 >/dev/null 2>&1; done
    timeout 60 "$wine_portres" netsh int ipv4 set dynamicport tcp 49152 16384 >/dev/null 2>&1
    timeout 60 wineserver -k >/dev/null 2>&1
}
: >"$tmp/expect"

# --- 1. CYCLES rounds of change + SIGKILL ------------------------------------
next=47000
dyns="10000 1000|20000 2000|49152 16384|30000 5000"
# the prefix made and portres installed first (wine-portres waits for the
# wineserver to end then, which a persistent one never does)
netsh int ipv4 show dynamicport protocol=tcp
check $rc "portres.exe does not run in $WINEPREFIX (exit $rc)" "$tmp/out"
dyn=$(awk -F': ' '/^Start Port/ { s = $2 } /^Number of Ports/ { n = $2 } END { print s, n }' "$tmp/out")
timeout 60 wineserver -k >/dev/null 2>&1
timeout 60 wineserver -w >/dev/null 2>&1
i=1
while [ "$i" -le "$cycles" ]; do
    start_server
    verify "round $i, after the restart"
    case $((i % 4)) in
    1|2)
        proto=tcp
        [ $((i % 4)) -eq 2 ] && proto=udp
        netsh int ipv4 add excludedportrange "$proto" "$next" 5
        check $rc "round $i: add $proto $next 5 failed (exit $rc)" "$tmp/out"
        [ $rc -eq 0 ] && echo "$proto $next $((next + 4))" >>"$tmp/expect"
        next=$((next + 10))
        ;;
    3)
        read -r p s e <"$tmp/expect"
        netsh int ipv4 delete excludedportrange "$p" "$s" $((e - s + 1))
        check $rc "round $i: delete $p $s failed (exit $rc)" "$tmp/out"
        [ $rc -eq 0 ] && sed -i 1d "$tmp/expect"
        ;;
    0)
        d=$(echo "$dyns" | cut -d'|' -f$(( (i / 4 - 1) % 4 + 1 )))
        netsh int ipv4 set dynamicport tcp $d
        check $rc "round $i: set dynamicport tcp $d failed (exit $rc)" "$tmp/out"
        [ $rc -eq 0 ] && dyn=$d
        ;;
    esac
    kill_server
    i=$((i + 1))
done
verify "after the last round"
echo "durability: $cycles rounds of change + SIGKILL of the wineserver: $lost blocks lost, $resurrected resurrected"

# --- 2. a corrupt line, garbage and a truncated line -------------------------
start_server
for s in 47200 47210 47220; do
    netsh int ipv4 add excludedportrange tcp $s 5
    check $rc "add tcp $s 5 failed (exit $rc)" "$tmp/out"
done
kill_server
sed -i 's/^\([0-9]* add tcp 47210-47214 0x.*\)\(.\) \([0-9a-f]*\)$/\1X \3/' "$journal"
grep -q 'add tcp 47210-47214 0x.*X ' "$journal"
check $? "the line of 47210 could not be corrupted" "$journal"
printf '\001\002garbage\377\n\n99999999999999999999999 add tcp 1-1\n' >>"$journal"
head -c 300 /dev/urandom | tr -d '\n' >>"$journal"
printf '\n123456 add tcp 47230-47234 0x80000000' >>"$journal"
WINEDEBUG=-all,warn+portres netsh int ipv4 show excludedportrange protocol=tcp
check $rc "with a damaged journal, show failed or hung (exit $rc)" "$tmp/err"
for s in 47200 47220; do
    grep -q "^ *$s  *$((s + 4)) " "$tmp/out"
    check $? "the block at $s, intact in the journal, was lost beside the damaged lines" "$tmp/out"
done
echo "tcp 47200 47204" >>"$tmp/expect"
echo "tcp 47220 47224" >>"$tmp/expect"
! grep -q "^ *4721[0-9] " "$tmp/out" && ! grep -q "^ *4723[0-9] " "$tmp/out"
check $? "a corrupt or truncated journal line was applied" "$tmp/out"
grep -q "warn:portres.*corrupt" "$tmp/err"
check $? "no warn:portres line for the corrupt journal line" "$tmp/err"
grep -q "warn:portres.*truncated" "$tmp/err"
check $? "no warn:portres line for the truncated journal line" "$tmp/err"

# --- 3. hand edits made while Wine is stopped win ----------------------------
# a hand delete after a clean stop: the older journal line does not undo it
netsh int ipv4 add excludedportrange tcp 47300 3
check $rc "add tcp 47300 3 failed (exit $rc)" "$tmp/out"
timeout 60 wineserver -k; timeout 60 wineserver -w
timeout 60 "$WINE" reg delete "$key" /v 47300-47302 /f /reg:64 >/dev/null 2>&1
check $? "wine reg delete 47300-47302 failed"
timeout 60 wineserver -k; timeout 60 wineserver -w
netsh int ipv4 show excludedportrange protocol=tcp
! grep -q "^ *47300 " "$tmp/out"
check $? "a reservation deleted by hand while Wine was stopped came back from the journal" "$tmp/out"

# a hand edit that overlaps a change the registry lost: the hand edit wins, with a warning
start_server
netsh int ipv4 add excludedportrange tcp 47310 10
check $rc "add tcp 47310 10 failed (exit $rc)" "$tmp/out"
kill_server
timeout 60 "$WINE" reg add "$key" /v 47300-47302 /d 0x8000000000000abc /f /reg:64 >/dev/null 2>&1
timeout 60 "$WINE" reg add "$key" /v 47310-47319 /d 0x8000000000000abd /f /reg:64 >/dev/null 2>&1
timeout 60 wineserver -k; timeout 60 wineserver -w
WINEDEBUG=-all,warn+portres netsh int ipv4 show excludedportrange protocol=tcp
grep -q "^ *47300  *47302 " "$tmp/out" && grep -q "^ *47310  *47319 " "$tmp/out"
check $? "the hand-made values are not both shown" "$tmp/out"
grep -q "warn:portres.*47310-47319.*another token\|warn:portres.*47310-47319.*conflicts" "$tmp/err"
check $? "no warn:portres line for the journal line the hand edit overrides" "$tmp/err"
timeout 60 "$WINE" reg delete "$key" /v 47300-47302 /f /reg:64 >/dev/null 2>&1
timeout 60 "$WINE" reg delete "$key" /v 47310-47319 /f /reg:64 >/dev/null 2>&1

# --- 4. a journal that cannot be written: the change fails, nothing changes --
start_server
if [ -f "$journal" ] && [ -w /dev/full ]; then
    mv "$journal" "$journal.durability"
    ln -s /dev/full "$journal"
    netsh int ipv4 add excludedportrange udp 47400 5
    [ "$rc" -ne 0 ]
    check $? "add udp 47400 5 succeeded with the journal on /dev/full" "$tmp/out"
    echo "durability: add with the journal on /dev/full: exit $rc, $(head -n 1 "$tmp/out")"
    [ "$rc" -ne 5 ]
    check $? "a journal write error was reported as ERROR_ACCESS_DENIED" "$tmp/out"
    netsh int ipv4 set dynamicport tcp 40000 300
    [ "$rc" -ne 0 ]
    check $? "set dynamicport succeeded with the journal on /dev/full" "$tmp/out"
    rm -f "$journal"
    mv "$journal.durability" "$journal"
    timeout 60 "$WINE" reg query "$udp_key" /v 47400-47404 /reg:64 >/dev/null 2>&1
    [ $? -ne 0 ]
    check $? "the failed add left its registry value"
    verify "after the failed writes"
else
    check 1 "no journal file in $journal_dir, or no /dev/full"
fi
kill_server
verify "after the failed writes and a SIGKILL"

summary
