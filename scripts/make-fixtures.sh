#!/usr/bin/env bash
# Regenerates test/fixtures/ (committed, so tests never need these tools).
# Needs: ImageMagick 6 (convert), exiftool, webp (cwebp/img2webp/webpmux), libavif-bin (avifenc),
# libheif-examples (heif-enc), python3, node with the repo's sharp (for an ICC profile).
#   apt-get install -y imagemagick libimage-exiftool-perl webp libavif-bin libheif-examples
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=test/fixtures
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"/{jpeg,png,gif,webp,avif,heic,malformed}
# Fixed seeds and no timestamps so a rerun is as close to byte-identical as the tools allow.
IM="convert -seed 7 -define png:exclude-chunks=date,time"
ET="exiftool -q -q -overwrite_original"

# --- source images ---------------------------------------------------------------------------
# The upright asymmetric test card: red block top-left, blue block top-right, 96x64, so each of
# the 8 EXIF orientations maps the (red, blue) pair to a distinct corner pair.
$IM -size 96x64 xc:white -fill '#ff0000' -draw 'rectangle 0,0 23,15' \
  -fill '#0000ff' -draw 'rectangle 72,0 95,15' "$TMP/upright.png"
$IM -size 320x240 plasma:orange-purple -blur 0x2 "$TMP/photo.png"
$IM -size 160x120 radial-gradient:'rgba(0,128,255,1)'-'rgba(0,128,255,0)' "$TMP/alpha.png"
# An ICC profile: sharp ships Display P3; extract it so ImageMagick can embed it anywhere.
node -e "require('sharp')({create:{width:8,height:8,channels:3,background:'#808080'}}).jpeg().withIccProfile('p3').toFile('$TMP/icc.jpg')"
exiftool -q -b -ICC_Profile "$TMP/icc.jpg" >"$TMP/p3.icc"
cat >"$TMP/xmp.xmp" <<'XMP'
<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/">
<dc:creator><rdf:Seq><rdf:li>Secret Photographer</rdf:li></rdf:Seq></dc:creator>
<exif:GPSLatitude>48,51.5N</exif:GPSLatitude><exif:GPSLongitude>2,17.4E</exif:GPSLongitude>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>
XMP
FULL_TAGS=(-Make=FixtureCam -Model="FX-1 Pro" -Artist="Ada Example" -Copyright="(c) 2024 Ada Example"
  -DateTimeOriginal="2024:05:06 07:08:09" -SerialNumber=SN123456789 -ImageDescription="home address"
  -GPSLatitude=48.8583 -GPSLatitudeRef=N -GPSLongitude=2.2945 -GPSLongitudeRef=E -GPSAltitude=35
  -XMP-dc:Creator="Secret Photographer" -XMP-dc:Description="secret xmp"
  -IPTC:By-line="Iptc Author" -IPTC:City="Paris" -IPTC:Caption-Abstract="iptc caption")

# --- JPEG ------------------------------------------------------------------------------------
$IM "$TMP/photo.png" -profile "$TMP/p3.icc" -comment "a private comment" -quality 85 "$OUT/jpeg/full-metadata.jpg"
$ET "${FULL_TAGS[@]}" -Orientation#=1 -ThumbnailImage'<='"$TMP/icc.jpg" "$OUT/jpeg/full-metadata.jpg"
$IM "$TMP/photo.png" -interlace Plane -quality 80 "$OUT/jpeg/progressive.jpg"
$ET -GPSLatitude=1.5 -GPSLatitudeRef=S -Make=ProgCam "$OUT/jpeg/progressive.jpg"
$IM "$TMP/photo.png" -colorspace CMYK -quality 85 "$OUT/jpeg/cmyk.jpg"
$IM "$TMP/photo.png" -colorspace Gray -quality 85 "$OUT/jpeg/grayscale.jpg"
# Stored pixels = inverse of each orientation applied to the upright card.
INVERSE=("" "" "-flop" "-rotate 180" "-flip" "-transpose" "-rotate 270" "-transverse" "-rotate 90")
for o in 1 2 3 4 5 6 7 8; do
  # shellcheck disable=SC2086
  $IM "$TMP/upright.png" ${INVERSE[$o]} -quality 95 "$OUT/jpeg/orientation-$o.jpg"
  $ET -Orientation#=$o -GPSLatitude=10 -GPSLatitudeRef=N "$OUT/jpeg/orientation-$o.jpg"
done
# The same orientation in little-endian EXIF (exiftool writes big-endian by default).
$IM "$TMP/upright.png" -rotate 270 -quality 95 "$OUT/jpeg/orientation-6-le.jpg"
$ET -ExifByteOrder=Little-endian -Orientation#=6 -Make=LeCam "$OUT/jpeg/orientation-6-le.jpg"
cp "$OUT/jpeg/orientation-1.jpg" "$OUT/jpeg/html-after-eoi.jpg"
printf '<html><body><script>alert(document.cookie)</script></body></html>\n' >>"$OUT/jpeg/html-after-eoi.jpg"
cp "$OUT/jpeg/grayscale.jpg" "$OUT/jpeg/junk-after-eoi.jpg"
head -c 300 /dev/urandom >>"$OUT/jpeg/junk-after-eoi.jpg"

# --- PNG -------------------------------------------------------------------------------------
$IM "$TMP/photo.png" -resize 160x120 "PNG24:$OUT/png/rgb.png"
$IM "$TMP/alpha.png" "PNG32:$OUT/png/rgba.png"
$IM "$TMP/photo.png" -resize 160x120 -colors 16 "PNG8:$OUT/png/palette.png"
$IM "$TMP/photo.png" -resize 160x120 -colorspace Gray "PNG8:$OUT/png/gray.png"
$IM "$TMP/photo.png" -resize 64x48 -depth 16 "PNG48:$OUT/png/rgb16.png"
$IM "$TMP/photo.png" -resize 160x120 -interlace PNG "PNG24:$OUT/png/interlaced.png"
$IM "$TMP/upright.png" -rotate 90 "PNG24:$OUT/png/text-exif.png"
$ET -Orientation#=8 -Make=PngCam -Copyright="(c) png" -GPSLatitude=12 -GPSLatitudeRef=N \
  -PNG:Comment="png secret" -XMP-dc:Description="png xmp" "$OUT/png/text-exif.png"

# --- GIF -------------------------------------------------------------------------------------
$IM "$TMP/photo.png" -resize 96x72 -colors 32 "$OUT/gif/static.gif"
$IM -delay 10 -size 48x32 xc:red xc:lime xc:blue -loop 0 "$OUT/gif/animated.gif"
$IM -size 48x32 xc:none -fill black -draw 'circle 24,16 24,4' "$OUT/gif/transparent.gif"
cp "$OUT/gif/static.gif" "$OUT/gif/comment-xmp.gif"
$ET -Comment="gif secret comment" -XMP-dc:Description="gif xmp" "$OUT/gif/comment-xmp.gif"

# --- WebP ------------------------------------------------------------------------------------
cwebp -quiet -q 75 "$TMP/photo.png" -o "$OUT/webp/lossy.webp"
cwebp -quiet -lossless "$TMP/alpha.png" -o "$OUT/webp/lossless-alpha.webp"
$IM -size 48x32 xc:red "$TMP/f1.png"
$IM -size 48x32 xc:lime "$TMP/f2.png"
$IM -size 48x32 xc:blue "$TMP/f3.png"
img2webp -loop 0 -d 100 -lossy "$TMP/f1.png" "$TMP/f2.png" "$TMP/f3.png" -o "$OUT/webp/animated.webp"
$IM "$TMP/upright.png" -rotate 90 "$TMP/rot.png"
cwebp -quiet -q 90 "$TMP/rot.png" -o "$TMP/rot.webp"
cp "$OUT/jpeg/orientation-1.jpg" "$TMP/exifsrc.jpg"
$ET -Orientation#=6 -Make=WebpCam -Copyright="(c) webp" -GPSLatitude=33 -GPSLatitudeRef=N "$TMP/exifsrc.jpg"
exiftool -q -b -Exif "$TMP/exifsrc.jpg" >"$TMP/exif.bin"
webpmux -set exif "$TMP/exif.bin" "$TMP/rot.webp" -o "$TMP/rot-exif.webp"
webpmux -set xmp "$TMP/xmp.xmp" "$TMP/rot-exif.webp" -o "$OUT/webp/exif-xmp.webp"

# --- AVIF / HEIC -----------------------------------------------------------------------------
avifenc -j 1 -s 8 --min 20 --max 35 --exif "$TMP/exif.bin" --xmp "$TMP/xmp.xmp" "$TMP/photo.png" "$OUT/avif/exif-xmp.avif" >/dev/null
avifenc -j 1 -s 8 --min 20 --max 35 "$TMP/alpha.png" "$OUT/avif/alpha.avif" >/dev/null
# irot 1 (90 degrees anticlockwise) then imir 1 (left-right) displays as EXIF orientation 7, so
# the stored pixels are the card transversed.
$IM "$TMP/upright.png" -transverse "$TMP/transverse.png"
avifenc -j 1 -s 8 --min 20 --max 35 --irot 1 --imir 1 "$TMP/transverse.png" "$OUT/avif/irot-imir.avif" >/dev/null
$IM "$TMP/photo.png" -resize 160x120 "$TMP/small.png"
heif-enc -q 50 -o "$OUT/heic/photo.heic" "$TMP/small.png" >/dev/null
cp "$OUT/heic/photo.heic" "$OUT/heic/exif.heic"
$ET -Make=HeicCam -Copyright="(c) heic" -GPSLatitude=44 -GPSLatitudeRef=N "$OUT/heic/exif.heic" || true
# One 512x512 tile at low quality (~3 KB): test/helpers/synthetic-heic.ts repeats it into grid
# HEICs of any size (24 and 48 MP phone layouts) at test time.
node scripts/make-heic-tile.cjs "$TMP/tile.png"
heif-enc -q 30 -o "$OUT/heic/grid-tile-512.heic" "$TMP/tile.png" >/dev/null

# --- malformed and hostile -------------------------------------------------------------------
head -c 1500 "$OUT/jpeg/progressive.jpg" >"$OUT/malformed/truncated.jpg"
head -c 3000 "$OUT/png/rgb.png" >"$OUT/malformed/truncated.png"
: >"$OUT/malformed/empty.jpg"
printf 'This is just a text file that somebody renamed.\n' >"$OUT/malformed/text.jpg"
printf '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>\n' >"$OUT/malformed/image.svg"
printf '<!DOCTYPE html>\n<html><body><img src=x onerror=alert(1)></body></html>\n' >"$OUT/malformed/page.html"
printf 'push graphic-context\nviewbox 0 0 640 480\nfill "url(https://example.com/x.jpg\\"|ls \\"-la)"\npop graphic-context\n' >"$OUT/malformed/image.mvg"
$IM -size 10799x1 xc:white +repage "$OUT/malformed/polyglot-base.gif"
python3 - "$OUT" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
def rd(p):
    return open(p, "rb").read()
sig = b"\x89PNG\r\n\x1a\n"
# Pixel flood: a 30000x30000 RGB PNG in a few dozen bytes (only the first rows compressed).
ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
idat = zlib.compress(b"\0" * 4096, 9)
open(f"{out}/malformed/flood.png", "wb").write(sig + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
# Pixel flood JPEG: a real 8x8 JPEG whose SOF is patched to 65000x65000.
j = bytearray(rd(f"{out}/jpeg/grayscale.jpg"))
i = 2
while True:
    m, l = j[i + 1], struct.unpack(">H", j[i + 2:i + 4])[0]
    if 0xC0 <= m <= 0xC2:
        j[i + 5:i + 9] = struct.pack(">HH", 65000, 65000); break
    i += 2 + l
open(f"{out}/malformed/flood.jpg", "wb").write(j)
# Bad CRC: flip one byte inside the first IDAT.
p = bytearray(rd(f"{out}/png/rgb.png"))
k = p.find(b"IDAT")
p[k + 20] ^= 0xFF
open(f"{out}/malformed/bad-crc.png", "wb").write(p)
# Lying PNG: IHDR says 640x480 (CRC fixed up) but the data is for 160x120.
p = bytearray(rd(f"{out}/png/rgb.png"))
p[16:24] = struct.pack(">II", 640, 480)
p[29:33] = struct.pack(">I", zlib.crc32(bytes(p[12:29])))
open(f"{out}/malformed/lying-header.png", "wb").write(p)
# Lying PNG without fixing the CRC: caught at the header.
p = bytearray(rd(f"{out}/png/rgb.png"))
p[16:24] = struct.pack(">II", 640, 480)
open(f"{out}/malformed/ihdr-bad-crc.png", "wb").write(p)
# Lying WebP: VP8X canvas 4000x4000 around a 320x240 VP8 bitstream.
w = rd(f"{out}/webp/lossy.webp")
vp8 = w[12:]
vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0, 0, 0, 0]) + (3999).to_bytes(3, "little") + (3999).to_bytes(3, "little")
body = b"WEBP" + vp8x + vp8
open(f"{out}/malformed/lying-header.webp", "wb").write(b"RIFF" + struct.pack("<I", len(body)) + body)
# GIF/JavaScript polyglot: "GIF89a/*" opens a JS comment (a real GIF 10799 px wide, since
# "/*" is its width), and "*/=alert(1)//" after the trailer closes it into valid JS.
g = rd(f"{out}/malformed/polyglot-base.gif")
assert g[6:8] == b"/*" and b"*/" not in g
g += b"*/=alert(1)//\n"
open(f"{out}/malformed/polyglot.gif", "wb").write(g)
PY
rm "$OUT/malformed/polyglot-base.gif"
ls -la "$OUT"/* | head -80
du -sh "$OUT"
