#!/bin/sh
# drive-z.sh - portres reads the host's files (/proc/sys/net/ipv4's port
# range and reserved ports, /proc/net's socket lists) without drive Z:,
# which users remove or remap: with the prefix's dosdevices/z: taken away
# (put back at exit), the kernel view is read in full, its range is the
# kernel's, runtime.exe and implicit.exe (acquires and implicit binds
# inside the kernel's ephemeral range, which read /proc/net) pass from C:,
# wine-portres install (wine reg add) sets the overrides, and wine-portres
# install/uninstall --app, which import .reg files of the host by their
# \\?\unix name, set and take out the per-application ones.
set -u
. "$(dirname "$0")/lib.sh"
need_prefix
make_tmp
z="$WINEPREFIX/dosdevices/z:"
[ -L "$z" ] || { skip "the prefix has no drive Z: to take away"; summary; }
saved=$(readlink "$z")
dir="$WINEPREFIX/drive_c/portres-drive-z"
cleanup() {
    [ -L "$z" ] || ln -s "$saved" "$z"
    rm -rf "$dir"
    # the overrides as install.sh and the later scripts expect them
    "$top/tools/wine-portres" install >/dev/null 2>&1
}
mkdir -p "$dir"
cp "$top/tests/conformance/x86_64-windows/runtime.exe" "$top/tests/conformance/x86_64-windows/implicit.exe" "$dir/"
wineserver -w
rm "$z"

cd "$dir" || exit 2
WINEDEBUG=-all,+portres timeout 300 $WINE runtime.exe >"$tmp/runtime" 2>&1
rc=$?
kernel=$(sed -n 's/.*kernel: ephemeral ports \([0-9]*-[0-9]*\), reserved ports \(.*\)$/\1 \2/p' "$tmp/runtime" | head -n 1 | tr -d '\r')
want="$(tr -s ' \t' '-' </proc/sys/net/ipv4/ip_local_port_range) read"
check $([ "$kernel" = "$want" ]; echo $?) "without Z: the kernel view is '${kernel:-not traced}', the kernel's is '$want'"
check $([ $rc -eq 0 ] && grep -q '^runtime: [0-9]* tests executed (0 marked as todo, 0 failures)' "$tmp/runtime"; echo $?) \
    "runtime.exe without Z: exit $rc: $(grep -E 'Test failed|tests executed' "$tmp/runtime" | tail -n 3)"
WINEDEBUG=-all timeout 300 $WINE implicit.exe >"$tmp/implicit" 2>&1
rc=$?
check $([ $rc -eq 0 ] && grep -q '^implicit: [0-9]* tests executed (0 marked as todo, 0 failures), 0 skipped' "$tmp/implicit"; echo $?) \
    "implicit.exe without Z: exit $rc: $(grep -E 'Test failed|tests executed|skipped' "$tmp/implicit" | tail -n 3)"
# the prefix-wide install sets the overrides with wine reg add; --app
# imports a .reg file of the host, named without Z: too
cd "$top" || exit 2
WINEDEBUG=-all $WINE reg add 'HKCU\Software\Wine\DllOverrides' /v ws2_32 /d builtin /f >/dev/null 2>&1
"$top/tools/wine-portres" install >"$tmp/install" 2>&1
rc=$?
override=$(WINEDEBUG=-all $WINE reg query 'HKCU\Software\Wine\DllOverrides' /v ws2_32 2>/dev/null | tr -d '\r' | awk '$1 == "ws2_32" { print $3 }')
check $([ $rc -eq 0 ] && [ "$override" = native,builtin ]; echo $?) "wine-portres install without Z: exit $rc, override '$override'" "$tmp/install"
mkdir "$tmp/app"
cp "$top/tools/demo/x86_64-windows/portres_demo.exe" "$tmp/app/"
appov() { WINEDEBUG=-all $WINE reg query 'HKCU\Software\Wine\AppDefaults\portres_demo.exe\DllOverrides' /v ws2_32 2>/dev/null | tr -d '\r' | awk '$1 == "ws2_32" { print $3 }'; }
"$top/tools/wine-portres" install --app "$tmp/app" >"$tmp/install" 2>&1
rc=$?
check $([ $rc -eq 0 ] && [ "$(appov)" = native,builtin ]; echo $?) "wine-portres install --app without Z: exit $rc, override '$(appov)'" "$tmp/install"
"$top/tools/wine-portres" uninstall --app "$tmp/app" >"$tmp/install" 2>&1
rc=$?
check $([ $rc -eq 0 ] && [ -z "$(appov)" ] && [ ! -e "$tmp/app/ws2_32.dll" ]; echo $?) \
    "wine-portres uninstall --app without Z: exit $rc, override '$(appov)'" "$tmp/install"
summary
