#!/usr/bin/env bash
# Rebuilds avif-dav1d.wasm from Debian's dav1d source package with Debian's emscripten.
# Needs: apt-get install emscripten dpkg-dev meson ninja-build, and a deb-src line for bookworm
# (see README).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only dav1d=1.0.0-2+deb12u1 >/dev/null
tar xJf dav1d_1.0.0.orig.tar.xz
cd dav1d-1.0.0
tar xJf ../dav1d_1.0.0-2+deb12u1.debian.tar.xz
# Debian's patches (the bookworm security fix for CVE-2024-1580).
while read -r p; do
  case "$p" in "" | \#*) continue ;; esac
  patch -p1 <"debian/patches/$p" >/dev/null
done <debian/patches/series
# Threads are never used (n_threads = 1), and meson's emscripten thread flag (-pthread) would
# make every object need shared memory; emscripten's libc stubs pthread_* without it.
sed -i "s/thread_dependency = dependency('threads')/thread_dependency = declare_dependency()/" \
  meson.build
cat >emscripten.cross <<'CROSS'
[binaries]
c = 'emcc'
ar = 'emar'
ranlib = 'emranlib'

[host_machine]
system = 'emscripten'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'
CROSS
# Plain C (no asm, no SIMD), 8 and 10/12-bit, no logging (no stdio in the decode path).
meson setup build --cross-file emscripten.cross --buildtype=release --default-library=static \
  -Denable_asm=false -Dbitdepths=8,16 -Denable_tools=false -Denable_tests=false -Dlogging=false \
  -Dc_args='-O3 -flto' >/dev/null
ninja -C build src/libdav1d.a >/dev/null
# Debian's emscripten uses its frozen, prebuilt system cache (do not point EM_CACHE elsewhere).
# The memory cap makes the module's own limit the processor's WASM budget (96 MiB): past it
# malloc fails and the shim reports out of memory instead of the isolate dying.
emcc -O3 -flto -Iinclude -Ibuild/include -Ibuild/include/dav1d "$here/shim.c" build/src/libdav1d.a \
  --no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sINITIAL_MEMORY=2MB -sMAXIMUM_MEMORY=96MB \
  -sTOTAL_STACK=1MB -sEXPORTED_FUNCTIONS=_malloc,_free,_avif_open,_avif_read_rows -o "$here/avif-dav1d.wasm"
ls -l "$here/avif-dav1d.wasm"
