#!/bin/sh
# envs.sh - Debian chroots with other Wines, for the tests (as root)
#
#   tests/envs/envs.sh make ENV          make ENV, or reuse it when complete
#   tests/envs/envs.sh run ENV CMD...    run CMD in ENV (mounts set up and
#                                        taken down again), in a network
#                                        namespace of its own with loopback
#                                        up where can-isolate; exit code of CMD
#       PORTRES_ENVS_SHARE=DIR           run: the host's folder DIR seen at
#                                        the same path in ENV too
#       PORTRES_ENVS_NET=caller          run: in the caller's network
#                                        namespace, not one of its own
#       (tests/envs/crosswine.sh: a prefix of the host's Wine and one of
#       ENV's sharing one runtime folder and one loopback)
#   tests/envs/envs.sh can-isolate       exit 0 if run can give CMD a network
#                                        namespace of its own (unshare, ip)
#   tests/envs/envs.sh can-make ENV      exit 0 if ENV is made or can be
#                                        (root, debootstrap, mirror reachable,
#                                        32-bit programs run for bookworm-i386),
#                                        else say why
#   tests/envs/envs.sh wine-version ENV  the Wine version of a made ENV
#   tests/envs/envs.sh remove ENV        delete ENV from the cache
#   tests/envs/envs.sh list              the ENVs this script knows
#
# ENV is bookworm-i386 (Wine 8.0, wine64 + wine32:i386) or trixie (Wine
# 10.0, amd64 only).  They are kept in PORTRES_ENVS_DIR (default
# /var/cache/portres-envs); a stamp file written last marks one complete,
# so an interrupted creation (or a changed package list) is made again
# from scratch.  run mounts /proc,
# /dev (bind), fresh tmpfs on /tmp and /run/user, and the source tree at
# its own path; they are taken down on exit, error or signal, lazily as a
# last resort.  Wine inside keeps its server directory in the chroot's
# /tmp or /run/user, so its wineserver is never the host's.

set -eu

cache=${PORTRES_ENVS_DIR:-/var/cache/portres-envs}
mkdir -p "$cache" 2>/dev/null && cache=$(cd "$cache" && pwd -P)
top=$(cd "$(dirname "$0")/../.." && pwd)
isolate=
# the Debian mirror this machine's apt uses (a local mirror or proxy
# stays the one used), unless PORTRES_ENVS_MIRROR names another
mirror=${PORTRES_ENVS_MIRROR:-$("$top/tools/debian-mirror" 2>/dev/null || true)}
ENVS="bookworm-i386 trixie"

die() { echo "envs.sh: $*" >&2; exit 2; }

usage() { sed -n '2,33s/^# \{0,1\}//p' "$0" >&2; exit 2; }

# suite, architectures and packages of each env
env_spec() {
    case "$1" in
    bookworm-i386) suite=bookworm; i386=1; pkgs="wine wine64 wine32:i386 wine64-tools procps" ;;
    trixie)        suite=trixie;   i386=0; pkgs="wine wine64 wine64-tools procps" ;;
    *) die "unknown environment '$1' (known: $ENVS)" ;;
    esac
    root="$cache/$1"
    stamp="$root/.portres-env-complete"
}

# the mount points below $root, deepest first
our_mounts() {
    awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r
}

# take down every mount below $root; lazily if a plain umount fails
unmount_all() {
    for m in $(our_mounts); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    left=$(our_mounts)
    [ -z "$left" ] || echo "envs.sh: *** still mounted: $left" >&2
}

# end the processes still running inside $root (a lingering wineserver):
# ours, found by their root directory
kill_inside() {
    for sig in TERM KILL; do
        pids=
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && pids="$pids ${p#/proc/}"
        done
        [ -n "$pids" ] || return 0
        kill -s $sig $pids 2>/dev/null || true
        sleep 1
    done
}

cleanup() {
    kill_inside
    unmount_all
}

mount_all() {
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    # private: nothing mounted below it may reach the host's /dev
    mount --make-private "$root/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    # Debian's Wine 10 puts its server directory in /run/user/UID and
    # aborts (free(): invalid pointer) when that does not exist
    mkdir -p "$root/run/user"
    mount -t tmpfs -o mode=755 tmpfs "$root/run/user"
    mkdir -m 700 "$root/run/user/0"
    mkdir -p "$root$top"
    mount --bind "$top" "$root$top"
    if [ -n "${PORTRES_ENVS_SHARE:-}" ]; then
        [ -d "$PORTRES_ENVS_SHARE" ] || die "PORTRES_ENVS_SHARE: $PORTRES_ENVS_SHARE is not a folder"
        mkdir -p "$root$PORTRES_ENVS_SHARE"
        mount --bind "$PORTRES_ENVS_SHARE" "$root$PORTRES_ENVS_SHARE"
    fi
}

# serialize makes and runs of one env
# one run per ENV at a time; a holder that never lets go (a run stuck in
# another container sharing the cache) fails the wait after 15 min
# instead of eating CI's time: remove the lock file to go on without it
lock() {
    mkdir -p "$cache"
    f="$cache/$1.lock"
    # who holds it, asked before we open it ourselves
    flock -n "$f" true || echo "envs.sh: $1 is in use, waiting up to 15 min; held by: $(lock_holders "$f")" >&2
    exec 9>"$f"
    flock -w 900 9 && return 0
    exec 9>&-
    die "$1 is in use: $f was held for 15 min by: $(lock_holders "$f") (remove it if no run uses $1)"
}

# the processes that have FILE open: "PID COMMAND LINE", comma-separated
lock_holders() {
    for fd in /proc/[0-9]*/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "$1" ] || continue
        p=${fd#/proc/}; p=${p%%/*}
        printf '%s %s, ' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120 | sed 's/ *$//')"
    done | sed 's/, $//'
}

make_env() {
    # reused when complete and made with the same packages
    if [ -f "$stamp" ] && grep -qxF "packages: $pkgs" "$stamp"; then
        echo "envs.sh: $1: reusing $root ($(head -n 1 "$stamp"))" >&2
        return 0
    fi
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    [ "$(id -u)" -eq 0 ] || die "making an environment needs root"
    start=$(date +%s)
    cleanup
    # never remove a tree with the host's /dev or the sources mounted in it
    [ -z "$(our_mounts)" ] || die "mounts left below $root, not removing it"
    rm -rf --one-file-system "$root"
    echo "envs.sh: $1: debootstrap $suite into $root" >&2
    debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$cache/$1.log" 2>&1 ||
        { tail -n 20 "$cache/$1.log" >&2; die "$1: debootstrap failed (log: $cache/$1.log)"; }
    # only the main suite: the i386 indexes of -security/-updates break apt
    echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
    rm -f "$root/etc/apt/sources.list.d/"*
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    mount_all
    add=
    [ "$i386" -eq 1 ] && add="dpkg --add-architecture i386 &&"
    echo "envs.sh: $1: installing $pkgs" >&2
    in_root sh -c "$add apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs && apt-get clean" \
        >>"$cache/$1.log" 2>&1 ||
        { tail -n 20 "$cache/$1.log" >&2; die "$1: installing Wine failed (log: $cache/$1.log)"; }
    v=$(in_root wine --version 2>/dev/null) || die "$1: wine does not run in the chroot"
    cleanup
    trap - EXIT INT TERM
    echo "$v" >"$root/.portres-wine-version"
    # written last: the env is complete
    printf 'made %s in %s s, %s\npackages: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(( $(date +%s) - start ))" "$v" "$pkgs" >"$stamp"
    echo "envs.sh: $1: made in $(( $(date +%s) - start )) s ($v)" >&2
}

# a network namespace of its own with loopback up, where the kernel lets
# us: the fixed port windows of two runs at once never meet
isolated() {
    if can_isolate; then
        unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
    else
        "$@"
    fi
}
can_isolate() {
    command -v unshare >/dev/null && command -v ip >/dev/null &&
        unshare --net -- ip link set lo up 2>/dev/null
}

# CMD in the chroot with a clean environment (mounts must be up); without
# the lock's descriptor, so that a process CMD leaves behind (a wineserver)
# never holds the env: the next run's cleanup ends it instead
in_root() {
    $isolate chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
        HOME=/root TMPDIR=/tmp XDG_RUNTIME_DIR=/run/user/0 LANG=C.UTF-8 USER=root LOGNAME=root \
        ${FUZZ_SECONDS:+FUZZ_SECONDS=$FUZZ_SECONDS} ${PORTRES_IN_ENV:+PORTRES_IN_ENV=$PORTRES_IN_ENV} \
        ${PERSIST_COUNT:+PERSIST_COUNT=$PERSIST_COUNT} "$@" 9>&-
}

run_env() {
    [ -f "$stamp" ] || die "$1 is not made: run '$0 make $1' first"
    [ "$(id -u)" -eq 0 ] || die "running in an environment needs root"
    shift
    # processes and mounts left by a run killed with SIGKILL
    cleanup
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    mount_all
    # in the background so that a signal ends the wait at once (the trap
    # then ends CMD); stdin passed through fd 3, as "&" would take it
    exec 3<&0
    isolate=isolated
    [ "${PORTRES_ENVS_NET:-}" = caller ] && isolate=
    in_root "$@" <&3 3<&- &
    set +e
    wait $!
    rc=$?
    set -e
    exit $rc
}

# 0 when this kernel executes 32-bit x86 programs: a 93-byte static i386
# ELF that only calls exit(0), run (no i386 package needed to tell)
i386_runs() {
    probe=$(mktemp "${TMPDIR:-/tmp}/portres-i386.XXXXXX")
    # ELF header: 32-bit, little-endian, executable, EM_386, entry 0x08048054
    printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000' >"$probe"
    printf '\002\000\003\000\001\000\000\000\124\200\004\010\064\000\000\000' >>"$probe"
    printf '\000\000\000\000\000\000\000\000\064\000\040\000\001\000\000\000\000\000\000\000' >>"$probe"
    # one PT_LOAD of the whole file at 0x08048000, read and execute
    printf '\001\000\000\000\000\000\000\000\000\200\004\010\000\200\004\010' >>"$probe"
    printf '\135\000\000\000\135\000\000\000\005\000\000\000\000\020\000\000' >>"$probe"
    # mov eax, 1 (exit); xor ebx, ebx; int 0x80
    printf '\270\001\000\000\000\061\333\315\200' >>"$probe"
    chmod +x "$probe"
    why=$("$probe" 2>&1) && { rm -f "$probe"; return 0; }
    rm -f "$probe"
    echo "${why:-exit code not 0}" | sed 's/^.*: //' | head -n 1
    return 1
}

can_make() {
    # its x86_64 part is the host's own Wine 8.0, which the host suite runs
    if [ "$i386" -eq 1 ] && ! why=$(i386_runs); then
        echo "this kernel cannot execute 32-bit programs ($why): its Wine 8.0 x86_64 part is the host's, already run"
        return 1
    fi
    [ -f "$stamp" ] && grep -qxF "packages: $pkgs" "$stamp" && return 0
    [ -n "$mirror" ] || { echo "this machine's apt names no Debian mirror (tools/debian-mirror); set PORTRES_ENVS_MIRROR"; return 1; }
    [ "$(id -u)" -eq 0 ] || { echo "not root (debootstrap and chroot need root)"; return 1; }
    command -v debootstrap >/dev/null || { echo "debootstrap is not installed"; return 1; }
    command -v wget >/dev/null || { echo "wget is not installed"; return 1; }
    wget -q -T 15 -t 1 -O /dev/null "$mirror/dists/$suite/Release" ||
        { echo "the Debian mirror $mirror is not reachable"; return 1; }
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case "$cmd" in
make)   [ $# -eq 1 ] || usage; env_spec "$1"; lock "$1"; make_env "$1" ;;
run)    [ $# -ge 2 ] || usage; env_spec "$1"; lock "$1"; run_env "$@" ;;
can-make) [ $# -eq 1 ] || usage; env_spec "$1"; can_make ;;
can-isolate) [ $# -eq 0 ] || usage; can_isolate ;;
wine-version) [ $# -eq 1 ] || usage; env_spec "$1"; cat "$root/.portres-wine-version" 2>/dev/null || die "$1 is not made" ;;
remove) [ $# -eq 1 ] || usage; env_spec "$1"; lock "$1"; unmount_all; [ -z "$(our_mounts)" ] || die "mounts left below $root"; rm -rf --one-file-system "$root" ;;
list)   echo "$ENVS" | tr ' ' '\n' ;;
*)      usage ;;
esac
