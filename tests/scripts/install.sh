#!/bin/sh
# install.sh - tools/wine-portres install/uninstall, prefix-wide and next
# to one program: Wine's own programs keep working, uninstall puts the
# prefix back as it found it, an app-local install serves its program; a
# WINEPREFIX that is not a prefix is refused, with nothing made in it.
# Expects portres installed prefix-wide in WINEPREFIX, and leaves it so.
set -u
. "$(dirname "$0")/lib.sh"
wp="$top/tools/wine-portres"
sys="$WINEPREFIX/drive_c/windows/system32"
make_tmp
app=$tmp/app
app2=$tmp/app2
mkdir "$app" "$app2"
cleanup() { "$wp" install >/dev/null 2>&1; }
override() { wine reg query 'HKCU\Software\Wine\DllOverrides' /v "$1" 2>/dev/null | tr -d '\r' | awk -v d="$1" '$1 == d { print $3 }'; }

# installed prefix-wide: our DLLs and portres.exe, the overrides, and
# Wine's programs still work
cmp -s "$top/dlls/ws2_32/x86_64-windows/ws2_32.dll" "$sys/ws2_32.dll"
check $? "system32/ws2_32.dll is not portres's"
cmp -s "$top/tools/portres/x86_64-windows/portres.exe" "$sys/portres.exe"
check $? "system32/portres.exe is not portres's"
v=$(cd "$tmp" && wine portres.exe --version 2>/dev/null | tr -d '\r')
check $(echo "$v" | grep -q '^portres\.exe '; echo $?) "wine portres.exe --version from system32: '$v'"
check $([ "$(override ws2_32)" = native,builtin ] && [ "$(override iphlpapi)" = native,builtin ]; echo $?) \
    "overrides after install: ws2_32=$(override ws2_32) iphlpapi=$(override iphlpapi)"
check $([ "$(wine cmd /c echo portres-ok 2>/dev/null | tr -d '\r')" = portres-ok ]; echo $?) "wine cmd /c echo fails with portres installed"
wine reg query 'HKLM\Software\Microsoft\Windows NT\CurrentVersion' /v CurrentVersion >/dev/null 2>&1
check $? "wine reg query fails with portres installed"

# uninstall: the files and overrides found before come back
sums=$(cd "$WINEPREFIX/portres-backup/system32" && md5sum iphlpapi.dll ws2_32.dll)
before=$(cat "$WINEPREFIX/portres-backup/override.ws2_32" "$WINEPREFIX/portres-backup/override.iphlpapi" | tr '\n' ' ')
"$wp" uninstall
check $? "uninstall failed"
(cd "$sys" && echo "$sums" | md5sum -c --quiet >/dev/null 2>&1)
check $? "uninstall did not put Wine's DLLs back in system32"
after="$(override ws2_32) $(override iphlpapi) "
[ "$after" = "  " ] && after=" "
[ "$before" = "" ] && before=" "
check $([ "$after" = "$before" ] || [ "$(echo $after)" = "$(echo $before)" ]; echo $?) \
    "overrides after uninstall '$after', before install '$before'"
check $([ ! -e "$WINEPREFIX/portres-backup" ]; echo $?) "portres-backup left after uninstall"
check $([ ! -e "$sys/portres.exe" ]; echo $?) "system32/portres.exe left after uninstall"
check $([ "$(wine cmd /c echo portres-ok 2>/dev/null | tr -d '\r')" = portres-ok ]; echo $?) "wine cmd /c echo fails after uninstall"

# next to one program: the demo works with its own copies of the DLLs and
# per-application overrides; the prefix-wide overrides a user set are not
# touched, and uninstall puts back exactly what was there
appov() { wine reg query "HKCU\\Software\\Wine\\AppDefaults\\$1\\DllOverrides" /v "$2" 2>/dev/null | tr -d '\r' | awk -v d="$2" '$1 == d { print $3 }'; }
appkey_exists() { wine reg query "HKCU\\Software\\Wine\\AppDefaults\\$1" >/dev/null 2>&1; }
cp "$top/tools/demo/x86_64-windows/portres_demo.exe" "$app/"
cp "$top/tools/demo/x86_64-windows/portres_demo.exe" "$app2/demo2.exe"
wine reg add 'HKCU\Software\Wine\DllOverrides' /v ws2_32 /d builtin /f >/dev/null 2>&1
wine reg add 'HKCU\Software\Wine\AppDefaults\portres_demo.exe\DllOverrides' /v dbghelp /d builtin /f >/dev/null 2>&1
wineserver -w
"$wp" install --app "$app"
check $? "install --app failed"
"$wp" install --app "$app2"
check $? "install --app (second program) failed"
check $([ -f "$app/ws2_32.dll" ] && [ -f "$app/iphlpapi.dll" ]; echo $?) "install --app did not copy the DLLs"
check $([ "$(override ws2_32)" = builtin ] && [ -z "$(override iphlpapi)" ]; echo $?) \
    "install --app changed the prefix-wide overrides: ws2_32=$(override ws2_32) iphlpapi=$(override iphlpapi)"
check $([ "$(appov portres_demo.exe ws2_32)" = native,builtin ] && [ "$(appov portres_demo.exe iphlpapi)" = native,builtin ]; echo $?) \
    "per-application overrides after install --app: ws2_32=$(appov portres_demo.exe ws2_32) iphlpapi=$(appov portres_demo.exe iphlpapi)"
(cd "$app" && wine portres_demo.exe >"$app/demo.out" 2>/dev/null)
check $? "the demo failed with app-local DLLs: $(grep -E 'UNEXPECTED|unimplemented' "$app/demo.out" | head -3)"
"$wp" uninstall --app "$app"
check $? "uninstall --app failed"
check $([ ! -e "$app/ws2_32.dll" ] && [ ! -e "$app/iphlpapi.dll" ]; echo $?) "uninstall --app left the DLLs"
check $([ "$(override ws2_32)" = builtin ] && [ -z "$(override iphlpapi)" ]; echo $?) \
    "uninstall --app changed the prefix-wide overrides: ws2_32=$(override ws2_32) iphlpapi=$(override iphlpapi)"
check $([ -z "$(appov portres_demo.exe ws2_32)" ] && [ -z "$(appov portres_demo.exe iphlpapi)" ] &&
        [ "$(appov portres_demo.exe dbghelp)" = builtin ]; echo $?) \
    "per-application overrides after uninstall --app: ws2_32=$(appov portres_demo.exe ws2_32) dbghelp=$(appov portres_demo.exe dbghelp)"
# the other program's install is untouched by the first one's uninstall
(cd "$app2" && wine demo2.exe >"$app2/demo.out" 2>/dev/null)
check $? "the second program's demo failed after the first was uninstalled: $(grep -E 'UNEXPECTED|unimplemented' "$app2/demo.out" | head -3)"
"$wp" uninstall --app "$app2"
check $? "uninstall --app (second program) failed"
check $(! appkey_exists demo2.exe; echo $?) "uninstall --app left the AppDefaults key it made"
wine reg delete 'HKCU\Software\Wine\AppDefaults\portres_demo.exe' /f >/dev/null 2>&1
wine reg delete 'HKCU\Software\Wine\DllOverrides' /v ws2_32 /f >/dev/null 2>&1
wineserver -w

# and back: prefix-wide again, the demo runs through wine-portres run
"$wp" install
check $? "reinstall failed"
"$wp" run "$top/tools/demo/x86_64-windows/portres_demo.exe" >"$app/demo3.out" 2>&1
rc=$?
grep -aE 'UNEXPECTED|unimplemented|^wine|err:' "$app/demo3.out" >"$app/demo3.why"
tail -n 5 "$app/demo3.out" >>"$app/demo3.why"
check $rc "the demo failed after reinstalling (exit $rc)" "$app/demo3.why"
# run and netsh install the prefix's copies again when they are out of
# date, without waiting for the prefix's programs to end (a wineserver -w
# there waited for a running program forever)
stress="$top/tests/stress/x86_64-windows/stress.exe"
if [ -f "$stress" ]; then
    bg "$wp" run "$stress" hold 28300 >"$tmp/hold.out" 2>&1
    hold_pid=$bg_pid
    if wait_for held "$tmp/hold.out" 30 "$hold_pid"; then
        printf 'x' >>"$sys/portres.exe"
        timeout 60 "$wp" netsh int ipv4 show excludedportrange tcp >"$tmp/show.out" 2>&1
        rc=$?
        check $([ $rc -eq 0 ] && tr -d '\r' <"$tmp/show.out" | grep -q '^ *28300 *28309$'; echo $?) \
            "netsh with portres.exe out of date while a program of the prefix runs: exit $rc (124: it waited)" \
            "$tmp/show.out"
        cmp -s "$top/tools/portres/x86_64-windows/portres.exe" "$sys/portres.exe"
        check $? "netsh did not install portres.exe again"
    else
        check 1 "stress.exe hold 28300 did not acquire" "$tmp/hold.out"
    fi
    bg_kill "$hold_pid"
fi
# a WINEPREFIX that is not a Wine prefix (no system.reg): install and
# uninstall refuse it and make nothing there, as setup_portres.sh does
np="$app/not-a-prefix"
mkdir -p "$np/app" && cp "$top/tools/demo/x86_64-windows/portres_demo.exe" "$np/app/"
out=$(WINEPREFIX="$np/none" "$wp" install 2>&1)
rc=$?
check $([ $rc -ne 0 ] && [ ! -e "$np/none" ]; echo $?) "install into a missing folder: exit $rc, made: $(ls -d "$np/none" 2>/dev/null)"
echo "$out" | grep -q 'not a Wine prefix'
check $? "install into a missing folder: no 'not a Wine prefix' message: $out"
mkdir "$np/empty"
out=$(WINEPREFIX="$np/empty" "$wp" install 2>&1)
rc=$?
check $([ $rc -ne 0 ] && [ -z "$(ls -A "$np/empty")" ]; echo $?) "install into an empty folder: exit $rc, now holds: $(ls -A "$np/empty")"
echo "$out" | grep -q 'not a Wine prefix'
check $? "install into an empty folder: no 'not a Wine prefix' message: $out"
WINEPREFIX="$np/empty" "$wp" uninstall >/dev/null 2>&1
rc=$?
check $([ $rc -ne 0 ] && [ -z "$(ls -A "$np/empty")" ]; echo $?) "uninstall in an empty folder: exit $rc, now holds: $(ls -A "$np/empty")"
WINEPREFIX="$np/empty" "$wp" install --app "$np/app" >/dev/null 2>&1
rc=$?
check $([ $rc -ne 0 ] && [ -z "$(ls -A "$np/empty")" ] && [ "$(ls -A "$np/app")" = portres_demo.exe ]; echo $?) \
    "install --app with an empty folder as WINEPREFIX: exit $rc, prefix holds: $(ls -A "$np/empty"), app: $(ls -A "$np/app")"
rm -rf "$np"

summary
