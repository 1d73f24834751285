#!/bin/sh
# trace.sh - WINEDEBUG=+portres shows the binds portres makes and every
# refusal, with its error: a port-0 bind of an associated socket, then one
# refused WSAEADDRINUSE because its 1-port block is full.
set -u
cd "$PORTRES_TOP/tests/conformance/x86_64-windows" || exit 2
tests=0; failures=0
check() { tests=$((tests + 1)); if [ "$1" -ne 0 ]; then failures=$((failures + 1)); echo "trace.sh: Test failed: $2"; fi; }

WINEDEBUG=-all,+portres timeout 120 wine implicit.exe refuse >out.txt 2>err.txt
rc=$?
check $rc "implicit.exe refuse failed (exit code $rc)"
grep -q "trace:portres:bind_in_block socket .* bound in " err.txt
check $? "no trace line for the bind from the block"
grep -q "trace:portres:bind_in_block socket .*: no free port in .*WSAEADDRINUSE" err.txt
check $? "no trace line for the WSAEADDRINUSE refusal"
grep -q "trace:portres:portres_bind socket .* -> 10048" err.txt
check $? "no trace line for bind's result"
rm -f out.txt err.txt
echo "trace: $tests tests executed (0 marked as todo, $failures failures), 0 skipped."
[ $failures -eq 0 ]
