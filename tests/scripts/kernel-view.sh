#!/bin/sh
# kernel-view.sh - a running process follows changes of the kernel's
# net.ipv4.ip_local_reserved_ports (as `wine-portres sync-kernel` makes
# them): once a reservation is no longer among the ports the kernel skips,
# the process's port-0 binds stop landing in it.  The kernel's ephemeral
# range is narrowed to 40000-40099 for the test and both sysctls are put
# back.  Ports 40000-40099.  Needs root (skipped otherwise).
set -u
. "$(dirname "$0")/lib.sh"
range=/proc/sys/net/ipv4/ip_local_port_range
reserved=/proc/sys/net/ipv4/ip_local_reserved_ports

if [ "$(id -u)" -ne 0 ] || ! [ -w "$range" ] || ! [ -w "$reserved" ]; then
    skip "needs root and writable $range, $reserved"
    summary
fi
cd "$top/tests/conformance/x86_64-windows" || exit 2
saved_range=$(cat "$range"); saved_reserved=$(cat "$reserved")
tag=$$
make_tmp
out=$tmp/out
cleanup() {
    echo "$saved_range" >"$range"; echo "$saved_reserved" >"$reserved"
    rm -f "/tmp/portres-kernel-go-$tag"
}

echo "40000 40099" >"$range"
echo "40000-40089" >"$reserved"
bg timeout 120 wine lifetime.exe child kernel 40000 90 "$tag" >"$out" 2>"${KERNEL_VIEW_ERR:-/dev/null}"
wait_for "^phase1\|^acquire" "$out" 60
echo "" >"$reserved"   # the reservation leaves the kernel's list (a later sync-kernel)
touch "/tmp/portres-kernel-go-$tag"
bg_wait "$bg_pid"
cat "$out"
p1=$(sed -n 's/^phase1 \(-*[0-9]*\).*/\1/p' "$out"); p2=$(sed -n 's/^phase2 \(-*[0-9]*\).*/\1/p' "$out")
check $([ "${p1:-x}" = 0 ]; echo $?) "while the kernel skipped the block: ${p1:-no result} of 20 port-0 binds in it"
check $([ "${p2:-x}" = 0 ]; echo $?) "after the kernel stopped skipping it: ${p2:-no result} of 20 port-0 binds in it"
summary
