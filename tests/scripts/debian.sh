#!/bin/sh
# debian.sh - the Debian package.  From a copy of the tree (so
# nothing lands next to the checkout: dpkg-buildpackage writes the .deb to
# the parent folder), dpkg-buildpackage -b builds portres_VERSION_amd64.deb
# with VERSION both configure.ac's and debian/changelog's, and leaves no
# file git would see; lintian finds no error; apt-get installs it; the
# files are where they belong; the installed wine-portres runs the demo
# with the installed DLLs in a fresh prefix; apt-get purge leaves none of
# the package's files behind.  Needs root and dpkg-buildpackage (skipped
# otherwise); a portres package or a `make install` into /usr found before
# is not touched (skipped).  Prints a Wine-style summary line.
set -u
. "$(dirname "$0")/lib.sh"
# skip the whole test: skip_all MESSAGE
skip_all() { skip "$*"; summary; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (apt-get install and purge of the package)"
command -v dpkg-buildpackage >/dev/null 2>&1 || skip_all "dpkg-buildpackage is not installed (apt-get install dpkg-dev)"
status=$(dpkg-query -W -f='${db:Status-Status}' portres 2>/dev/null)
if [ -n "$status" ] && [ "$status" != not-installed ]; then
    skip_all "a portres package is already on this machine (status $status): not touching it"
fi
for p in /usr/lib/portres /usr/include/portres /usr/bin/wine-portres; do
    [ -e "$p" ] && skip_all "$p exists (a make install into /usr?): the package would replace it, not touching it"
done

make_tmp
prefix="$tmp/prefix"
installed=0
apt() { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -y -q -o DPkg::Lock::Timeout=300 "$@"; }
cleanup() {
    if [ -d "$prefix" ]; then WINEPREFIX="$prefix" timeout 60 wineserver -k >/dev/null 2>&1; fi
    # interrupted between install and purge: take the package away again
    if [ $installed -eq 1 ]; then apt purge portres >/dev/null 2>&1; fi
}

# --- the version: configure.ac's and debian/changelog's -----------------------
ver=$(sed -n 's/^AC_INIT(\[portres\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
chver=$(cd "$top" && dpkg-parsechangelog -S Version 2>/dev/null)
check $([ -n "$ver" ] && [ "$ver" = "$chver" ]; echo $?) \
    "configure.ac's AC_INIT version '$ver' and debian/changelog's '$chver' differ"
[ -n "$ver" ] || ver=$chver

# --- the copy: the files git knows, as they are in the working tree -----------
src="$tmp/portres-$ver"
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$top" ls-files -z | tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
    check $? "cannot copy the tree's files to $src"
    # a repository in the copy, to see what the build leaves that git would see
    (cd "$src" && git init -q && git add -A && git -c user.name=debian.sh -c user.email=debian.sh@localhost \
        commit -q -m snapshot) >/dev/null 2>&1
    gitcopy=$?
else
    cp -a "$top/." "$src" && rm -rf "$src/.wineprefix"
    check $? "cannot copy the tree to $src"
    gitcopy=1
fi

# --- the build ----------------------------------------------------------------
(cd "$src" && timeout 900 dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1
rc=$?
check $rc "dpkg-buildpackage -b -us -uc failed (exit $rc): $(tail -n 15 "$tmp/build.log")"
deb="$tmp/portres_${ver}_amd64.deb"
check $([ -f "$deb" ]; echo $?) "no $(basename "$deb") next to the source: $(ls "$tmp")"
[ -f "$deb" ] || summary
if [ $gitcopy -eq 0 ]; then
    dirty=$(cd "$src" && git status --porcelain)
    check $([ -z "$dirty" ]; echo $?) "the package build left files git sees (not in .gitignore): $dirty"
else
    echo "debian.sh: not a git checkout: whether the build output is ignored is not checked"
fi
check $([ "$(dpkg-deb -f "$deb" Version)" = "$ver" ]; echo $?) "the .deb's version is $(dpkg-deb -f "$deb" Version), not $ver"
depends=$(dpkg-deb -f "$deb" Depends)
check $(echo "$depends" | grep -qF 'wine (>= 8.0) | wine64'; echo $?) "Depends is '$depends'"

# --- lintian: no error (its warnings are printed) -----------------------------
if command -v lintian >/dev/null 2>&1; then
    timeout 600 lintian "$deb" >"$tmp/lintian.log" 2>&1
    rc=$?
    sed 's/^/lintian: /' "$tmp/lintian.log"
    errors=$(grep -c '^E: ' "$tmp/lintian.log")
    check $([ "$errors" -eq 0 ] && [ $rc -eq 0 ]; echo $?) "lintian: $errors errors (exit $rc)"
else
    check 1 "lintian is not installed (tools/install-deps installs it)"
fi

# --- install: the files where they belong ------------------------------------
apt install "$deb" >"$tmp/apt.log" 2>&1
rc=$?
[ $rc -eq 0 ] && installed=1
check $rc "apt-get install $(basename "$deb") failed (exit $rc): $(tail -n 10 "$tmp/apt.log")"
[ $installed -eq 1 ] || summary
dpkg -L portres >"$tmp/list"
for a in x86_64 i386; do
    case $a in x86_64) fmt=pei-x86-64 objdump=x86_64-w64-mingw32-objdump ;; i386) fmt=pei-i386 objdump=i686-w64-mingw32-objdump ;; esac
    for f in iphlpapi.dll ws2_32.dll portres.exe portres_test.exe; do
        p=/usr/lib/portres/$a-windows/$f
        check $([ -f "$p" ]; echo $?) "$p is not installed"
        [ -f "$p" ] || continue
        # a PE image of the right architecture, stripped of its debug
        # information by mingw-w64's strip, not broken by the host's
        hdr=$($objdump -h "$p" 2>&1)
        check $(echo "$hdr" | grep -q "file format $fmt"; echo $?) "$p is not a $fmt image: $(echo "$hdr" | head -n 3)"
        check $(! echo "$hdr" | grep -q '\.debug_info'; echo $?) "$p still has its debug information"
    done
    exports=$($objdump -p "/usr/lib/portres/$a-windows/iphlpapi.dll" 2>/dev/null)
    check $(echo "$exports" | grep -q CreatePersistentTcpPortReservation; echo $?) \
        "/usr/lib/portres/$a-windows/iphlpapi.dll does not export CreatePersistentTcpPortReservation"
done
check $([ -x /usr/bin/wine-portres ]; echo $?) "/usr/bin/wine-portres is not installed, or not executable"
check $(! grep -q '@LIBDIR@' /usr/bin/wine-portres; echo $?) "/usr/bin/wine-portres still has @LIBDIR@"
check $([ -f /usr/lib/portres/portres-install.sh ] && [ ! -x /usr/lib/portres/portres-install.sh ]; echo $?) \
    "/usr/lib/portres/portres-install.sh (sourced by wine-portres) is not installed, or executable"
check $([ -x /usr/bin/portres-sync-kernel ]; echo $?) "/usr/bin/portres-sync-kernel is not installed, or not executable"
for f in mstcpip.h Windows.h Windows.h.; do
    check $([ -f "/usr/include/portres/$f" ]; echo $?) "/usr/include/portres/$f is not installed"
done
man=/usr/share/man/man1/wine-portres.1.gz
check $(zcat "$man" 2>/dev/null | grep -q '^\.TH WINE-PORTRES 1'; echo $?) "no man page $man"
check $(zcat /usr/share/man/man1/portres-sync-kernel.1.gz 2>/dev/null | grep -q '^\.TH PORTRES-SYNC-KERNEL 1'; echo $?) \
    "no man page /usr/share/man/man1/portres-sync-kernel.1.gz"

# --- the installed wine-portres: the demo, with the installed DLLs ------------
make -C "$src" tools/demo/x86_64-windows/portres_demo.exe >"$tmp/demo-build.log" 2>&1
check $? "cannot build the demo in the package's build tree: $(tail -n 5 "$tmp/demo-build.log")"
(cd "$tmp" && WINEPREFIX="$prefix" WINEDEBUG=-all timeout 600 /usr/bin/wine-portres run \
    "$src/tools/demo/x86_64-windows/portres_demo.exe") >"$tmp/demo.log" 2>&1
rc=$?
check $rc "the demo failed through /usr/bin/wine-portres (exit $rc): $(grep -E 'UNEXPECTED|unimplemented|wine-portres:' "$tmp/demo.log" | head -n 5)"
check $(grep -q ' ok' "$tmp/demo.log" && ! grep -q UNEXPECTED "$tmp/demo.log"; echo $?) \
    "the demo printed no 'ok' line, or an UNEXPECTED one: $(head -n 5 "$tmp/demo.log")"
cmp -s /usr/lib/portres/x86_64-windows/ws2_32.dll "$prefix/drive_c/windows/system32/ws2_32.dll" &&
    cmp -s /usr/lib/portres/x86_64-windows/iphlpapi.dll "$prefix/drive_c/windows/system32/iphlpapi.dll" &&
    cmp -s /usr/lib/portres/x86_64-windows/portres.exe "$prefix/drive_c/windows/system32/portres.exe"
check $? "the prefix's system32 DLLs and portres.exe are not the installed /usr/lib/portres/x86_64-windows ones"
if [ -d "$prefix/drive_c/windows/syswow64" ]; then
    cmp -s /usr/lib/portres/i386-windows/ws2_32.dll "$prefix/drive_c/windows/syswow64/ws2_32.dll"
    check $? "the prefix's syswow64/ws2_32.dll is not the installed i386 one"
fi
# netsh's port commands through the installed portres.exe
out=$(WINEPREFIX="$prefix" WINEDEBUG=-all timeout 300 /usr/bin/wine-portres netsh int ipv4 show dynamicport tcp 2>&1 | tr -d '\r')
check $(echo "$out" | grep -q 'Start Port *: *[0-9]'; echo $?) "wine-portres netsh show dynamicport tcp: $out"
WINEPREFIX="$prefix" timeout 60 wineserver -k >/dev/null 2>&1

# --- purge: nothing of the package left ---------------------------------------
# the list's files (not its folders: /usr and the like stay) before the purge
while read -r p; do
    if [ -L "$p" ] || ! [ -d "$p" ]; then echo "$p"; fi
done <"$tmp/list" >"$tmp/files"
check $([ "$(wc -l <"$tmp/files")" -ge 12 ]; echo $?) "dpkg -L portres lists only $(wc -l <"$tmp/files") files"
apt purge portres >"$tmp/apt.log" 2>&1
rc=$?
check $rc "apt-get purge portres failed (exit $rc): $(tail -n 10 "$tmp/apt.log")"
[ $rc -eq 0 ] && installed=0
left=$(while read -r p; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done <"$tmp/files")
check $([ -z "$left" ]; echo $?) "left after the purge: $left"
for d in /usr/lib/portres /usr/include/portres /usr/share/doc/portres; do
    check $([ ! -e "$d" ]; echo $?) "$d is still there after the purge"
done
status=$(dpkg-query -W -f='${db:Status-Status}' portres 2>/dev/null)
check $([ -z "$status" ] || [ "$status" = not-installed ]; echo $?) "after the purge dpkg says portres is '$status'"

summary
