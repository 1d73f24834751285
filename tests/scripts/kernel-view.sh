#!/bin/sh
# kernel-view.sh - a running process follows changes of the kernel's
# net.ipv4.ip_local_reserved_ports (as `wine-portres sync-kernel` makes
# them): once a reservation is no longer among the ports the kernel skips,
# the process's port-0 binds stop landing in it.  The kernel's ephemeral
# range is narrowed to 40000-40099 for the test and both sysctls are put
# back.  Ports 40000-40099.  Needs root (skipped otherwise).
set -u
range=/proc/sys/net/ipv4/ip_local_port_range
reserved=/proc/sys/net/ipv4/ip_local_reserved_ports
tests=0; failures=0; skipped=0
check() { tests=$((tests + 1)); if [ "$1" -ne 0 ]; then failures=$((failures + 1)); echo "kernel-view.sh: Test failed: $2"; fi; }
summary() { echo "kernel-view: $tests tests executed (0 marked as todo, $failures failures), $skipped skipped."; [ $failures -eq 0 ]; exit; }

if [ "$(id -u)" -ne 0 ] || ! [ -w "$range" ] || ! [ -w "$reserved" ]; then
    echo "kernel-view.sh: Tests skipped: needs root and writable $range, $reserved"
    skipped=1; summary
fi
cd "$PORTRES_TOP/tests/conformance/x86_64-windows" || exit 2
saved_range=$(cat "$range"); saved_reserved=$(cat "$reserved")
tag=$$
out=$(mktemp "${TMPDIR:-/tmp}/portres-kernel.XXXXXX")
cleanup() {
    echo "$saved_range" >"$range"; echo "$saved_reserved" >"$reserved"
    rm -f "$out" "/tmp/portres-kernel-go-$tag"
}
trap cleanup EXIT INT TERM

echo "40000 40099" >"$range"
echo "40000-40089" >"$reserved"
timeout 120 wine lifetime.exe child kernel 40000 90 "$tag" >"$out" 2>"${KERNEL_VIEW_ERR:-/dev/null}" &
pid=$!
i=0
while ! grep -q "^phase1\|^acquire" "$out" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
echo "" >"$reserved"   # the reservation leaves the kernel's list (a later sync-kernel)
touch "/tmp/portres-kernel-go-$tag"
wait $pid
cat "$out"
p1=$(sed -n 's/^phase1 \(-*[0-9]*\).*/\1/p' "$out"); p2=$(sed -n 's/^phase2 \(-*[0-9]*\).*/\1/p' "$out")
check $([ "${p1:-x}" = 0 ]; echo $?) "while the kernel skipped the block: ${p1:-no result} of 20 port-0 binds in it"
check $([ "${p2:-x}" = 0 ]; echo $?) "after the kernel stopped skipping it: ${p2:-no result} of 20 port-0 binds in it"
summary
