#!/usr/bin/env bash
# `npm run kernel:build`: the LUO test kernel (an x86_64 bzImage) built from Debian's
# linux-source-7.3, configured from the kernel's own LUO self-test fragments plus
# scripts/kernel/luo-test.config. The result is cached outside the clone, keyed by the source
# package version and the hash of the configuration inputs, so later runs reuse it.
#
# Prints the bzImage's path as its last line. Environment:
#   LUO_KERNEL_CACHE   cache directory (default /var/cache/luo-fleet/kernel, or ~/.cache/... if not root)
#   LUO_KERNEL_JOBS    make -j (default: the number of CPUs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PKG=linux-source-7.3
SUITE=trixie-backports
if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/luo-fleet/kernel; else default_cache=$HOME/.cache/luo-fleet/kernel; fi
CACHE=${LUO_KERNEL_CACHE:-$default_cache}
JOBS=${LUO_KERNEL_JOBS:-$(nproc)}
mkdir -p "$CACHE/src"
say() { echo "kernel:build: $*" >&2; }

# The suite is known to a private apt configuration that only downloads: nothing is ever installed
# from it, and the machine's own sources are left as they are.
APT_DIR=$CACHE/apt
apt_private() {
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  echo "deb http://deb.debian.org/debian $SUITE main" > "$APT_DIR/sources.list"
  "$@" -o Dir::Etc::SourceList="$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache" -o APT::Get::List-Cleanup=0
}

# Build tools come from the machine's own suite.
need=()
for tool in gcc:build-essential make:build-essential flex:flex bison:bison bc:bc; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
[ -e /usr/include/libelf.h ] || need+=(libelf-dev)
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ]; then
  say "installing build tools: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

deb=$(ls "$CACHE"/src/${PKG}_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$deb" ]; then
  say "downloading $PKG from $SUITE"
  apt_private apt-get update -qq >&2
  (cd "$CACHE/src" && apt_private apt-get download -qq "$PKG" >&2)
  deb=$(ls "$CACHE"/src/${PKG}_*.deb | sort -V | tail -n 1)
fi
version=$(dpkg-deb -f "$deb" Version)
src=$CACHE/src/tree-$version
if [ ! -f "$src/.unpacked" ]; then
  say "unpacking $PKG $version"
  rm -rf "$src" "$CACHE/src/deb"
  dpkg-deb -x "$deb" "$CACHE/src/deb"
  mkdir -p "$src"
  tar -xJf "$CACHE"/src/deb/usr/src/${PKG}.tar.xz -C "$src" --strip-components=1
  rm -rf "$CACHE/src/deb"
  touch "$src/.unpacked"
fi

selftest=$src/tools/testing/selftests/liveupdate
key_inputs=$(cat "$selftest/config.x86_64" "$selftest/config" "$here/luo-test.config" "$here/build-kernel.sh")
key=$version-$(printf '%s' "$key_inputs" | sha256sum | cut -c1-16)
out=$CACHE/$key
if [ -f "$out/bzImage" ]; then
  say "cached: $out/bzImage"
  echo "$out/bzImage"
  exit 0
fi

build=$CACHE/build-$key
rm -rf "$build"; mkdir -p "$build"
cat "$selftest/config.x86_64" "$selftest/config" "$here/luo-test.config" > "$build/luo.config"
cp "$build/luo.config" "$build/.config"
make -s -C "$src" O="$build" olddefconfig >&2
# Every option asked for must have survived olddefconfig (a dependency left out drops it silently).
missing=0
while IFS= read -r line; do
  case "$line" in CONFIG_*=y) grep -qx "$line" "$build/.config" || { say "option lost: $line"; missing=1; } ;; esac
done < "$build/luo.config"
[ "$missing" = 0 ] || { say "configuration incomplete (see above)"; exit 1; }

say "building bzImage with -j$JOBS (about 17 minutes on 2 cores)"
start=$(date +%s)
make -s -C "$src" O="$build" -j"$JOBS" bzImage >&2
mkdir -p "$out"
cp "$build/arch/x86/boot/bzImage" "$out/bzImage"
cp "$build/.config" "$out/config"
say "built in $(( $(date +%s) - start )) s: $out/bzImage"
rm -rf "$build"
echo "$out/bzImage"
