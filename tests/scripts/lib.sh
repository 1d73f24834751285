# lib.sh - what the driver scripts share, sourced first by each:
#
#   . "$(dirname "$0")/lib.sh"          (tests/scripts/*.sh)
#   . "$(dirname "$0")/../scripts/lib.sh"   (tests/stress/crash.sh)
#
# It sets
#   top          the source tree: PORTRES_TOP, or the tree this script is in
#                (tests/envs/envs.sh bind-mounts the tree at the same path
#                in its chroots, where run-all sets PORTRES_TOP again);
#                exported as PORTRES_TOP
#   test_name    the script's name without .sh, for the lines below
#   tests failures skipped   the counts (0)
# and gives
#   check STATUS MESSAGE [FILE]   one check: STATUS 0 passes; otherwise
#                "NAME.sh: Test failed: MESSAGE" and FILE's first lines
#   skip MESSAGE  "NAME.sh: Tests skipped: MESSAGE", counted
#   summary      "NAME: N tests executed (0 marked as todo, F failures), S
#                skipped." (Wine's line, which tests/run-all reads), then
#                exit 0, or 1 after a failure
#   make_tmp     $tmp, a fresh folder removed at exit
#   need_prefix  stop (exit 2) unless WINEPREFIX is set; export it and
#                WINEDEBUG (-all unless set); $WINE is the wine to run
#   bg CMD...    CMD in the background; its pid in $bg_pid, killed
#                (SIGKILL) at exit unless bg_kill ended it before
#   bg_kill PID  SIGKILL PID (a bg one, or a Wine process found below) and
#                reap it if it is ours
#   bg_wait PID  wait for the bg PID to end: its exit status
#   wait_for PATTERN FILE SECONDS [PID]   until a line of FILE matches
#                PATTERN (grep), SECONDS at most, or PID has ended: grep's
#                status
#   prefix_pids TEXT  the Linux pids of this WINEPREFIX's processes whose
#                command line holds TEXT (wine execs the program in place)
#   nap          a short sleep (0.2 s)
#   netsh ARGS   `wine-portres netsh ARGS` (120 s at most): its output,
#                CRs stripped, in $tmp/out, its stderr in $tmp/err, its
#                exit code in $rc
#   portres_name NAME   a name of libs/core/names.h without PORTRES_,
#                as the C code sees it: portres_name REGISTRY_TCP_KEY ->
#                Software\Wine\Portres\Tcp
# A script that has more to undo defines cleanup() after sourcing this
# file: it runs at exit (also after INT and TERM), before the background
# processes are killed and $tmp removed.

top=${PORTRES_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
PORTRES_TOP=$top
export PORTRES_TOP
test_name=$(basename "$0" .sh)
tests=0
failures=0
skipped=0
tmp=
bg_pid=
lib_bg_pids=

check() {
    tests=$((tests + 1))
    if [ "$1" -ne 0 ]; then
        failures=$((failures + 1))
        echo "$test_name.sh: Test failed: $2"
        if [ $# -ge 3 ] && [ -f "$3" ]; then sed 's/^/    | /' "$3" | head -n 40; fi
    fi
    return 0
}

skip() {
    skipped=$((skipped + 1))
    echo "$test_name.sh: Tests skipped: $*"
}

summary() {
    lib_noun=failures
    [ "$failures" -eq 1 ] && lib_noun=failure
    echo "$test_name: $tests tests executed (0 marked as todo, $failures $lib_noun), $skipped skipped."
    [ "$failures" -eq 0 ] && exit 0
    exit 1
}

make_tmp() {
    [ -n "$tmp" ] || tmp=$(mktemp -d "${TMPDIR:-/tmp}/portres-$test_name.XXXXXX")
}

need_prefix() {
    : "${WINEPREFIX:?WINEPREFIX is not set}"
    export WINEPREFIX
    WINEDEBUG=${WINEDEBUG:--all}
    export WINEDEBUG
    WINE=${WINE:-wine}
}

bg() {
    "$@" &
    bg_pid=$!
    lib_bg_pids="$lib_bg_pids $bg_pid"
}

bg_kill() {
    [ -n "$1" ] || return 0
    case " $lib_bg_pids " in
    *" $1 "*)
        # still our child: the shell may have reaped it already, and the
        # pid may be another program's now (pid_max can be 32768)
        lib_is_ours "$1" && kill -9 "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        lib_bg_pids=$(echo " $lib_bg_pids " | sed "s/ $1 / /") ;;
    *)
        # a Wine process of this prefix (prefix_pids), if it still is one
        { tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qxF "WINEPREFIX=$WINEPREFIX" &&
            kill -9 "$1" 2>/dev/null ;;
    esac
    return 0
}

lib_is_ours() {
    [ "$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)" = "$$" ]
}

bg_wait() {
    wait "$1"
    lib_rc=$?
    lib_bg_pids=$(echo " $lib_bg_pids " | sed "s/ $1 / /")
    return $lib_rc
}

nap() { sleep 0.2 2>/dev/null || sleep 1; }

# what a program printed (file $1), for a skip or failure line: its first
# non-empty lines, at most 200 characters, or "no output"
said() {
    lib_said=$(tr -d '\r' <"$1" 2>/dev/null | grep -v '^[[:space:]]*$' | head -n 3 | tr '\n' ' ' | cut -c1-200)
    echo "${lib_said:-no output}"
}

wait_for() {
    lib_n=0
    while [ "$lib_n" -lt $(($3 * 5)) ] && ! grep -q -- "$1" "$2" 2>/dev/null; do
        if [ $# -ge 4 ] && ! kill -0 "$4" 2>/dev/null; then break; fi
        nap
        lib_n=$((lib_n + 1))
    done
    grep -q -- "$1" "$2" 2>/dev/null
}

prefix_pids() {
    # the candidates from pgrep (TEXT as a regular expression), or every process
    if command -v pgrep >/dev/null 2>&1; then
        lib_c=$(pgrep -f -- "$(printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g')")
    else
        lib_c=$(cd /proc && ls -d [0-9]*)
    fi
    for lib_p in $lib_c; do
        { tr '\0' ' ' <"/proc/$lib_p/cmdline"; } 2>/dev/null | grep -qF -- "$1" || continue
        { tr '\0' '\n' <"/proc/$lib_p/environ"; } 2>/dev/null | grep -qxF "WINEPREFIX=$WINEPREFIX" && echo "$lib_p"
    done
    return 0
}

netsh() {
    make_tmp
    timeout 120 "$top/tools/wine-portres" netsh "$@" >"$tmp/out.raw" 2>"$tmp/err"
    rc=$?
    # portres.exe prints something for every outcome: a failure with no
    # output at all is Wine's, before the program ran (CI once had an add
    # exit 1 with nothing printed); said, with Wine's words, and run again
    if [ $rc -ne 0 ] && [ ! -s "$tmp/out.raw" ]; then
        echo "$test_name.sh: netsh $* exited $rc with no output ($(head -c 300 "$tmp/err" | tr '\n' ' ')); running it again" >&2
        timeout 120 "$top/tools/wine-portres" netsh "$@" >"$tmp/out.raw" 2>"$tmp/err"
        rc=$?
    fi
    tr -d '\r' <"$tmp/out.raw" >"$tmp/out"
}

# the #defines of names.h are string literals and other PORTRES_ names
# side by side (C concatenates them); a backslash in a literal escapes the
# next character ("\\" is one backslash)
portres_name() {
    awk -v want="PORTRES_$1" '
        $1 == "#define" && $2 ~ /^PORTRES_[A-Z0-9_]*$/ {
            v = $0
            sub(/^[ \t]*#define[ \t]+[A-Z0-9_]+[ \t]*/, "", v)
            sub(/[ \t]*\/\*.*$/, "", v)
            def[$2] = v
        }
        function expand(name, depth,    v, out, i, c) {
            if (!(name in def) || depth > 10) { bad = name; return "" }
            v = def[name]; out = ""
            while (v != "") {
                c = substr(v, 1, 1)
                if (c == " " || c == "\t") v = substr(v, 2)
                else if (c == "\"") {
                    for (i = 2; i <= length(v) && (c = substr(v, i, 1)) != "\""; i++) {
                        if (c == "\\") c = substr(v, ++i, 1)
                        out = out c
                    }
                    if (i > length(v)) { bad = name; return "" }
                    v = substr(v, i + 1)
                }
                else if (match(v, /^PORTRES_[A-Z0-9_]+/)) {
                    out = out expand(substr(v, 1, RLENGTH), depth + 1)
                    v = substr(v, RLENGTH + 1)
                }
                else { bad = name; return "" }
            }
            return out
        }
        END {
            r = expand(want, 0)
            if (bad != "") { print "portres_name: no string " want " in names.h (at " bad ")" >"/dev/stderr"; exit 1 }
            print r
        }' "$top/libs/core/names.h"
}

# end_prefix_clients: SIGKILL what is left of this prefix's Wine programs
# (services.exe, winedevice.exe, ...) once its wineserver was killed with
# SIGKILL: they do not always end by themselves, and would stay for good
end_prefix_clients() {
    for lib_k in $(prefix_pids '.exe'); do kill -9 "$lib_k" 2>/dev/null; done
    return 0
}

cleanup() { :; }

lib_exit() {
    lib_rc=$?
    trap - EXIT
    cleanup
    # only those still our children (a pid reaped long ago may be another's now)
    for lib_p in $lib_bg_pids; do
        lib_is_ours "$lib_p" || continue
        kill -9 "$lib_p" 2>/dev/null
        wait "$lib_p" 2>/dev/null
    done
    [ -n "$tmp" ] && rm -rf "$tmp"
    exit "$lib_rc"
}
trap lib_exit EXIT
trap 'exit 130' INT TERM
