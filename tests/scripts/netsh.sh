#!/bin/sh
# netsh.sh - `tools/wine-portres netsh` against netsh's own answers
#
#   WINEPREFIX=... PORTRES_TOP=... sh tests/scripts/netsh.sh
#
# WINEPREFIX is a prefix with portres installed, PORTRES_TOP the repository.
# Adds, shows and deletes port exclusions for TCP and UDP (table rows, the
# "*" of persistent ranges, a runtime range listed without "*" and gone
# once its process is killed, a value added and deleted by hand in the
# registry while a process holds the pool, store=active exclusions shown
# without "*", enforced and gone after wineserver -k), checks error texts and exit codes (missing
# range, overlap, bad parameters, unknown command), sets and shows the
# dynamic port range and puts back Windows's default, 49152 16384.  Ports
# 46500-46999 only.  Exit codes arrive through Wine's 8-bit process status:
# ERROR_NOT_FOUND (1168) as 144.  Prints a Wine-style summary line.

set -u
. "$(dirname "$0")/lib.sh"

wine_portres="$top/tools/wine-portres"
stress="$top/tests/stress/x86_64-windows/stress.exe"
make_tmp
out=$tmp/out   # netsh's output (lib.sh)
hold_out=$tmp/hold.out
hold_pid=
rc=0
key="HKLM\\$(portres_name REGISTRY_TCP_KEY)"

# one check of the last netsh command: ok CONDITION-STATUS MESSAGE (its output shown on failure)
ok() { check "$1" "$2" "$out"; }

# check the exit code of the last command: expect_rc WIN32-CODE WHAT
expect_rc() {
    [ "$rc" -eq $(($1 % 256)) ]
    ok $? "$2: exit code $rc, expected $(($1 % 256)) (Win32 $1)"
}

# check that the last output has (has_line) or lacks (lacks_line) a line exactly
has_line() {
    grep -qxF -- "$1" "$out"
    ok $? "$2: no line \"$1\""
}
lacks_line() {
    ! grep -qxF -- "$1" "$out"
    ok $? "$2: unexpected line \"$1\""
}

# both at once: expect WIN32-CODE LINE WHAT
expect() {
    expect_rc "$1" "$3"
    has_line "$2" "$3"
}

# a row of the exclusion table as netsh prints it: row START END [*]
row() {
    if [ $# -eq 3 ]; then printf '%10u    %8u     *' "$1" "$2"
    else printf '%10u    %8u' "$1" "$2"; fi
}

# leave the prefix as we found it, whatever happened
cleanup() {
    bg_kill "$hold_pid"
    for p in tcp udp; do
        "$wine_portres" netsh int ipv4 delete excludedportrange $p 46500 20 >/dev/null 2>&1
        "$wine_portres" netsh int ipv4 delete excludedportrange $p 46600 1 >/dev/null 2>&1
        "$wine_portres" netsh int ipv4 delete excludedportrange $p 46970 2 >/dev/null 2>&1
        "$wine_portres" netsh int ipv4 delete excludedportrange $p 46960 5 store=active >/dev/null 2>&1
        "$wine_portres" netsh int ipv4 delete excludedportrange $p 46962 1 >/dev/null 2>&1  # made if a check failed
        "$wine_portres" netsh int ipv4 set dynamicport $p 49152 16384 >/dev/null 2>&1
    done
}

for p in tcp udp; do  # left over by an interrupted run
    "$wine_portres" netsh int ipv4 delete excludedportrange $p 46500 20 >/dev/null 2>&1
    "$wine_portres" netsh int ipv4 delete excludedportrange $p 46600 1 >/dev/null 2>&1
done

# --- add, show, delete -------------------------------------------------------
for p in tcp udp; do
    if [ $p = tcp ]; then other=udp; else other=tcp; fi

    netsh int ipv4 add excludedportrange protocol=$p startport=46500 numberofports=20
    expect 0 "Ok." "add $p 46500+20"
    netsh interface ipv6 ADD EXCL $p 46600 1 store=persistent
    expect 0 "Ok." "add $p 46600+1 (ipv6, abbreviated, values without tags)"

    netsh int ipv4 show excludedportrange protocol=$p
    expect_rc 0 "show $p"
    has_line "Protocol $p Port Exclusion Ranges" "show $p"
    has_line "Start Port    End Port" "show $p"
    has_line "----------    --------" "show $p"
    has_line "$(row 46500 46519 '*')" "show $p"
    has_line "$(row 46600 46600 '*')" "show $p"
    has_line "* - Administered port exclusions." "show $p"
    first=$(grep -nxF -- "$(row 46500 46519 '*')" "$out" | cut -d: -f1)
    second=$(grep -nxF -- "$(row 46600 46600 '*')" "$out" | cut -d: -f1)
    [ "${first:-0}" -gt 0 ] && [ "${first:-0}" -lt "${second:-0}" ]
    ok $? "show $p: rows not sorted by start port"
    cp "$out" "$out.v4"
    netsh int ipv6 show excludedportrange $p
    cmp -s "$out" "$out.v4"
    ok $? "show $p: ipv6 differs from ipv4"
    rm -f "$out.v4"

    netsh int ipv4 show excludedportrange protocol=$other
    lacks_line "$(row 46600 46600 '*')" "show $other after adding $p (separate port spaces)"

    netsh int ipv4 add excludedportrange protocol=$p startport=46510 numberofports=20
    expect 32 "The process cannot access the file because it is being used by another process." \
        "add $p 46510+20 overlapping 46500+20"
    netsh int ipv4 add excludedportrange protocol=$p startport=46600 numberofports=1
    expect 32 "The process cannot access the file because it is being used by another process." \
        "add $p 46600+1 again"
    netsh int ipv4 delete excludedportrange protocol=$p startport=46700 numberofports=10
    expect 1168 "Element not found." "delete $p 46700+10 (missing)"
    netsh int ipv4 delete excludedportrange protocol=$p startport=46500 numberofports=10
    expect 1168 "Element not found." "delete $p 46500+10 (not the exact block)"

    netsh int ipv4 delete excludedportrange protocol=$p startport=46500 numberofports=20
    expect 0 "Ok." "delete $p 46500+20"
    netsh int ip del excl $p 46600 1
    expect 0 "Ok." "delete $p 46600+1 (ip, abbreviated)"
    netsh int ipv4 show excludedportrange protocol=$p
    expect_rc 0 "show $p after delete"
    lacks_line "$(row 46500 46519 '*')" "show $p after delete"
    lacks_line "$(row 46600 46600 '*')" "show $p after delete"
done

# --- a runtime reservation: listed without "*" while its process lives -------
if [ -f "$stress" ]; then
    bg "$wine_portres" run "$stress" hold 46900 >"$hold_out" 2>/dev/null
    hold_pid=$bg_pid
    wait_for held "$hold_out" 30
    ok $? "stress.exe hold 46900 did not acquire: $(cat "$hold_out")"
    for p in tcp udp; do
        netsh int ipv4 show excludedportrange $p
        has_line "$(row 46900 46909)" "show $p with a runtime reservation"
        netsh int ipv4 show excludedportrange $p store=persistent
        lacks_line "$(row 46900 46909)" "show $p store=persistent with a runtime reservation"
    done
    # a value added by hand in the registry while a process holds the pool
    # is seen by the next show; deleted by hand, it goes
    wine reg add "$key" /v 46950-46954 /d 0x8000000000000ab1 /f /reg:64 >/dev/null 2>&1
    netsh int ipv4 show excludedportrange tcp
    has_line "$(row 46950 46954 '*')" "show tcp after a value was added by hand, the pool held"
    wine reg delete "$key" /v 46950-46954 /f /reg:64 >/dev/null 2>&1
    netsh int ipv4 show excludedportrange tcp
    lacks_line "$(row 46950 46954 '*')" "show tcp after the value was deleted by hand, the pool held"
    bg_kill "$hold_pid"
    hold_pid=
    for p in tcp udp; do
        netsh int ipv4 show excludedportrange $p
        lacks_line "$(row 46900 46909)" "show $p after the runtime owner was killed"
    done
fi

# --- bad parameters, unknown commands ----------------------------------------
incorrect="The parameter is incorrect."
netsh int ipv4 add excludedportrange protocol=icmp startport=46500 numberofports=10
expect 87 "$incorrect" "add protocol=icmp"
netsh int ipv4 add excludedportrange protocol=tcp startport=0 numberofports=10
expect 87 "$incorrect" "add startport=0"
netsh int ipv4 add excludedportrange protocol=tcp startport=46500 numberofports=0
expect 87 "$incorrect" "add numberofports=0"
netsh int ipv4 add excludedportrange protocol=udp startport=65530 numberofports=10
expect 87 "$incorrect" "add a block past 65535"
netsh int ipv4 add excludedportrange protocol=udp startport=465x0 numberofports=10
expect 87 "$incorrect" "add startport=465x0"
netsh int ipv4 add excludedportrange protocol=tcp startport=46500 numberofports=10 store=forever
expect 87 "$incorrect" "add store=forever"
netsh int ipv4 add excludedportrange protocol=tcp startport=46500
expect 1 "One or more essential parameters were not entered." "add without numberofports"
netsh int ipv4 add excludedportrange protocol=tcp startport=46500 numberofports=10 colour=blue
expect 1 "The syntax supplied for this command is not valid. Check help for the correct syntax." \
    "add with an unknown tag"
netsh int ipv4 show excludedportrange tcp tcp tcp
expect 1 "The syntax supplied for this command is not valid. Check help for the correct syntax." \
    "show with too many values"
netsh int ipv4 frob excludedportrange protocol=tcp
expect 1 "The following command was not found: int ipv4 frob excludedportrange protocol=tcp." "unknown verb"
netsh advfirewall show allprofiles
expect 1 "The following command was not found: advfirewall show allprofiles." "unknown context"
netsh int ipv4 show tcpstats
expect 1 "The following command was not found: int ipv4 show tcpstats." "unknown object"
netsh int ipv4 show excludedportrange tcp
expect 0 "Start Port    End Port" "show after the refused adds"
lacks_line "$(row 46500 46509 '*')" "show after the refused adds"

# --- the dynamic port range --------------------------------------------------
for p in tcp udp; do
    netsh int ipv4 set dynamicport $p start=46500 num=500
    expect 0 "Ok." "set dynamicport $p 46500 500"
    netsh int ipv6 show dynamicport protocol=$p
    expect_rc 0 "show dynamicport $p"
    has_line "Protocol $p Dynamic Port Range" "show dynamicport $p"
    has_line "---------------------------------" "show dynamicport $p"
    has_line "Start Port      : 46500" "show dynamicport $p"
    has_line "Number of Ports : 500" "show dynamicport $p"

    netsh int ipv4 set dynamicport $p start=1024 num=1000
    expect 87 "$incorrect" "set dynamicport $p start=1024"
    netsh int ipv4 set dynamicport $p start=46500 num=254
    expect 87 "$incorrect" "set dynamicport $p num=254"
    netsh int ipv4 set dynamicport $p start=65000 num=1000
    expect 87 "$incorrect" "set dynamicport $p past 65535"
    netsh int ipv4 set dynamicport $p start=46500
    expect 1 "One or more essential parameters were not entered." "set dynamicport $p without num"
    netsh int ipv4 show dynamicport $p
    has_line "Start Port      : 46500" "show dynamicport $p after refused sets"
    has_line "Number of Ports : 500" "show dynamicport $p after refused sets"

    netsh int ipv4 set dynamicport protocol=$p startport=49152 numberofports=16384
    expect 0 "Ok." "set dynamicport $p back to 49152 16384"
    netsh int ipv4 show dynamicport $p
    has_line "Start Port      : 49152" "show dynamicport $p after restoring the default"
    has_line "Number of Ports : 16384" "show dynamicport $p after restoring the default"
done

# --- store=active: until Wine restarts, shown without "*"; store=persistent stays with "*"
# (Wine's "boot" is the life of the prefix's wineserver, which ends a few
# seconds after its last process: a persistent one keeps it between commands)
wineserver -k; wineserver -w; wineserver -p
for p in tcp udp; do
    netsh int ipv4 add excludedportrange $p 46960 5 store=active
    expect 0 "Ok." "add $p 46960+5 store=active"
    netsh int ipv4 add excludedportrange $p 46970 2 store=persistent
    expect 0 "Ok." "add $p 46970+2 store=persistent"
    netsh int ipv4 show excludedportrange $p
    has_line "$(row 46960 46964)" "show $p with an active exclusion"
    lacks_line "$(row 46960 46964 '*')" "show $p with an active exclusion"
    has_line "$(row 46970 46971 '*')" "show $p with a persistent exclusion"
    netsh int ipv4 show excludedportrange $p store=persistent
    lacks_line "$(row 46960 46964)" "show $p store=persistent with an active exclusion"
    # enforced: an overlapping exclusion is refused
    netsh int ipv4 add excludedportrange $p 46962 1
    expect 32 "The process cannot access the file because it is being used by another process." \
        "add $p 46962+1 inside the active exclusion"
    netsh int ipv4 delete excludedportrange $p 46960 5
    expect 1168 "Element not found." "delete $p 46960+5 (store=persistent) of an active exclusion"
done
netsh int ipv4 delete excludedportrange udp 46960 5 store=active
expect 0 "Ok." "delete udp 46960+5 store=active"
netsh int ipv4 show excludedportrange udp
lacks_line "$(row 46960 46964)" "show udp after delete store=active"
wineserver -k; wineserver -w; wineserver -p
netsh int ipv4 show excludedportrange tcp
lacks_line "$(row 46960 46964)" "show tcp: the active exclusion outlived wineserver -k"
has_line "$(row 46970 46971 '*')" "show tcp: the persistent exclusion did not survive wineserver -k"
netsh int ipv4 add excludedportrange tcp 46960 5 store=active
expect 0 "Ok." "add tcp 46960+5 store=active after the restart"
netsh int ipv4 delete excludedportrange tcp 46960 5 store=active
expect 0 "Ok." "delete tcp 46960+5 store=active"
for p in tcp udp; do
    netsh int ipv4 delete excludedportrange $p 46970 2
    expect 0 "Ok." "delete $p 46970+2"
done
wineserver -k

summary
