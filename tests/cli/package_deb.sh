#!/usr/bin/env bash
# Builds the .deb with CPack into a temp dir and checks its contents and metadata, then runs the
# extracted binary (never installs the package). Usage: package_deb.sh BUILD_DIR SOURCE_DIR [CPACK]
set -euo pipefail
build=$1 src=$2 cpack=${3:-cpack}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package_deb: $*" >&2; exit 1; }

"$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
mapfile -t debs < <(find "$tmp/out" -maxdepth 1 -name 'gpuctl_*.deb')
[ ${#debs[@]} -eq 1 ] || fail "expected one gpuctl_*.deb, found: ${debs[*]-none}"
deb=${debs[0]}

dpkg-deb -f "$deb" Package | grep -qx gpuctl || fail "Package is not gpuctl"
dpkg-deb -f "$deb" Section | grep -qx utils || fail "Section is not utils"
# The Maintainer is the configured one (GPUCTL_PACKAGE_MAINTAINER), "Name <mail>".
want=$(sed -n 's/^GPUCTL_PACKAGE_MAINTAINER:STRING=//p' "$build/CMakeCache.txt")
[[ -n $want ]] || fail "no GPUCTL_PACKAGE_MAINTAINER in the CMake cache"
got=$(dpkg-deb -f "$deb" Maintainer)
re='^[^<>]+ <[^<>@ ]+@[^<>@ ]+>$'
[[ $got == "$want" && $got =~ $re ]] ||
    fail "Maintainer is '$got', expected '$want' (Name <mail>)"
dpkg-deb -f "$deb" Description | grep -q 'GPUs you do not own' || fail "no Description"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libc6 libcurl4 tzdata; do
    [[ $depends == *"$d"* ]] || fail "Depends lacks $d: $depends"
done

dpkg -c "$deb" >"$tmp/contents"
for f in ./usr/bin/gpuctl ./usr/lib/gpuctl/libgpuctl-tz.so ./usr/share/man/man1/gpuctl.1 \
    ./usr/share/man/man5/gpuctl.toml.5 \
    ./usr/share/bash-completion/completions/gpuctl ./usr/share/zsh/vendor-completions/_gpuctl \
    ./usr/share/fish/vendor_completions.d/gpuctl.fish; do
    grep -q " $f\$" "$tmp/contents" || { cat "$tmp/contents" >&2; fail "$f not in the package"; }
done

dpkg -x "$deb" "$tmp/root"
cmp "$tmp/root/usr/share/bash-completion/completions/gpuctl" "$src/completions/gpuctl.bash"
cmp "$tmp/root/usr/share/man/man5/gpuctl.toml.5" "$src/man/gpuctl.toml.5"
"$tmp/root/usr/bin/gpuctl" --version | grep -q '^gpuctl ' || fail "--version"
export HOME=$tmp/home XDG_STATE_HOME=$tmp/home/state XDG_CONFIG_HOME=$tmp/home/config
unset GPUCTL_TZ_PLUGIN GPUCTL_DB GPUCTL_CONFIG
"$tmp/root/usr/bin/gpuctl" --tz Europe/Berlin status >/dev/null || fail "--tz Europe/Berlin status"
echo "package_deb: ok ($(basename "$deb"))"
