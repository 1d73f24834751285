#!/bin/sh
# setup.sh - the setup decides by running, on any machine:
#  - tools/install-deps keeps wine32:i386 only when its loader starts: with
#    a loader that fails "Exec format error" it removes wine32, libwine and
#    their i386 dependencies and the i386 architecture, says why in one
#    line, and wine is the 64-bit one again; with a loader that runs it
#    keeps them.  Driven with stand-ins for apt-get, dpkg, dpkg-query and
#    Debian's wine script on PATH: nothing is installed or removed on this
#    machine (checked).
#  - tools/debian-mirror names the mirror of the machine's apt sources
#    (deb822 and one-line), never another host.
#  - tools/wine-portres says why when wine itself cannot start.
set -u
. "$(dirname "$0")/lib.sh"
make_tmp
stubs=$tmp/bin
state=$tmp/state
mkdir -p "$stubs" "$state"

# a file the kernel refuses as a program: ELF of an unknown machine
bad_elf() {
    printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000\377\377' >"$1"
    head -c 64 /dev/zero >>"$1"
    chmod +x "$1"
}

# the stand-ins: installed packages in $state/pkgs, the foreign
# architectures in $state/archs, every apt-get and dpkg call in $state/log
cat >"$stubs/dpkg-query" <<'EOF'
#!/bin/sh
# dpkg-query -W -f=FORMAT PATTERN
pat=$(eval echo \${$#})
case "$pat" in
'*:i386') grep ':i386$' "$STATE/pkgs" ;;
*) grep -qxF "$pat" "$STATE/pkgs" || exit 1
   case "$3$2" in *Status*) printf 'install ok installed' ;; *) echo "$pat" ;; esac ;;
esac
exit 0
EOF
cat >"$stubs/dpkg" <<'EOF'
#!/bin/sh
echo "dpkg $*" >>"$STATE/log"
case "$1" in
--print-foreign-architectures) cat "$STATE/archs" ;;
--add-architecture) echo "$2" >>"$STATE/archs" ;;
--remove-architecture)
    if grep -q ":$2\$" "$STATE/pkgs"; then echo "dpkg: error: cannot remove architecture '$2' currently in use by the database" >&2; exit 2; fi
    grep -vx "$2" "$STATE/archs" >"$STATE/archs.new"; mv "$STATE/archs.new" "$STATE/archs" ;;
esac
exit 0
EOF
cat >"$stubs/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$STATE/log"
for a; do last=$a; done
case " $* " in
*" -s autoremove "*)
    # libfoo:i386 and wget's old helper are orphans once wine32 is gone
    grep -qx 'wine32:i386' "$STATE/pkgs" || grep -x 'libfoo:i386' "$STATE/pkgs" | sed 's/.*/Remv & [1.0]/'
    echo "Remv libunrelated [1.0]" ;;
*" purge "*)
    for a; do case "$a" in -*|purge) ;; *)
        grep -vxF "$a" "$STATE/pkgs" >"$STATE/pkgs.new"; mv "$STATE/pkgs.new" "$STATE/pkgs"
        [ "$a" = wine32:i386 ] && rm -f "$STATE/wine32-loader" ;;
    esac; done ;;
*" install "*)
    for a; do case "$a" in -*|install) ;; *)
        echo "$a" >>"$STATE/pkgs"
        if [ "$a" = wine32:i386 ]; then
            printf 'libwine:i386\nlibfoo:i386\n' >>"$STATE/pkgs"
            cp "$STATE/loader-to-install" "$STATE/wine32-loader"
        fi ;;
    esac; done ;;
esac
exit 0
EOF
# Debian's /usr/bin/wine: the 32-bit loader when it is there, else wine64
cat >"$stubs/wine" <<'EOF'
#!/bin/sh
if [ -x "$STATE/wine32-loader" ]; then exec "$STATE/wine32-loader" "$@"; fi
echo "wine-8.0 (stand-in wine64)"
EOF
chmod +x "$stubs"/*
bad_elf "$tmp/broken-loader"
printf '#!/bin/sh\necho "wine-8.0 (stand-in wine32)"\n' >"$tmp/good-loader"
chmod +x "$tmp/good-loader"

all_packages() {
    sed -n '/^PACKAGES="/,/"$/p' "$top/tools/install-deps" | tr -d '"' | sed 's/^PACKAGES=//' | tr ' ' '\n' | grep .
}

# run install-deps against the stand-ins: $1 the loader wine32 brings,
# $2 "installed" when wine32 is there before, else it is installed now
run_install_deps() {
    : >"$state/log"
    all_packages >"$state/pkgs"
    echo winetricks >>"$state/pkgs"
    cp "$1" "$state/loader-to-install"
    if [ "$2" = installed ]; then
        printf 'wine32:i386\nlibwine:i386\nlibfoo:i386\n' >>"$state/pkgs"
        echo i386 >"$state/archs"
        cp "$1" "$state/wine32-loader"
    else
        # one package missing, so that install-deps goes to apt at all
        grep -vx wget "$state/pkgs" >"$state/pkgs.new"; mv "$state/pkgs.new" "$state/pkgs"
        : >"$state/archs"
        rm -f "$state/wine32-loader"
    fi
    STATE=$state PATH="$stubs:$PATH" PORTRES_WINE32_LOADER="$state/wine32-loader" \
        sh "$top/tools/install-deps" >"$tmp/out" 2>&1
    rc=$?
    wine_says=$(STATE=$state PATH="$stubs:$PATH" wine --version 2>&1)
}

# this machine's own packages, before: none may change
real_before=$(dpkg-query -W -f='${binary:Package} ${Status}\n' 2>/dev/null | md5sum)
check $([ "$(STATE=$state PATH="$stubs:$PATH" command -v apt-get)" = "$stubs/apt-get" ]; echo $?) "the apt-get stand-in is not the one on PATH"

for when in installed fresh; do
    # a loader that the kernel refuses
    run_install_deps "$tmp/broken-loader" "$when"
    check $rc "$when, broken loader: install-deps exited $rc" "$tmp/out"
    check $([ "$(grep -c 'removing wine32:i386' "$tmp/out")" -eq 1 ]; echo $?) "$when, broken loader: no single line saying wine32 is removed" "$tmp/out"
    check $(grep -q 'removing wine32:i386.*Exec format error' "$tmp/out"; echo $?) "$when, broken loader: the line does not give the loader's error" "$tmp/out"
    check $(! grep -q ':i386$' "$state/pkgs"; echo $?) "$when, broken loader: i386 packages left: $(grep ':i386$' "$state/pkgs" | tr '\n' ' ')"
    check $(! grep -q 'libunrelated' "$state/log"; echo $?) "$when, broken loader: an amd64 orphan was removed too" "$state/log"
    check $(! grep -qx i386 "$state/archs"; echo $?) "$when, broken loader: the i386 architecture is still there"
    check $(grep -q 'purge.*wine32:i386.*libwine:i386' "$state/log"; echo $?) "$when, broken loader: wine32 and libwine not purged" "$state/log"
    check $([ "$wine_says" = "wine-8.0 (stand-in wine64)" ]; echo $?) "$when, broken loader: wine --version afterwards says '$wine_says'"

    # a loader that runs
    run_install_deps "$tmp/good-loader" "$when"
    check $rc "$when, working loader: install-deps exited $rc" "$tmp/out"
    check $(! grep -q 'removing' "$tmp/out"; echo $?) "$when, working loader: something was removed" "$tmp/out"
    check $(! grep -q purge "$state/log"; echo $?) "$when, working loader: apt-get purge was called" "$state/log"
    check $(grep -qx 'wine32:i386' "$state/pkgs"; echo $?) "$when, working loader: wine32:i386 is gone"
    check $([ "$wine_says" = "wine-8.0 (stand-in wine32)" ]; echo $?) "$when, working loader: wine --version afterwards says '$wine_says'"
done
# on a fresh machine the working loader is named as the one that will run the 32-bit tests
check $(grep -q 'wine32 runs (wine-8.0 (stand-in wine32))' "$tmp/out"; echo $?) "fresh, working loader: no line saying wine32 runs" "$tmp/out"

# wine broken whatever install-deps does: it says so and fails
: >"$state/log"; all_packages >"$state/pkgs"; echo winetricks >>"$state/pkgs"; : >"$state/archs"
bad_elf "$state/wine32-loader"
STATE=$state PATH="$stubs:$PATH" PORTRES_WINE32_LOADER="$state/wine32-loader" sh "$top/tools/install-deps" >"$tmp/out" 2>&1
rc=$?
check $([ $rc -ne 0 ] && grep -q 'wine does not start.*Exec format error' "$tmp/out"; echo $?) "a wine that does not start: install-deps exited $rc" "$tmp/out"
rm -f "$state/wine32-loader"

real_after=$(dpkg-query -W -f='${binary:Package} ${Status}\n' 2>/dev/null | md5sum)
check $([ "$real_before" = "$real_after" ]; echo $?) "this machine's packages changed during the test"

# --- debian-mirror ------------------------------------------------------------
etc=$tmp/apt
mkdir -p "$etc/sources.list.d"
printf 'VERSION_CODENAME=bookworm\n' >"$tmp/os-release"
mirror() { PORTRES_APT_ETC=$etc PORTRES_OS_RELEASE=$tmp/os-release sh "$top/tools/debian-mirror" "$@" 2>"$tmp/err"; }
cat >"$etc/sources.list.d/debian.sources" <<'EOF'
Types: deb
# a comment inside the stanza
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src deb
URIs: http://mirror.example/debian/
# the archive of this machine
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
EOF
check $([ "$(mirror)" = http://mirror.example/debian ]; echo $?) "deb822: debian-mirror says '$(mirror)'" "$tmp/err"
check $([ "$(mirror bookworm-security)" = http://security.example/debian-security ]; echo $?) "deb822: the security source is '$(mirror bookworm-security)'"
mv "$etc/sources.list.d/debian.sources" "$tmp/debian.sources"
printf '# local\ndeb-src http://src.example/debian bookworm main\ndeb [signed-by=/usr/share/keyrings/k.gpg arch=amd64] http://proxy.example:3142/debian bookworm main contrib\n' >"$etc/sources.list"
check $([ "$(mirror)" = http://proxy.example:3142/debian ]; echo $?) "sources.list: debian-mirror says '$(mirror)'" "$tmp/err"
mirror trixie >/dev/null
check $([ $? -eq 1 ] && grep -q 'serves trixie' "$tmp/err"; echo $?) "no source of the suite: not exit 1 with a reason" "$tmp/err"
rm -f "$etc/sources.list"
mirror >/dev/null
check $([ $? -eq 1 ]; echo $?) "no sources at all: not exit 1"
real=$(sh "$top/tools/debian-mirror" 2>/dev/null)
check $(grep -rqsF "${real:-no mirror}" /etc/apt/sources.list /etc/apt/sources.list.d/; echo $?) "this machine's mirror '$real' is not in its apt sources"

# --- wine-portres when wine does not start ------------------------------------
bad_elf "$tmp/wine-broken"
WINE=$tmp/wine-broken WINEPREFIX=$tmp/newprefix sh "$top/tools/wine-portres" run notepad >"$tmp/out" 2>&1
rc=$?
check $([ $rc -ne 0 ] && grep -q 'does not start: .*Exec format error' "$tmp/out"; echo $?) "wine-portres with a wine that does not start: exit $rc" "$tmp/out"

summary
