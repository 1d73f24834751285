#!/bin/sh
# loader.sh - without Wine's builtin, portres's DLLs refuse to load with an
# err:portres line naming the paths tried (tests/conformance/loader.c makes
# the builtin unfindable and checks that the load fails).
set -u
. "$(dirname "$0")/lib.sh"
cd "$top/tests/conformance/x86_64-windows" || exit 2
make_tmp
err=$tmp/err

WINEDEBUG=-all,err+portres timeout 120 wine loader.exe 2>"$err"
check $? "loader.exe failed"
for dll in iphlpapi ws2_32; do
    line=$(grep "err:portres.*builtin $dll.dll not found (tried .*portres-empty-[0-9]*\\\\x86_64-windows\\\\$dll.dll" "$err" | head -n 1)
    printf "%s: %s\n" "$dll" "${line:-no err line}"
    check $([ -n "$line" ]; echo $?) "no err:portres line naming the paths tried for $dll.dll: $(head -c 600 "$err")"
done
summary
