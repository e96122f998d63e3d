// Data augmentation of an image batch (N, C, H, W): a random crop with zero padding (the
// image shifted by (dy, dx) in [-pad, pad], uncovered pixels 0) and a random horizontal
// flip, drawn per sample:
//   out[n, c, y, x] = in[n, c, y + dy, x' + dx] (0 outside), x' = flip ? W - 1 - x : x.
//
// Note [augmentation draws]: sample n takes Philox(seed, offset) block n: word 0 gives dy,
// word 1 dx (each ⌊word·(2·pad + 1) / 2^32⌋ - pad: multiply-shift, no division, a bias
// below 2^-28 for the pads used), word 2's low bit the flip. The draws depend only on
// (seed, offset, n), so both devices produce the same batch bit for bit.
//
// Front-end: core/ops/augment.cpp. Tests: tests/unit/augment_test.cpp (against a naive
//   loop), tests/cuda/augment_parity_test.cpp
#pragma once

#include <cstdint>

#include "common.h"
#include "philox.h"

namespace tg::kernels {

struct AugmentArgs {
  DType dtype;
  int64_t n, c, h, w;
  int64_t pad;  // crop shift bound; 0: no crop
  bool flip;    // random horizontal flip
  uint64_t seed, offset;
  const void* in;  // (n, c, h, w) contiguous
  void* out;       // (n, c, h, w) contiguous
};

struct AugmentDraw {
  int64_t dy, dx;
  bool flip;
};

TG_HOST_DEVICE int64_t augment_shift(uint32_t word, int64_t pad) {
  return static_cast<int64_t>((static_cast<uint64_t>(word) * static_cast<uint64_t>(2 * pad + 1)) >>
                              32) -
         pad;
}

TG_HOST_DEVICE AugmentDraw augment_draw(const AugmentArgs& a, int64_t sample) {
  const Philox4x32 r = philox_block(a.seed, a.offset, static_cast<uint64_t>(sample));
  return {augment_shift(r.v[0], a.pad), augment_shift(r.v[1], a.pad), a.flip && (r.v[2] & 1u) != 0};
}

// Output element i, given its sample's draw.
template <typename T>
TG_HOST_DEVICE T augment_element(const AugmentArgs& a, const AugmentDraw& d, int64_t i) {
  const int64_t x = i % a.w;
  const int64_t y = (i / a.w) % a.h;
  const int64_t plane = i / (a.w * a.h);  // n·C + c
  const int64_t sy = y + d.dy;
  const int64_t sx = (d.flip ? a.w - 1 - x : x) + d.dx;
  if (sy < 0 || sy >= a.h || sx < 0 || sx >= a.w) return T(0);
  return static_cast<const T*>(a.in)[(plane * a.h + sy) * a.w + sx];
}

namespace cpu {
void augment(const AugmentArgs& args);
}
namespace cuda {
void augment(const AugmentArgs& args, void* stream);
}

}  // namespace tg::kernels
