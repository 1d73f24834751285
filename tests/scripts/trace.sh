#!/bin/sh
# trace.sh - WINEDEBUG=+portres shows the binds portres makes and every
# refusal, with its error: a port-0 bind of an associated socket, then one
# refused WSAEADDRINUSE because its 1-port block is full; each call traced
# on entry with its address (family, address, port) or its block or
# token; a bind refused WSAEACCES names the block and the token in the
# way; WINEDEBUG=+winsock shows the same lines.
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
grep -q "trace:portres:portres_bind socket [0-9a-fx]*, 127\.0\.0\.1:0\$" "$tmp/err"
check $? "no trace line for bind's entry with its address" "$tmp/err"
grep -q "trace:portres:port_reservation_ioctl socket [0-9a-fx]* SIO_ACQUIRE_PORT_RESERVATION [0-9]*+1\$" "$tmp/err"
check $? "no trace line for the acquire's entry with its block" "$tmp/err"
grep -q "trace:portres:port_reservation_ioctl socket [0-9a-fx]* -> 0: [0-9]*+1, token 0x[0-9a-f]*\$" "$tmp/err"
check $? "no trace line for the acquire's block and token" "$tmp/err"

WINEDEBUG=-all,+winsock timeout 120 wine implicit.exe refuse >"$tmp/out" 2>"$tmp/err2"
grep -q "trace:portres:bind_in_block socket .*: no free port in .*WSAEADDRINUSE" "$tmp/err2"
check $? "WINEDEBUG=+winsock does not show portres's refusal" "$tmp/err2"

WINEDEBUG=-all,+portres timeout 300 wine enforce.exe >"$tmp/out" 2>"$tmp/err3"
grep -q "trace:portres:foreign_reservation [TU][CD]P port [0-9]* is in [0-9]*+[0-9]*, token 0x[0-9a-f]* of process [0-9]*: WSAEACCES" "$tmp/err3"
check $? "no trace line naming the block and token of a WSAEACCES bind" "$tmp/err3"
grep -q "trace:portres:portres_bind socket [0-9a-fx]*, \[::\]:[0-9]*\$" "$tmp/err3"
check $? "no trace line with an IPv6 address ([::]:port)" "$tmp/err3"
summary
