#!/bin/sh
# exports.sh - the built DLLs export exactly what their spec files say
# (names and ordinals, per architecture), every export of Wine's builtin
# DLL is among them, and ws2_32 keeps the Winsock 1 ordinals.  Uses
# winedump (wine64-tools).
set -u
. "$(dirname "$0")/lib.sh"
make_tmp

# "ordinal name" pairs of a PE DLL's export table
exports() { winedump -j export "$1" | awk '/Entry Pt/ { f = 1; next } f && NF >= 3 && $2 ~ /^[0-9]+$/ { print $2, $3 }' | sort -k2; }

# the one holding ws2_32.dll: with wine32 installed, /usr/lib/i386-linux-gnu/wine/x86_64-windows is empty
builtin_dir=$(ls -d /usr/lib/*/wine/x86_64-windows /usr/lib/wine/x86_64-windows 2>/dev/null |
    while read -r d; do [ -f "$d/ws2_32.dll" ] && echo "$d"; done | head -n 1)
for dll in iphlpapi ws2_32; do
    for arch in x86_64 i386; do
        win=win64; [ $arch = i386 ] && win=win32
        # the spec's names for this architecture; explicit ordinals where given
        awk -v skip="-arch=$([ $win = win64 ] && echo win32 || echo win64)" '
            /^[ \t]*(#|$)/ { next }
            { for (i = 3; i <= NF; i++) if ($i == skip) next
              for (i = 3; i <= NF; i++) if ($i !~ /^-/) { n = $i; sub(/\(.*/, "", n); print $1, n; break } }' \
            "$top/dlls/$dll/$dll.spec" | sort -k2 >"$tmp/spec"
        exports "$top/dlls/$dll/$arch-windows/$dll.dll" >"$tmp/built"
        cut -d' ' -f2 "$tmp/spec" >"$tmp/spec.names"
        cut -d' ' -f2 "$tmp/built" >"$tmp/built.names"
        diff "$tmp/spec.names" "$tmp/built.names" >"$tmp/diff"
        check $? "$arch $dll.dll exports differ from $dll.spec: $(head -5 "$tmp/diff" | tr '\n' ' ')"
        missing=$(awk '$1 != "@"' "$tmp/spec" | while read -r ord name; do grep -qx "$ord $name" "$tmp/built" || echo "$name@$ord"; done)
        check $([ -z "$missing" ]; echo $?) "$arch $dll.dll ordinals differ from the spec: $missing"
        echo "$arch $dll.dll: $(wc -l <"$tmp/built") exports, as the spec says"
    done
    if [ -n "$builtin_dir" ] && [ -f "$builtin_dir/$dll.dll" ]; then
        exports "$builtin_dir/$dll.dll" | cut -d' ' -f2 >"$tmp/builtin.names"
        exports "$top/dlls/$dll/x86_64-windows/$dll.dll" | cut -d' ' -f2 >"$tmp/built.names"
        lacking=$(comm -23 "$tmp/builtin.names" "$tmp/built.names" | tr '\n' ' ')
        check $([ -z "$lacking" ]; echo $?) "$dll.dll lacks exports of Wine's builtin: $lacking"
    else
        skip "no Wine builtin $dll.dll to compare with"
    fi
done

# Winsock 1 ordinals, imported by number by wsock32 and old programs
for arch in x86_64 i386; do
    exports "$top/dlls/ws2_32/$arch-windows/ws2_32.dll" >"$tmp/ws2"
    bad=
    for pair in 1:accept 2:bind 3:closesocket 4:connect 13:listen 20:sendto 23:socket 51:gethostbyaddr \
                52:gethostbyname 57:gethostname 101:WSAAsyncSelect 111:WSAGetLastError 115:WSAStartup \
                116:WSACleanup 151:__WSAFDIsSet 500:WEP; do
        grep -qx "${pair%%:*} ${pair#*:}" "$tmp/ws2" || bad="$bad $pair"
    done
    check $([ -z "$bad" ]; echo $?) "$arch ws2_32.dll Winsock 1 ordinals wrong:$bad"
done
summary
