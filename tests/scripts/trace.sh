#!/bin/sh
# trace.sh - WINEDEBUG=+portres shows the binds portres makes and every
# refusal, with its error: a port-0 bind of an associated socket, then one
# refused WSAEADDRINUSE because its 1-port block is full.
set -u
. "$(dirname "$0")/lib.sh"
cd "$top/tests/conformance/x86_64-windows" || exit 2
make_tmp

WINEDEBUG=-all,+portres timeout 120 wine implicit.exe refuse >"$tmp/out" 2>"$tmp/err"
rc=$?
check $rc "implicit.exe refuse failed (exit code $rc)"
grep -q "trace:portres:bind_in_block socket .* bound in " "$tmp/err"
check $? "no trace line for the bind from the block"
grep -q "trace:portres:bind_in_block socket .*: no free port in .*WSAEADDRINUSE" "$tmp/err"
check $? "no trace line for the WSAEADDRINUSE refusal"
grep -q "trace:portres:portres_bind socket .* -> 10048" "$tmp/err"
check $? "no trace line for bind's result"
summary
