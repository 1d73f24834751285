#!/bin/sh
# setup_portres.sh - install portres's iphlpapi.dll, ws2_32.dll and
# portres.exe from this release into a Wine prefix, or take them out again.
#
#   setup_portres.sh install [--symlink]   copy (or link) them, set the overrides
#   setup_portres.sh uninstall             put back what install replaced
#   setup_portres.sh --version
#
# WINEPREFIX (default ~/.wine) must already be a Wine prefix: this script
# never makes one.  Only Wine is needed (wine, wineserver; WINE names
# another wine).  x64/ goes to system32 and x32/ to syswow64 (system32 in
# a 32-bit prefix); the DLL overrides iphlpapi and ws2_32 are set to
# native,builtin.  The files replaced and the override values found (or
# their absence) are kept in $WINEPREFIX/portres-backup, the same place
# and format as `wine-portres install`, and uninstall puts them back.

set -eu

version=@VERSION@
DLLS="iphlpapi ws2_32"
FILES="iphlpapi.dll ws2_32.dll portres.exe"
KEY='HKCU\Software\Wine\DllOverrides'
WINE=${WINE:-wine}
WINESERVER=${WINESERVER:-wineserver}
basedir=$(cd "$(dirname "$0")" && pwd)

die() { echo "setup_portres.sh: $*" >&2; exit 1; }

usage() {
    sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
    exit 1
}

action=${1:-}
[ $# -ge 1 ] && shift
link=0
case "$action" in
install|uninstall) ;;
--version) echo "setup_portres.sh (portres) $version"; exit 0 ;;
*) usage ;;
esac
for arg in "$@"; do
    case "$arg" in
    --symlink) [ "$action" = install ] || usage; link=1 ;;
    *) usage ;;
    esac
done

# look before running wine, which would make a prefix where there is none
export WINEPREFIX="${WINEPREFIX:-$HOME/.wine}"
[ -f "$WINEPREFIX/system.reg" ] || die "$WINEPREFIX: not a Wine prefix (no system.reg); make it first, e.g. WINEPREFIX=$WINEPREFIX wineboot -i"
command -v "$WINE" >/dev/null 2>&1 || die "$WINE not found: Wine is needed"
export WINEDEBUG=-all
# no Mono or Gecko installer dialog should wine reg update the prefix
export WINEDLLOVERRIDES="mscoree,mshtml="
win="$WINEPREFIX/drive_c/windows"
backup="$WINEPREFIX/portres-backup"

# the system folders of the prefix and the release folder each takes
system_dirs() {
    if grep -q '^#arch=win32' "$WINEPREFIX/system.reg"; then
        echo "system32 x32"
    else
        echo "system32 x64"
        if [ -d "$win/syswow64" ]; then echo "syswow64 x32"; fi
    fi
}

# the value of the override of DLL $1 as "=VALUE", nothing when there is none
get_override() {
    "$WINE" reg query "$KEY" /v "$1" 2>/dev/null | tr -d '\r' |
        awk -v d="$1" 'tolower($1) == tolower(d) && $2 == "REG_SZ" {
            sub(/^[ \t]*[^ \t]+[ \t]+REG_SZ[ \t]?[ \t]?[ \t]?[ \t]?/, ""); print "=" $0; exit }'
}

set_override() {
    "$WINE" reg add "$KEY" /v "$1" /d "$2" /f >/dev/null 2>&1 || die "cannot set the DLL override of $1"
}

install() {
    system_dirs | while read -r dir rel; do
        for f in $FILES; do [ -f "$basedir/$rel/$f" ] || die "$basedir/$rel/$f is missing"; done
        [ -d "$win/$dir" ] || die "$win/$dir is missing"
    done
    "$WINESERVER" -w
    # the first install keeps what was there; a second one keeps that
    if [ ! -d "$backup" ]; then
        mkdir -p "$backup.tmp"
        system_dirs | while read -r dir rel; do
            mkdir -p "$backup.tmp/$dir"
            for f in $FILES; do
                if [ -e "$win/$dir/$f" ] || [ -L "$win/$dir/$f" ]; then cp -P -p "$win/$dir/$f" "$backup.tmp/$dir/$f"; fi
            done
        done
        # wine-portres's format: an empty file for no override, else the value and a newline
        for d in $DLLS; do
            v=$(get_override "$d")
            if [ -n "$v" ]; then printf '%s\n' "${v#=}" >"$backup.tmp/override.$d"; else : >"$backup.tmp/override.$d"; fi
        done
        mv "$backup.tmp" "$backup"
    fi
    system_dirs | while read -r dir rel; do
        for f in $FILES; do
            # remove first: copying onto a link left by --symlink would write through it
            rm -f "$win/$dir/$f"
            if [ $link -eq 1 ]; then ln -s "$basedir/$rel/$f" "$win/$dir/$f"; else cp "$basedir/$rel/$f" "$win/$dir/$f"; fi
            echo "$dir/$f <- $rel/$f"
        done
    done
    for d in $DLLS; do set_override "$d" native,builtin; done
    "$WINESERVER" -w
    echo "portres $version installed in $WINEPREFIX (DLL overrides iphlpapi, ws2_32: native,builtin)"
}

uninstall() {
    [ -d "$backup" ] || die "portres is not installed in $WINEPREFIX (no $backup)"
    "$WINESERVER" -w
    system_dirs | while read -r dir rel; do
        for f in $FILES; do
            rm -f "$win/$dir/$f"
            if [ -e "$backup/$dir/$f" ] || [ -L "$backup/$dir/$f" ]; then cp -P -p "$backup/$dir/$f" "$win/$dir/$f"; fi
        done
    done
    for d in $DLLS; do
        if [ -s "$backup/override.$d" ]; then
            set_override "$d" "$(cat "$backup/override.$d")"
        else
            "$WINE" reg delete "$KEY" /v "$d" /f >/dev/null 2>&1 || true
        fi
    done
    "$WINESERVER" -w
    rm -rf "$backup"
    echo "portres removed from $WINEPREFIX"
}

"$action"
