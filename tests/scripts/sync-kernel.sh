#!/bin/sh
# sync-kernel.sh - tools/portres-sync-kernel against the real
# net.ipv4.ip_local_reserved_ports: entries it did not write are kept, its
# own follow the prefix, --check reports, non-root is refused with nothing
# changed; `wine-portres sync-kernel` runs it.  Ports 46050-46099.  The
# sysctl is restored at the end.
set -u
. "$(dirname "$0")/lib.sh"
file=/proc/sys/net/ipv4/ip_local_reserved_ports

if [ "$(id -u)" -ne 0 ] || ! [ -w "$file" ]; then
    skip "needs root and a writable $file"
    summary
fi
saved=$(cat "$file")
make_tmp
sync="$top/tools/portres-sync-kernel"
cleanup() {
    netsh int ipv4 delete excludedportrange protocol=tcp startport=46050 numberofports=10
    netsh int ipv4 delete excludedportrange protocol=udp startport=46070 numberofports=5
    echo "$saved" >"$file"
    rm -f "$WINEPREFIX/portres-kernel-ports"
}

echo 46090 >"$file"   # an entry somebody else wrote
netsh int ipv4 add excludedportrange protocol=tcp startport=46050 numberofports=10
netsh int ipv4 add excludedportrange protocol=udp startport=46070 numberofports=5

"$sync" --check >"$tmp/sync.out" 2>&1
check $(( $? == 0 )) "--check reported no difference: $(cat "$tmp/sync.out")"
grep -q "to add: *46050-46059,46070-46074" "$tmp/sync.out"
check $? "--check did not list the blocks to add: $(cat "$tmp/sync.out")"
check $([ "$(cat "$file")" = 46090 ]; echo $?) "--check changed the sysctl: $(cat "$file")"

"$sync" >/dev/null 2>&1
check $? "sync-kernel failed"
check $([ "$(cat "$file")" = "46050-46059,46070-46074,46090" ]; echo $?) "after sync: $(cat "$file")"

"$sync" --check >/dev/null 2>&1
check $? "--check after sync still sees a difference"
"$top/tools/wine-portres" sync-kernel --check >/dev/null 2>&1
check $? "wine-portres sync-kernel --check (running portres-sync-kernel) sees a difference"

netsh int ipv4 delete excludedportrange protocol=tcp startport=46050 numberofports=10
"$sync" >/dev/null 2>&1
check $([ "$(cat "$file")" = "46070-46074,46090" ]; echo $?) "after delete and sync: $(cat "$file")"

if command -v setpriv >/dev/null; then
    before=$(cat "$file")
    # the script copied where user nobody can read it: the tree may lie
    # where only root can enter (a clone in /root, mode 700)
    nb=$(mktemp -d /tmp/portres-nobody.XXXXXX)
    chmod 755 "$nb"
    cp "$sync" "$nb/" && chmod 755 "$nb/portres-sync-kernel"
    out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$nb/portres-sync-kernel" 2>&1)
    check $(( $? == 0 )) "non-root sync-kernel did not fail"
    rm -rf "$nb"
    echo "$out" | grep -q "needs root"
    check $? "non-root refusal message: $out"
    check $([ "$(cat "$file")" = "$before" ]; echo $?) "non-root sync-kernel changed the sysctl"
else
    echo "sync-kernel.sh: Tests skipped: setpriv not found"; skipped=$((skipped + 1))
fi
summary
