#!/usr/bin/env bash
# Rebuilds webp-scaled.wasm from Debian's libwebp source package with Debian's emscripten.
# Needs: apt-get install emscripten dpkg-dev, and a deb-src line for bookworm (see README).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only libwebp=1.2.4-0.2+deb12u1 >/dev/null
tar xzf libwebp_1.2.4.orig.tar.gz
cd libwebp-1.2.4
# Decoder, utilities and plain-C DSP only: no encoder, no SIMD (WASM SIMD is not needed here).
mapfile -t sources < <(ls src/dec/*.c src/utils/*.c src/dsp/*.c sharpyuv/*.c 2>/dev/null |
  grep -vE '_(sse2|sse41|neon|msa|mips32|mips_dsp_r2)\.c$|src/dsp/(enc|cost|ssim|lossless_enc)|src/utils/(huffman_encode|bit_writer|quant_levels)_utils\.c$')
# Debian's emscripten uses its frozen, prebuilt system cache (do not point EM_CACHE elsewhere).
emcc -O3 -flto -I. -Isrc "$here/shim.c" "${sources[@]}" \
  --no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sINITIAL_MEMORY=1MB -sTOTAL_STACK=256KB \
  -sEXPORTED_FUNCTIONS=_malloc,_free,_webp_decode_scaled -o "$here/webp-scaled.wasm"
ls -l "$here/webp-scaled.wasm"
