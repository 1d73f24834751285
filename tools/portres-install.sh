# portres-install.sh - portres's prefix-wide install and uninstall: the one
# implementation behind `wine-portres install/uninstall` (and its run and
# netsh, which install first) and the release tarball's
# `setup_portres.sh install/uninstall`.  POSIX sh, sourced by both.
#
# Why a sourced file: the two differ only in where the files come from
# (the build tree, $(libdir)/portres, the tarball's x64/ and x32/), in
# their messages and exit codes, and in wine-portres's default prefix and
# --app installs, which stay its own.  Sourcing keeps each command line
# and output as it was, with no option interface between two scripts;
# everything that touches the prefix is here once.  It goes where both
# scripts go: tools/ in the build tree, beside setup_portres.sh in the
# tarball (make release), $(libdir)/portres with make install and in the
# Debian package.
#
# The caller runs with set -eu, exports WINEPREFIX, may set WINE and
# WINESERVER, and defines
#   die MESSAGE            say MESSAGE on stderr and exit
#   portres_dir            the folder the files come from
#   portres_src FILE ARCH  the path of FILE below portres_dir for ARCH
#                          (x86_64, i386)
#   portres_link=1         to link the files instead of copying them
#   portres_helper         the host helper portres-helper (a native
#                          program), named to the DLLs in the registry
#                          value HKLM\Software\Wine\Portres\Helper when it
#                          is there (doc/design.md, "The host helper")
# and calls
#   portres_require_prefix  die unless WINEPREFIX is a Wine prefix: before
#                           anything runs wine, which would make one there
#   portres_install         the files into system32 (and syswow64), DLL
#                           overrides native,builtin; "SYSDIR/FILE <- SRC"
#                           on stdout for each file
#   portres_uninstall       the backup put back, then removed
#   portres_installed_current  0 when installed with portres_dir's files
#   portres_system_dirs     "SYSDIR ARCH" lines: the prefix's system folders
#
# The backup, $WINEPREFIX/portres-backup, is made by the first install and
# kept by later ones: SYSDIR/FILE for each file install replaced (a link
# stays a link), and override.DLL for each DLL, empty when the prefix had
# no override, else its value and a newline (a lone newline for an empty
# value, which Wine reads as "disabled").  Only the plain overrides
# "iphlpapi" and "ws2_32" are read and written, never winetricks's
# "*iphlpapi" and "*ws2_32".  Wine's own tools do the registry (wine reg):
# no file is passed to Wine, so no drive letter is needed.

PORTRES_FILES="iphlpapi.dll ws2_32.dll portres.exe"
PORTRES_DLLS="iphlpapi ws2_32"
PORTRES_OVERRIDES='HKCU\Software\Wine\DllOverrides'
PORTRES_KEY='HKLM\Software\Wine\Portres'

# wine quiet, and no Mono or Gecko dialog should it update the prefix
portres_wine() { WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" "${WINE:-wine}" "$@"; }
# wait for the prefix's wineserver to end, so that its registry is on disk;
# not with portres_nowait=1 (wine-portres run and netsh, installing again
# while a program of the prefix may run: the wait would last as long as
# it, and the next program talks to the same server anyway)
portres_wait() { [ "${portres_nowait:-0}" = 1 ] || "${WINESERVER:-wineserver}" -w; }

portres_require_prefix() {
    [ -f "$WINEPREFIX/system.reg" ] ||
        die "$WINEPREFIX: not a Wine prefix (no system.reg); make it first, e.g. WINEPREFIX=$WINEPREFIX wineboot -i"
    command -v "${WINE:-wine}" >/dev/null 2>&1 || die "${WINE:-wine} not found: Wine is needed"
}

portres_system_dirs() {
    if grep -q '^#arch=win32' "$WINEPREFIX/system.reg" 2>/dev/null; then
        echo "system32 i386"
    else
        echo "system32 x86_64"
        if [ -d "$WINEPREFIX/drive_c/windows/syswow64" ]; then echo "syswow64 i386"; fi
    fi
}

# the override of DLL $1 as "=VALUE", nothing when there is none.  wine
# reg query prints "    NAME    REG_SZ    VALUE": VALUE is what follows
# the four spaces after REG_SZ, its own spaces kept (no regular
# expression: mawk's [ ]? does not match a space)
portres_get_override() {
    portres_wine reg query "$PORTRES_OVERRIDES" /v "$1" 2>/dev/null | tr -d '\r' |
        awk -v d="$1" 'tolower($1) == tolower(d) && $2 == "REG_SZ" {
            v = substr($0, index($0, " REG_SZ") + 7)
            for (n = 0; n < 4 && substr(v, 1, 1) == " "; n++) v = substr(v, 2)
            print "=" v; exit }'
}

# wine reg on the 64-bit view, where the DLLs read (in a 64-bit prefix,
# Debian's `wine reg` may be the 32-bit one)
portres_reg() {
    if grep -q '^#arch=win32' "$WINEPREFIX/system.reg" 2>/dev/null; then portres_wine reg "$@"
    else portres_wine reg "$@" /reg:64; fi
}

portres_set_override() {
    portres_wine reg add "$PORTRES_OVERRIDES" /v "$1" /d "$2" /f >/dev/null 2>&1 ||
        die "cannot set the DLL override of $1"
}

portres_install() {
    win="$WINEPREFIX/drive_c/windows"
    backup="$WINEPREFIX/portres-backup"
    portres_system_dirs | while read -r dir arch; do
        [ -d "$win/$dir" ] || die "$win/$dir is missing"
        for f in $PORTRES_FILES; do
            [ -f "$portres_dir/$(portres_src "$f" "$arch")" ] || die "$portres_dir/$(portres_src "$f" "$arch") is missing"
        done
    done
    portres_wait
    # the first install keeps what was there; a second one keeps that
    if [ ! -d "$backup" ]; then
        rm -rf "$backup.tmp"
        portres_system_dirs | while read -r dir arch; do
            mkdir -p "$backup.tmp/$dir"
            for f in $PORTRES_FILES; do
                if [ -e "$win/$dir/$f" ] || [ -L "$win/$dir/$f" ]; then cp -P -p "$win/$dir/$f" "$backup.tmp/$dir/$f"; fi
            done
        done
        for d in $PORTRES_DLLS; do
            v=$(portres_get_override "$d")
            if [ -n "$v" ]; then printf '%s\n' "${v#=}"; fi >"$backup.tmp/override.$d"
        done
        mv "$backup.tmp" "$backup"
    fi
    portres_system_dirs | while read -r dir arch; do
        for f in $PORTRES_FILES; do
            src=$(portres_src "$f" "$arch")
            # remove first: copying onto a link left by a linked install would write through it
            rm -f "$win/$dir/$f"
            if [ "${portres_link:-0}" = 1 ]; then ln -s "$portres_dir/$src" "$win/$dir/$f"; else cp "$portres_dir/$src" "$win/$dir/$f"; fi
            echo "$dir/$f <- $src"
        done
    done
    for d in $PORTRES_DLLS; do portres_set_override "$d" native,builtin; done
    if [ -n "${portres_helper:-}" ] && [ -x "$portres_helper" ]; then
        portres_reg add "$PORTRES_KEY" /v Helper /d "$portres_helper" /f >/dev/null 2>&1 ||
            die "cannot write the registry value Helper"
        echo "Helper <- $portres_helper"
    fi
    portres_wait
}

portres_uninstall() {
    win="$WINEPREFIX/drive_c/windows"
    backup="$WINEPREFIX/portres-backup"
    [ -d "$backup" ] || die "portres is not installed in $WINEPREFIX (no $backup)"
    portres_wait
    portres_system_dirs | while read -r dir arch; do
        for f in $PORTRES_FILES; do
            rm -f "$win/$dir/$f"
            if [ -e "$backup/$dir/$f" ] || [ -L "$backup/$dir/$f" ]; then cp -P -p "$backup/$dir/$f" "$win/$dir/$f"; fi
        done
    done
    for d in $PORTRES_DLLS; do
        if [ -s "$backup/override.$d" ]; then
            portres_set_override "$d" "$(cat "$backup/override.$d")"
        else
            portres_wine reg delete "$PORTRES_OVERRIDES" /v "$d" /f >/dev/null 2>&1 || true
        fi
    done
    portres_reg delete "$PORTRES_KEY" /v Helper /f >/dev/null 2>&1 || true
    portres_wait
    rm -rf "$backup"
}

portres_installed_current() {
    [ -d "$WINEPREFIX/portres-backup" ] || return 1
    portres_system_dirs | while read -r dir arch; do
        for f in $PORTRES_FILES; do
            cmp -s "$portres_dir/$(portres_src "$f" "$arch")" "$WINEPREFIX/drive_c/windows/$dir/$f" || exit 1
        done
    done
}
