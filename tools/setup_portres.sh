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
WINE=${WINE:-wine}
basedir=$(cd "$(dirname "$0")" && pwd)

die() { echo "setup_portres.sh: $*" >&2; exit 1; }

usage() {
    sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
    exit 1
}

action=${1:-}
[ $# -ge 1 ] && shift
portres_link=0
case "$action" in
install|uninstall) ;;
--version) echo "setup_portres.sh (portres) $version"; exit 0 ;;
*) usage ;;
esac
for arg in "$@"; do
    case "$arg" in
    --symlink) [ "$action" = install ] || usage; portres_link=1 ;;
    *) usage ;;
    esac
done

# the installer wine-portres uses too, shipped beside this script
[ -f "$basedir/portres-install.sh" ] || die "$basedir/portres-install.sh is missing: it comes with this script"
. "$basedir/portres-install.sh"
portres_dir=$basedir
portres_src() { case "$2" in x86_64) echo "x64/$1" ;; *) echo "x32/$1" ;; esac; }
portres_helper=$portres_dir/portres-helper

export WINEPREFIX="${WINEPREFIX:-$HOME/.wine}"
portres_require_prefix

if [ "$action" = install ]; then
    portres_install
    echo "portres $version installed in $WINEPREFIX (DLL overrides iphlpapi, ws2_32: native,builtin)"
else
    portres_uninstall
    echo "portres removed from $WINEPREFIX"
fi
