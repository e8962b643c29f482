// Scaled WebP decoding for the processor: libwebp's own scaler (WebPDecoderConfig.use_scaling)
// decodes straight to the size the largest variant needs, so memory follows the output, not
// the input (a 6000x4000 lossy WebP decodes to 2048x1365 in ~17 MiB instead of ~98 MiB).
#include <stddef.h>
#include <stdint.h>

#include "src/webp/decode.h"

// Decodes `data` to out_w x out_h RGBA (straight alpha) into `dst` (out_w * out_h * 4 bytes).
// Returns libwebp's VP8StatusCode: 0 on success.
int webp_decode_scaled(const uint8_t* data, size_t len, int out_w, int out_h, uint8_t* dst) {
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return -1;
  config.options.use_threads = 0;
  config.options.use_scaling = 1;
  config.options.scaled_width = out_w;
  config.options.scaled_height = out_h;
  config.output.colorspace = MODE_RGBA;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = dst;
  config.output.u.RGBA.stride = out_w * 4;
  config.output.u.RGBA.size = (size_t)out_w * (size_t)out_h * 4;
  const VP8StatusCode status = WebPDecode(data, len, &config);
  WebPFreeDecBuffer(&config.output);
  return (int)status;
}
