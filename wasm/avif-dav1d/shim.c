// AVIF decoding for the processor: dav1d decodes the AV1 item(s) the TypeScript side cut out of
// the container; the YUV planes are then converted to RGBA and box-shrunk by an integer factor
// a band of rows at a time, so no RGBA frame is ever whole in WASM memory. jsquash's libavif
// build (libaom inside) peaks at ~23 bytes a pixel; this at ~2 (dav1d's planes and state).
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dav1d/dav1d.h"

enum {
  AVIF_OK = 0,
  AVIF_OUT_OF_MEMORY = 1,
  AVIF_BITSTREAM_ERROR = 2,
  AVIF_UNSUPPORTED = 3,
  AVIF_SIZE_MISMATCH = 4,
  AVIF_INVALID_ARGUMENT = 5,
};

// Fixed-point precision of the YUV->RGB coefficients.
#define FIX_BITS 16
#define FIX_ONE (1 << FIX_BITS)

static void no_free(const uint8_t* buf, void* cookie) {
  (void)buf;
  (void)cookie;
}

static int status_of(int dav1d_err) {
  return dav1d_err == DAV1D_ERR(ENOMEM) ? AVIF_OUT_OF_MEMORY : AVIF_BITSTREAM_ERROR;
}

// Decodes the one picture of an AV1 still (an AVIF image item's OBUs), single-threaded and
// without frame delay, so dav1d holds one frame and no worker state. The decoder context is
// closed before returning: its per-frame buffers are freed for the conversion to reuse, and
// only `pic` (refcounted) stays alive.
static int decode_picture(const uint8_t* data, size_t len, unsigned max_pixels, Dav1dPicture* pic) {
  Dav1dSettings s;
  dav1d_default_settings(&s);
  s.n_threads = 1;
  s.max_frame_delay = 1;
  // Film grain is applied below, only if the copy it needs fits.
  s.apply_grain = 0;
  s.all_layers = 0;
  // A crafted sequence header cannot make dav1d allocate beyond what the container declared.
  s.frame_size_limit = max_pixels;
  Dav1dContext* c = NULL;
  int err = dav1d_open(&c, &s);
  if (err < 0) return status_of(err);

  Dav1dData d;
  memset(&d, 0, sizeof d);
  err = dav1d_data_wrap(&d, data, len, no_free, NULL);
  int status = err < 0 ? status_of(err) : AVIF_BITSTREAM_ERROR;
  Dav1dPicture decoded;
  memset(&decoded, 0, sizeof decoded);
  int have = 0;
  // One temporal unit: each round consumes data or yields the picture; the bound only guards
  // against a decoder that does neither.
  for (int round = 0; err >= 0 && round < 64 && !have; round++) {
    if (d.sz > 0) {
      err = dav1d_send_data(c, &d);
      if (err < 0 && err != DAV1D_ERR(EAGAIN)) {
        status = status_of(err);
        break;
      }
      err = 0;
    }
    const int got = dav1d_get_picture(c, &decoded);
    if (got == 0) {
      have = 1;
    } else if (got != DAV1D_ERR(EAGAIN)) {
      status = status_of(got);
      break;
    } else if (d.sz == 0) {
      break;  // all data consumed and nothing came out
    }
  }
  if (d.sz > 0) dav1d_data_unref(&d);
  if (have) {
    status = AVIF_OK;
    *pic = decoded;
    if (decoded.frame_hdr && decoded.frame_hdr->film_grain.present) {
      Dav1dPicture grained;
      memset(&grained, 0, sizeof grained);
      // Out of memory here keeps the grain-free picture: the grain is noise synthesis that
      // the box shrink averages away, not image content.
      if (dav1d_apply_grain(c, &grained, &decoded) == 0) {
        dav1d_picture_unref(&decoded);
        *pic = grained;
      }
    }
  }
  dav1d_close(&c);
  return status;
}

// Kr and Kb of a CICP matrix (ISO/IEC 23091-4); 0 when RGB is not a linear matrix of YCbCr.
static int matrix_coefficients(int mc, double* kr, double* kb) {
  switch (mc) {
    case 1:  // BT.709
      *kr = 0.2126;
      *kb = 0.0722;
      return 1;
    case 2:  // unspecified: libavif and libheif read it as BT.601
    case 5:  // BT.470BG
    case 6:  // BT.601
      *kr = 0.299;
      *kb = 0.114;
      return 1;
    case 4:  // FCC
      *kr = 0.30;
      *kb = 0.11;
      return 1;
    case 7:  // SMPTE 240M
      *kr = 0.212;
      *kb = 0.087;
      return 1;
    case 9:  // BT.2020 non-constant luminance
      *kr = 0.2627;
      *kb = 0.0593;
      return 1;
    default:
      return 0;
  }
}

typedef struct {
  int identity;
  int max;     // largest sample value: 255, 1023 or 4095
  int bias16;  // chroma's zero (2^(depth-1)) x16
  int32_t cr_r, cb_b;  // per unit of chroma x16 (minus bias16), FIX_BITS
  int32_t cb_g, cr_g;
  int32_t y[4096];  // luma term per sample value, FIX_BITS
} Converter;

static int make_converter(Converter* cv, int mc, int full_range, int depth) {
  double kr = 0, kb = 0;
  cv->identity = mc == 0;
  if (!cv->identity && !matrix_coefficients(mc, &kr, &kb)) return 0;
  const int steps = 1 << (depth - 8);
  cv->max = (1 << depth) - 1;
  cv->bias16 = (1 << (depth - 1)) * 16;
  // Limited range puts black at 16 and white at 235 (chroma spans 224) in 8-bit units.
  const double y_scale = full_range ? 255.0 / cv->max : 255.0 / (219.0 * steps);
  const double y_off = full_range ? 0.0 : 16.0 * steps;
  const double c_scale = full_range ? 255.0 / cv->max : 255.0 / (224.0 * steps);
  for (int v = 0; v <= cv->max; v++) {
    const double t = (v - y_off) * y_scale * FIX_ONE;
    cv->y[v] = (int32_t)(t < 0 ? t - 0.5 : t + 0.5);
  }
  const double kg = 1.0 - kr - kb;
  // Chroma arrives as 16x the sample (the upsampling weights sum to 16).
  const double unit = c_scale * FIX_ONE / 16.0;
  if (cv->identity) {
    cv->cr_r = cv->cb_b = cv->cb_g = cv->cr_g = 0;
  } else {
    cv->cr_r = (int32_t)(2.0 * (1.0 - kr) * unit + 0.5);
    cv->cb_b = (int32_t)(2.0 * (1.0 - kb) * unit + 0.5);
    cv->cb_g = (int32_t)(2.0 * kb * (1.0 - kb) / kg * unit + 0.5);
    cv->cr_g = (int32_t)(2.0 * kr * (1.0 - kr) / kg * unit + 0.5);
  }
  return 1;
}

static inline uint8_t clamp8(int32_t v) {
  v = (v + (FIX_ONE >> 1)) >> FIX_BITS;
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Sample x of a row: bytes at 8 bits, 16-bit words (low bits) at 10 and 12.
static inline int sample(const void* row, int x, int hbd) {
  return hbd ? ((const uint16_t*)row)[x] : ((const uint8_t*)row)[x];
}

// Chroma upsampled to one luma row: each sample is 16x the value, bilinear with the chroma
// sample sited between its luma samples (weights 9/3/3/1), as libavif's default and libjpeg's
// "fancy" upsampling do. 4:4:4 passes through (x16); 4:0:0 is neutral grey.
static void chroma_row(const Dav1dPicture* pic, int plane, int y, int width, int bias16,
                       int32_t* out) {
  const int layout = pic->p.layout;
  if (layout == DAV1D_PIXEL_LAYOUT_I400) {
    for (int x = 0; x < width; x++) out[x] = bias16;
    return;
  }
  const int hbd = pic->p.bpc > 8;
  const int ss_hor = layout != DAV1D_PIXEL_LAYOUT_I444;
  const int ss_ver = layout == DAV1D_PIXEL_LAYOUT_I420;
  const int cw = (width + ss_hor) >> ss_hor;
  const int ch = (pic->p.h + ss_ver) >> ss_ver;
  const ptrdiff_t stride = pic->stride[1];
  const uint8_t* base = (const uint8_t*)pic->data[plane];
  const int cy = y >> ss_ver;
  int fy = cy;
  if (ss_ver) fy = (y & 1) ? cy + 1 : cy - 1;
  if (fy < 0) fy = 0;
  if (fy >= ch) fy = ch - 1;
  const void* near = base + cy * stride;
  const void* far = base + fy * stride;
  const int wn = ss_ver ? 3 : 4;
  const int wf = ss_ver ? 1 : 0;
  for (int x = 0; x < width; x++) {
    const int cx = x >> ss_hor;
    if (!ss_hor) {
      out[x] = 4 * (wn * sample(near, cx, hbd) + wf * sample(far, cx, hbd));
      continue;
    }
    int fx = (x & 1) ? cx + 1 : cx - 1;
    if (fx < 0) fx = 0;
    if (fx >= cw) fx = cw - 1;
    out[x] = wn * (3 * sample(near, cx, hbd) + sample(near, fx, hbd)) +
             wf * (3 * sample(far, cx, hbd) + sample(far, fx, hbd));
  }
}

// Alpha of one row as 8-bit full range (an alpha item coded in limited range is expanded).
static void alpha_row(const Dav1dPicture* alpha, int y, int width, uint8_t* out) {
  const void* src = (const uint8_t*)alpha->data[0] + y * alpha->stride[0];
  const int hbd = alpha->p.bpc > 8;
  const int max = (1 << alpha->p.bpc) - 1;
  const int full = alpha->seq_hdr && alpha->seq_hdr->color_range;
  if (full && !hbd) {
    memcpy(out, src, (size_t)width);
    return;
  }
  const int steps = 1 << (alpha->p.bpc - 8);
  const int off = full ? 0 : 16 * steps;
  const int span = full ? max : 219 * steps;
  for (int x = 0; x < width; x++) {
    const int v = ((sample(src, x, hbd) - off) * 255 + span / 2) / span;
    out[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

// One decode at a time per instance (the processor drops the instance after each call), so
// the state between avif_open and the avif_read_rows calls lives here.
static struct {
  Dav1dPicture pic;
  Dav1dPicture alpha;
  int has_alpha;
  Converter cv;
  int factor;
  int out_w;
  int y;  // next source row to convert
  // One output row's sums (r*a, g*a, b*a, a per output pixel) and one source row's chroma
  // (x16) and alpha.
  uint64_t* sums;
  int32_t* cb;
  int32_t* cr;
  uint8_t* a;
} S;

// Converts one source row and adds it to the output row's sums: each output pixel is the mean
// of a factor x factor block (clipped at the edges), colour weighted by alpha so transparent
// pixels do not bleed into edges (for opaque images the plain mean).
static void accumulate_row(int y) {
  const Dav1dPicture* pic = &S.pic;
  const Converter* cv = &S.cv;
  const int w = pic->p.w;
  const int factor = S.factor;
  const void* luma = (const uint8_t*)pic->data[0] + y * pic->stride[0];
  const int hbd = pic->p.bpc > 8;
  const uint8_t* a = S.a;
  chroma_row(pic, 1, y, w, cv->bias16, S.cb);
  chroma_row(pic, 2, y, w, cv->bias16, S.cr);
  if (S.has_alpha) alpha_row(&S.alpha, y, w, S.a);
  for (int x = 0, ox = 0; x < w; ox++) {
    const int end = x + factor < w ? x + factor : w;
    uint64_t r = 0, g = 0, b = 0, wa = 0;
    for (; x < end; x++) {
      const int32_t yy = cv->y[sample(luma, x, hbd)];
      const int32_t cb = S.cb[x];
      const int32_t cr = S.cr[x];
      uint8_t pr, pg, pb;
      if (cv->identity) {
        // GBR (AV1 allows it in 4:4:4 only, so chroma is whole samples x16): Y carries green,
        // Cb blue, Cr red, each with the luma range.
        pg = clamp8(yy);
        pb = clamp8(cv->y[(cb >> 4) & cv->max]);
        pr = clamp8(cv->y[(cr >> 4) & cv->max]);
      } else {
        const int32_t u = cb - cv->bias16;
        const int32_t v = cr - cv->bias16;
        pr = clamp8(yy + v * cv->cr_r);
        pg = clamp8(yy - u * cv->cb_g - v * cv->cr_g);
        pb = clamp8(yy + u * cv->cb_b);
      }
      const uint32_t al = a[x];
      r += pr * al;
      g += pg * al;
      b += pb * al;
      wa += al;
    }
    uint64_t* s = S.sums + (size_t)ox * 4;
    s[0] += r;
    s[1] += g;
    s[2] += b;
    s[3] += wa;
  }
}

// Writes the output row built from the last `rows` source rows and clears the sums.
static void flush_row(int rows, uint8_t* row) {
  const int w = S.pic.p.w;
  for (int ox = 0; ox < S.out_w; ox++) {
    const int cols = (ox + 1) * S.factor <= w ? S.factor : w - ox * S.factor;
    uint64_t* s = S.sums + (size_t)ox * 4;
    const uint64_t wa = s[3];
    uint8_t* o = row + (size_t)ox * 4;
    if (wa > 0) {
      o[0] = (uint8_t)((s[0] + wa / 2) / wa);
      o[1] = (uint8_t)((s[1] + wa / 2) / wa);
      o[2] = (uint8_t)((s[2] + wa / 2) / wa);
      const uint64_t n = (uint64_t)cols * (uint64_t)rows;
      o[3] = (uint8_t)((wa + n / 2) / n);
    } else {
      o[0] = o[1] = o[2] = o[3] = 0;
    }
    s[0] = s[1] = s[2] = s[3] = 0;
  }
}

// Checks the decoded picture against the container and sets up the conversion.
static int prepare(int width, int height, int factor, int matrix, int full_range) {
  const Dav1dPicture* pic = &S.pic;
  if (pic->p.w != width || pic->p.h != height) return AVIF_SIZE_MISMATCH;
  if (pic->p.bpc != 8 && pic->p.bpc != 10 && pic->p.bpc != 12) return AVIF_UNSUPPORTED;
  const int mc = matrix >= 0 ? matrix : (int)pic->seq_hdr->mtrx;
  const int range = full_range >= 0 ? full_range : pic->seq_hdr->color_range;
  // AV1 codes the identity matrix (GBR) in 4:4:4 only.
  if (mc == 0 && pic->p.layout != DAV1D_PIXEL_LAYOUT_I444) return AVIF_UNSUPPORTED;
  if (!make_converter(&S.cv, mc, range, pic->p.bpc)) return AVIF_UNSUPPORTED;
  S.factor = factor;
  S.out_w = (width + factor - 1) / factor;
  S.sums = calloc((size_t)S.out_w * 4, sizeof(uint64_t));
  S.cb = malloc((size_t)width * sizeof(int32_t));
  S.cr = malloc((size_t)width * sizeof(int32_t));
  S.a = malloc((size_t)width);
  if (!S.sums || !S.cb || !S.cr || !S.a) return AVIF_OUT_OF_MEMORY;
  memset(S.a, 255, (size_t)width);
  return AVIF_OK;
}

// Decodes an AVIF image item (`color`, its AV1 OBUs) and, when `alpha_len` > 0, its alpha
// auxiliary item, and prepares their conversion to RGBA (straight alpha) box-shrunk by `factor`
// (ceil(width / factor) x ceil(height / factor) pixels), which avif_read_rows then hands out a
// band at a time: the output frame is never whole in WASM memory. `matrix` is the CICP
// matrix_coefficients and `full_range` the range, each -1 to take the AV1 sequence header's.
// `color` and `alpha` must come from malloc: they are freed once decoded. Returns an AVIF_*
// status; 0 on success. Call once per instance.
int avif_open(uint8_t* color, size_t color_len, uint8_t* alpha, size_t alpha_len, int width,
              int height, int factor, int matrix, int full_range) {
  if (width < 1 || height < 1 || factor < 1 || S.sums) return AVIF_INVALID_ARGUMENT;
  const unsigned max_pixels = (unsigned)width * (unsigned)height;
  int status = AVIF_OK;
  if (alpha_len > 0) {
    status = decode_picture(alpha, alpha_len, max_pixels, &S.alpha);
    S.has_alpha = status == AVIF_OK;
    if (S.has_alpha && (S.alpha.p.w != width || S.alpha.p.h != height)) {
      status = AVIF_SIZE_MISMATCH;
    }
  }
  free(alpha);
  if (status == AVIF_OK) status = decode_picture(color, color_len, max_pixels, &S.pic);
  free(color);
  if (status == AVIF_OK) status = prepare(width, height, factor, matrix, full_range);
  return status;
}

// Converts the next output rows, at most `max_rows`, into `dst` (out_w * 4 bytes a row).
// Returns how many it wrote (0 once the frame is done), or minus an AVIF_* status.
int avif_read_rows(uint8_t* dst, int max_rows) {
  if (!S.sums || max_rows < 1) return -AVIF_INVALID_ARGUMENT;
  const int h = S.pic.p.h;
  int written = 0;
  while (written < max_rows && S.y < h) {
    const int first = S.y;
    const int last = first + S.factor < h ? first + S.factor : h;
    for (; S.y < last; S.y++) accumulate_row(S.y);
    flush_row(last - first, dst + (size_t)written * S.out_w * 4);
    written++;
  }
  return written;
}
