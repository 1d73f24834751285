#!/bin/sh
# release.sh - the release tarball of `make release`, as a user without a
# toolchain gets it
#
#   PORTRES_TOP=... sh tests/scripts/release.sh
#
# PORTRES_TOP is the build tree, where make check has built
# portres-VERSION.tar.gz.  Unpacks it outside the build tree, checks the
# layout and the versions, then in a fresh prefix of its own (WINEPREFIX
# is not used): setup_portres.sh refuses folders that are not prefixes;
# install puts portres's files in system32 (and syswow64) and sets the
# overrides; portres.exe runs from system32; the demo and a program shaped
# like Microsoft's acquire sample (built against the tarball's include/)
# run; uninstall puts back the DLLs (checksums) and the override values
# found (a value, an empty value, none); the same with --symlink;
# setup_portres.sh and wine-portres (one installer, portres-install.sh)
# make the same backup, overrides and files, and either uninstall takes
# out what the other installed; and, where winetricks is installed,
# portres.verb without network.
# Prints a Wine-style summary line.

set -u
. "$(dirname "$0")/lib.sh"

make_tmp
export WINEPREFIX="$tmp/prefix"
export WINEDEBUG=-all
unset WINEDLLOVERRIDES
cleanup() {
    [ -f "$WINEPREFIX/system.reg" ] && timeout 60 wineserver -k >/dev/null 2>&1
}

# --- the version: configure.ac's, in wine-portres and the tarball's name ---
want=$(sed -n 's/^AC_INIT(\[portres\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
got=$("$top/tools/wine-portres" --version)
check $([ -n "$want" ] && [ "$got" = "wine-portres $want" ]; echo $?) "wine-portres --version prints '$got', configure.ac has '$want'"
tarball="$top/portres-$want.tar.gz"
check $([ -f "$tarball" ]; echo $?) "$tarball was not built (make release)"
[ -f "$tarball" ] || summary

# --- the tarball: layout, architectures ----------------------------------
rel="$tmp/portres-$want"
tar -C "$tmp" -xzf "$tarball"
check $? "cannot unpack $tarball"
expected="portres-$want/
portres-$want/README
portres-$want/include/
portres-$want/include/Windows.h
portres-$want/include/Windows.h.
portres-$want/include/mstcpip.h
portres-$want/portres-helper
portres-$want/portres-install.sh
portres-$want/portres.verb
portres-$want/setup_portres.sh
portres-$want/x32/
portres-$want/x32/iphlpapi.dll
portres-$want/x32/portres.exe
portres-$want/x32/portres_test.exe
portres-$want/x32/ws2_32.dll
portres-$want/x64/
portres-$want/x64/iphlpapi.dll
portres-$want/x64/portres.exe
portres-$want/x64/portres_test.exe
portres-$want/x64/ws2_32.dll"
listing=$(tar -tzf "$tarball" | LC_ALL=C sort)
check $([ "$listing" = "$expected" ]; echo $?) "tarball contents: $(echo $listing)"
check $([ -x "$rel/setup_portres.sh" ]; echo $?) "setup_portres.sh is not executable"
check $(tar -tvzf "$tarball" "portres-$want/portres-install.sh" | grep -q '^-rw-r--r-- '; echo $?) \
    "portres-install.sh (sourced, not run) is not mode 644: $(tar -tvzf "$tarball" "portres-$want/portres-install.sh")"
check $(tar -tvzf "$tarball" | awk '$2 != "0/0" { exit 1 }'; echo $?) "tarball entries not owned by 0/0"
# the PE machine field: 8664 for x64, 14c for x32
machine() { od -An -tx1 -j "$(( $(od -An -tu4 -j60 -N4 "$1") + 4 ))" -N2 "$1" | tr -d ' \n'; }
for f in iphlpapi.dll ws2_32.dll portres.exe portres_test.exe; do
    check $([ "$(machine "$rel/x64/$f")" = 6486 ]; echo $?) "x64/$f is not x86_64 ($(machine "$rel/x64/$f"))"
    check $([ "$(machine "$rel/x32/$f")" = 4c01 ]; echo $?) "x32/$f is not i386 ($(machine "$rel/x32/$f"))"
done
cmp -s "$rel/include/mstcpip.h" "$top/include/mstcpip.h"
check $? "include/mstcpip.h differs from the tree's"
grep -q "^portres $want " "$rel/README"
check $? "the tarball's README does not name version $want"
check $([ "$(sh "$rel/setup_portres.sh" --version)" = "setup_portres.sh (portres) $want" ]; echo $?) \
    "setup_portres.sh --version: $(sh "$rel/setup_portres.sh" --version)"

# --- refusing folders that are not prefixes, without making them ---------
WINEPREFIX="$tmp/none" timeout 60 sh "$rel/setup_portres.sh" install >"$tmp/out" 2>&1
check $([ $? -ne 0 ] && [ ! -e "$tmp/none" ]; echo $?) "install into a missing folder: $(cat "$tmp/out"), exists: $(ls -d "$tmp/none" 2>/dev/null)"
grep -q 'not a Wine prefix' "$tmp/out"
check $? "no 'not a Wine prefix' message: $(cat "$tmp/out")"
mkdir "$tmp/empty"
WINEPREFIX="$tmp/empty" timeout 60 sh "$rel/setup_portres.sh" install >/dev/null 2>&1
check $([ $? -ne 0 ] && [ -z "$(ls -A "$tmp/empty")" ]; echo $?) "install into an empty folder: now holds $(ls -A "$tmp/empty")"
WINEPREFIX="$tmp/empty" timeout 60 sh "$rel/setup_portres.sh" uninstall >/dev/null 2>&1
check $([ $? -ne 0 ] && [ -z "$(ls -A "$tmp/empty")" ]; echo $?) "uninstall in an empty folder: now holds $(ls -A "$tmp/empty")"

# --- a fresh prefix, and what is in it before ----------------------------
WINEDLLOVERRIDES="mscoree,mshtml=" timeout 300 wine wineboot -i >/dev/null 2>&1
timeout 120 wineserver -w
check $([ -f "$WINEPREFIX/system.reg" ]; echo $?) "wineboot -i made no prefix in $WINEPREFIX"
[ -f "$WINEPREFIX/system.reg" ] || summary
win="$WINEPREFIX/drive_c/windows"
dirs=system32
[ -d "$win/syswow64" ] && dirs="system32 syswow64"
# syswow64 has no Wine DLLs without 32-bit Wine: "absent" then
sums() {
    for d in $dirs; do
        for f in iphlpapi.dll ws2_32.dll; do
            if [ -e "$win/$d/$f" ]; then md5sum "$win/$d/$f"; else echo "absent $d/$f"; fi
        done
    done
}
# "=VALUE", VALUE exactly as the key holds it (what follows the four
# spaces after REG_SZ)
override() {
    timeout 60 wine reg query 'HKCU\Software\Wine\DllOverrides' /v "$1" 2>/dev/null | tr -d '\r' |
        awk -v d="$1" '$1 == d && $2 == "REG_SZ" { v = substr($0, index($0, " REG_SZ") + 7); sub(/^    /, "", v); print "=" v }'
}
# overrides set by hand, one to a value and one empty ("disabled" for
# Wine, which is not the same as none), then none for both: each must
# come back as it was
timeout 60 wine reg add 'HKCU\Software\Wine\DllOverrides' /v ws2_32 /d builtin /f >/dev/null 2>&1
timeout 60 wine reg add 'HKCU\Software\Wine\DllOverrides' /v iphlpapi /d "" /f >/dev/null 2>&1
sums_before=$(sums)
ov_before="$(override ws2_32) $(override iphlpapi)"
check $([ "$ov_before" = "=builtin =" ]; echo $?) "overrides before install: '$ov_before'"
# portres's iphlpapi exports CreatePersistentTcpPortReservation, Wine 8.0's does not
exports() { winedump -j export "$1" 2>/dev/null | grep -c CreatePersistentTcpPortReservation; }
check $([ "$(exports "$win/system32/iphlpapi.dll")" = 0 ]; echo $?) "Wine's system32/iphlpapi.dll already exports CreatePersistentTcpPortReservation"

# --- install, run, uninstall ----------------------------------------------
installed() {
    for d in $dirs; do
        [ "$d" = system32 ] && a=x64 || a=x32
        for f in iphlpapi.dll ws2_32.dll portres.exe; do
            cmp -s "$rel/$a/$f" "$win/$d/$f" || { echo "$d/$f is not $a/$f"; return; }
        done
    done
}
restored() {
    check $([ "$(sums)" = "$sums_before" ]; echo $?) "$1: DLL checksums differ from before install"
    check $([ ! -e "$win/system32/portres.exe" ] && [ ! -e "$WINEPREFIX/portres-backup" ]; echo $?) \
        "$1: portres.exe or portres-backup left"
    ov="$(override ws2_32) $(override iphlpapi)"
    check $([ "$ov" = "$ov_before" ]; echo $?) "$1: overrides '$ov', before install '$ov_before'"
}

timeout 300 sh "$rel/setup_portres.sh" install >"$tmp/out" 2>&1
check $? "setup_portres.sh install failed: $(cat "$tmp/out")"
r=$(installed)
check $([ -z "$r" ]; echo $?) "after install: $r"
check $([ "$(exports "$win/system32/iphlpapi.dll")" = 1 ]; echo $?) "system32/iphlpapi.dll does not export CreatePersistentTcpPortReservation"
check $(strings "$win/system32/ws2_32.dll" | grep -q 'portres'; echo $?) "system32/ws2_32.dll has no 'portres' string"
ov="$(override ws2_32) $(override iphlpapi)"
check $([ "$ov" = "=native,builtin =native,builtin" ]; echo $?) "overrides after install: '$ov'"

# portres.exe from system32: run from a folder that does not hold it
mkdir "$tmp/app"
v=$(cd "$tmp/app" && timeout 120 wine portres.exe --version 2>/dev/null | tr -d '\r')
check $([ "$v" = "portres.exe $want" ]; echo $?) "wine portres.exe --version: '$v'"
(cd "$tmp/app" && timeout 120 wine portres.exe int ipv4 show excludedportrange protocol=tcp) >"$tmp/out" 2>&1
check $(tr -d '\r' <"$tmp/out" | grep -q '^Start Port'; echo $?) "wine portres.exe int ipv4 show excludedportrange: $(head -5 "$tmp/out")"

# the conformance kit from the tarball: it lists its tests and runs two
kit_list=$(cd "$tmp/app" && timeout 120 wine "$rel/x64/portres_test.exe" --list 2>/dev/null | tr -d '\r' | wc -l)
check $([ "$kit_list" -ge 10 ]; echo $?) "x64/portres_test.exe --list: $kit_list tests"
(cd "$tmp/app" && timeout 300 wine "$rel/x64/portres_test.exe" header forward) >"$tmp/out" 2>&1
check $? "x64/portres_test.exe header forward failed: $(grep -E 'Test failed|^total' "$tmp/out" | head -3)"
check $(tr -d '\r' <"$tmp/out" | grep -q '^total: .* 0 failures.* 2 of 2 tests passed'; echo $?) \
    "x64/portres_test.exe header forward: $(grep '^total' "$tmp/out")"

# the demo (as make demo runs it) and the sample, with nothing next to them
cp "$top/tools/demo/x86_64-windows/portres_demo.exe" "$tmp/app/"
(cd "$tmp/app" && timeout 300 wine portres_demo.exe) >"$tmp/out" 2>&1
check $? "the demo failed: $(grep -E 'UNEXPECTED|unimplemented' "$tmp/out" | head -3)"
check $(grep -q 'UNEXPECTED' "$tmp/out"; [ $? -ne 0 ]; echo $?) "the demo printed UNEXPECTED"
cc=x86_64-w64-mingw32-gcc
sample_skipped=0
if command -v "$cc" >/dev/null 2>&1; then
    "$cc" -Wall -Werror -I"$rel/include" -municode -o "$tmp/app/sample.exe" "$top/tests/scripts/release-sample.c" -lws2_32 >"$tmp/out" 2>&1
    check $? "the sample does not build against the tarball's include/: $(head -5 "$tmp/out")"
    (cd "$tmp/app" && timeout 120 wine sample.exe 0 16) >"$tmp/out" 2>&1
    check $? "the sample failed: $(tr -d '\r' <"$tmp/out" | head -5)"
    check $(tr -d '\r' <"$tmp/out" | grep -q '^sample: port [0-9]* in block'; echo $?) "the sample's port: $(tr -d '\r' <"$tmp/out" | tail -1)"
else
    # the test environments of tests/envs hold Wine only: the host's run builds and runs it
    skip "no $cc here: the sample (acquire, associate, bind) is not built"
    sample_skipped=1
fi

# a second install keeps the first one's backup: what was there before portres
timeout 300 sh "$rel/setup_portres.sh" install >/dev/null 2>&1
check $? "a second install failed"
timeout 300 sh "$rel/setup_portres.sh" uninstall >"$tmp/out" 2>&1
check $? "setup_portres.sh uninstall failed: $(cat "$tmp/out")"
restored uninstall
timeout 300 sh "$rel/setup_portres.sh" uninstall >/dev/null 2>&1
check $([ $? -ne 0 ]; echo $?) "uninstall without an install succeeded"
restored "uninstall twice"

timeout 60 wine reg delete 'HKCU\Software\Wine\DllOverrides' /v iphlpapi /f >/dev/null 2>&1
ov_before="$(override ws2_32) $(override iphlpapi)"
check $([ "$ov_before" = "=builtin " ]; echo $?) "overrides before the --symlink install: '$ov_before'"

# --symlink: links into the unpacked release, which install leaves alone
sum_rel=$(cd "$rel" && md5sum x64/* x32/*)
timeout 300 sh "$rel/setup_portres.sh" install --symlink >"$tmp/out" 2>&1
check $? "install --symlink failed: $(cat "$tmp/out")"
check $([ "$(readlink "$win/system32/ws2_32.dll")" = "$rel/x64/ws2_32.dll" ]; echo $?) \
    "system32/ws2_32.dll after install --symlink: $(ls -l "$win/system32/ws2_32.dll")"
v=$(cd "$tmp/app" && timeout 120 wine portres.exe --version 2>/dev/null | tr -d '\r')
check $([ "$v" = "portres.exe $want" ]; echo $?) "wine portres.exe --version, linked: '$v'"
timeout 300 sh "$rel/setup_portres.sh" install >/dev/null 2>&1
check $([ $? -eq 0 ] && [ ! -L "$win/system32/ws2_32.dll" ] && [ "$(cd "$rel" && md5sum x64/* x32/*)" = "$sum_rel" ]; echo $?) \
    "install over a --symlink install: not a copy, or it wrote into the release"
timeout 300 sh "$rel/setup_portres.sh" uninstall >/dev/null 2>&1
check $? "uninstall after --symlink failed"
restored "uninstall after --symlink"

# --- one installer: setup_portres.sh and wine-portres install alike -------
# the same prefix and overrides each time: a value, an empty value and a
# winetricks-style "*iphlpapi" that neither may take for iphlpapi's own
wp="$top/tools/wine-portres"
ovkey='HKCU\Software\Wine\DllOverrides'
timeout 60 wine reg add "$ovkey" /v iphlpapi /d "" /f >/dev/null 2>&1
timeout 60 wine reg add "$ovkey" /v '*iphlpapi' /d builtin /f >/dev/null 2>&1
# every value of the key, sorted
ovkey_values() { timeout 60 wine reg query "$ovkey" 2>/dev/null | tr -d '\r' | grep 'REG_' | LC_ALL=C sort; }
key_before=$(ovkey_values)
ov_before="$(override ws2_32) $(override iphlpapi)"
check $([ "$ov_before" = "=builtin =" ] && echo "$key_before" | grep -q '^ *\*iphlpapi  *REG_SZ  *builtin$'; echo $?) \
    "overrides before the two installers: '$ov_before', key: $(echo $key_before)"
# what an install made: the backup (each file's checksum, a link's
# target, an override file's text and size), the key's values, and the
# files in the system folders
state() {
    (cd "$WINEPREFIX/portres-backup" && find . | LC_ALL=C sort | while read -r p; do
        if [ -L "$p" ]; then echo "$p -> $(readlink "$p")"
        elif [ -f "$p" ] && [ "${p#./override.}" != "$p" ]; then echo "$p [$(cat "$p")] $(wc -c <"$p") bytes"
        elif [ -f "$p" ]; then echo "$p $(md5sum <"$p" | cut -c1-32)"
        else echo "$p/"; fi
    done)
    ovkey_values
    for d in $dirs; do
        for f in iphlpapi.dll ws2_32.dll portres.exe; do
            if [ -e "$win/$d/$f" ]; then echo "$d/$f $(md5sum <"$win/$d/$f" | cut -c1-32)"; else echo "$d/$f absent"; fi
        done
    done
}
timeout 300 sh "$rel/setup_portres.sh" install >"$tmp/out" 2>&1
check $? "setup_portres.sh install (beside wine-portres) failed: $(cat "$tmp/out")"
state >"$tmp/state.setup"
timeout 300 sh "$rel/setup_portres.sh" uninstall >/dev/null 2>&1
check $? "setup_portres.sh uninstall (beside wine-portres) failed"
restored "setup_portres.sh uninstall (beside wine-portres)"
check $([ "$(ovkey_values)" = "$key_before" ]; echo $?) "setup_portres.sh install and uninstall: the key holds $(ovkey_values | tr -s ' ')"
timeout 300 "$wp" install >"$tmp/out" 2>&1
check $? "wine-portres install failed: $(cat "$tmp/out")"
state >"$tmp/state.wine-portres"
diff -u "$tmp/state.setup" "$tmp/state.wine-portres" >"$tmp/state.diff"
check $? "setup_portres.sh install and wine-portres install leave different backups, overrides or files" "$tmp/state.diff"
check $(grep -qx '\./override\.iphlpapi \[\] 1 bytes' "$tmp/state.setup" &&
        grep -qx '\./override\.ws2_32 \[builtin\] 8 bytes' "$tmp/state.setup"; echo $?) \
    "the backup holds other override values than 'builtin' and an empty one (a lone newline)" "$tmp/state.setup"
# either one takes out what the other put in
timeout 300 sh "$rel/setup_portres.sh" uninstall >"$tmp/out" 2>&1
check $? "setup_portres.sh uninstall after wine-portres install failed: $(cat "$tmp/out")"
restored "wine-portres install, setup_portres.sh uninstall"
check $([ "$(ovkey_values)" = "$key_before" ]; echo $?) "wine-portres install, setup_portres.sh uninstall: the key holds $(ovkey_values | tr -s ' ')"
timeout 300 sh "$rel/setup_portres.sh" install >/dev/null 2>&1
check $? "setup_portres.sh install (before wine-portres uninstall) failed"
timeout 300 "$wp" uninstall >"$tmp/out" 2>&1
check $? "wine-portres uninstall after setup_portres.sh install failed: $(cat "$tmp/out")"
restored "setup_portres.sh install, wine-portres uninstall"
check $([ "$(ovkey_values)" = "$key_before" ]; echo $?) "setup_portres.sh install, wine-portres uninstall: the key holds $(ovkey_values | tr -s ' ')"
timeout 60 wine reg delete "$ovkey" /v iphlpapi /f >/dev/null 2>&1
timeout 60 wine reg delete "$ovkey" /v '*iphlpapi' /f >/dev/null 2>&1

# --- winetricks: the verb file, offline ----------------------------------
# 32-bit Wine is there when any of the places Wine's i386 DLLs live has ws2_32
have_wine32() {
    for f in /usr/lib/*/wine/i386-windows/ws2_32.dll /usr/lib/wine/i386-windows/ws2_32.dll \
             /usr/local/lib/wine/i386-windows/ws2_32.dll; do
        [ -f "$f" ] && return 0
    done
    return 1
}
if command -v winetricks >/dev/null 2>&1; then
    verb="$rel/portres.verb"
    if ! have_wine32; then
        # winetricks (20230212) writes overrides of a 64-bit prefix with
        # syswow64\regedit.exe and then regedit.exe; the first needs 32-bit
        # Wine.  HKCU\Software\Wine is not redirected, so the 64-bit one
        # alone sets the same values: a wrapper verb drops the 32-bit run.
        echo "release.sh: no 32-bit Wine: winetricks's 32-bit regedit run is left out"
        mkdir "$tmp/verb"
        printf 'w_try_regedit32() { :; }\n. "%s"\n' "$rel/portres.verb" >"$tmp/verb/portres.verb"
        verb="$tmp/verb/portres.verb"
    fi
    # no network: a network namespace of its own where we may make one (root)
    offline=
    if unshare -n true 2>/dev/null; then offline="unshare -n"; fi
    # w_override_dlls writes "*ws2_32", which Wine reads after a plain
    # "ws2_32": take the hand-set one out first
    timeout 60 wine reg delete 'HKCU\Software\Wine\DllOverrides' /v ws2_32 /f >/dev/null 2>&1
    (cd "$rel" && PORTRES_DIR="$rel" timeout 600 $offline winetricks -q "$verb") >"$tmp/out" 2>&1
    check $? "winetricks portres.verb failed: $(tail -5 "$tmp/out")"
    r=$(installed)
    check $([ -z "$r" ]; echo $?) "after winetricks: $r"
    ov="$(override '*ws2_32') $(override '*iphlpapi')"
    check $([ "$ov" = "=native,builtin =native,builtin" ]; echo $?) "overrides after winetricks: '$ov'"
    if [ $sample_skipped -eq 0 ]; then
        (cd "$tmp/app" && timeout 120 wine sample.exe 0 16) >"$tmp/out" 2>&1
        check $? "the sample failed after winetricks: $(tr -d '\r' <"$tmp/out" | head -5)"
    fi
    # the installed package's layout, <arch>-windows: from a bare prefix again
    mkdir -p "$tmp/pkg/x86_64-windows" "$tmp/pkg/i386-windows"
    cp "$rel"/x64/* "$tmp/pkg/x86_64-windows/" && cp "$rel"/x32/* "$tmp/pkg/i386-windows/"
    for d in $dirs; do rm -f "$win/$d/iphlpapi.dll" "$win/$d/ws2_32.dll" "$win/$d/portres.exe"; done
    (cd "$tmp" && PORTRES_DIR="$tmp/pkg" timeout 600 $offline winetricks -q --force "$verb") >"$tmp/out" 2>&1
    check $? "winetricks portres.verb (package layout) failed: $(tail -5 "$tmp/out")"
    r=$(installed)
    check $([ -z "$r" ]; echo $?) "after winetricks (package layout): $r"
else
    skip "winetricks is not installed: portres.verb not tried"
fi

summary
