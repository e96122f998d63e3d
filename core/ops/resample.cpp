// Adaptive average pooling and interpolation as products with per-axis maps (resample.h).
#include "resample.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../factory.h"
#include "matmul.h"
#include "op_support.h"

namespace tg {

namespace {

// Note [resampling as products]: a separable resampling is y = A_h · x · A_wᵀ. The maps are
// tiny ((out, in) per axis), made on the host and moved to x's device once per call; the
// two products batch over N·C. Pooling a 224² image to 7² this way costs 2·7·224 multiply-
// adds per output against a direct kernel's 32², a price paid for having no kernel pair of
// its own: both devices run their tuned matmul.
using AxisMap = std::vector<double>;  // (out, in) row-major

AxisMap adaptive_average_map(int64_t in, int64_t out) {
  AxisMap a(static_cast<size_t>(out * in), 0.0);
  for (int64_t i = 0; i < out; ++i) {
    const int64_t start = i * in / out;
    const int64_t end = ((i + 1) * in + out - 1) / out;
    for (int64_t j = start; j < end; ++j) a[i * in + j] = 1.0 / static_cast<double>(end - start);
  }
  return a;
}

AxisMap nearest_map(int64_t in, int64_t out, double scale) {
  AxisMap a(static_cast<size_t>(out * in), 0.0);
  for (int64_t i = 0; i < out; ++i) {
    const int64_t j =
        std::min(static_cast<int64_t>(std::floor(static_cast<double>(i) * scale)), in - 1);
    a[i * in + j] = 1.0;
  }
  return a;
}

AxisMap bilinear_map(int64_t in, int64_t out, double scale, bool align_corners) {
  AxisMap a(static_cast<size_t>(out * in), 0.0);
  for (int64_t i = 0; i < out; ++i) {
    double src;
    if (align_corners) {
      src = out > 1 ? static_cast<double>(i) * static_cast<double>(in - 1) /
                          static_cast<double>(out - 1)
                    : 0.0;
    } else {
      src = std::max((static_cast<double>(i) + 0.5) * scale - 0.5, 0.0);
    }
    const int64_t j0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    const int64_t j1 = std::min(j0 + 1, in - 1);
    const double frac = src - static_cast<double>(j0);
    a[i * in + j0] += 1.0 - frac;
    a[i * in + j1] += frac;
  }
  return a;
}

// x (N, C, H, W) or (C, H, W) mapped by a_h (out_h, H) and a_w (out_w, W).
Tensor apply_maps(const Tensor& x, const AxisMap& a_h, int64_t out_h, const AxisMap& a_w,
                  int64_t out_w) {
  const int64_t h = x.size(-2), w = x.size(-1);
  const Tensor map_h = from_vector(a_h, {out_h, h}).to(x.dtype()).to(x.device());
  const Tensor map_w_t =
      from_vector(a_w, {out_w, w}).to(x.dtype()).to(x.device()).transpose(0, 1).contiguous();
  return matmul(map_h, matmul(x, map_w_t));
}

void check_input(const char* op, const Tensor& x) {
  TG_CHECK(x.defined(), op, ": undefined tensor");
  ops::check_float(op, x);
  TG_CHECK((x.dim() == 3 || x.dim() == 4) && x.size(-1) > 0 && x.size(-2) > 0, op,
           ": input must be (N, C, H, W) or (C, H, W) with H, W > 0, got shape ", x.shape());
}

}  // namespace

TG_REGISTER_OP("adaptive_avg_pool2d");
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  check_input("adaptive_avg_pool2d", x);
  TG_CHECK(output_size[0] > 0 && output_size[1] > 0,
           "adaptive_avg_pool2d: output size must be positive, got ", output_size[0], "x",
           output_size[1]);
  const int64_t h = x.size(-2), w = x.size(-1);
  return apply_maps(x, adaptive_average_map(h, output_size[0]), output_size[0],
                    adaptive_average_map(w, output_size[1]), output_size[1]);
}

TG_REGISTER_OP("interpolate");
Tensor interpolate(const Tensor& x, const InterpolateOptions& o) {
  check_input("interpolate", x);
  const bool by_size = o.size[0] > 0 || o.size[1] > 0;
  const bool by_scale = o.scale_factor[0] > 0 || o.scale_factor[1] > 0;
  TG_CHECK(by_size != by_scale,
           "interpolate: give exactly one of size and scale_factor (both positive)");
  TG_CHECK(!o.align_corners || o.mode == InterpolateMode::Bilinear,
           "interpolate: align_corners is for bilinear mode only");
  const int64_t in[2] = {x.size(-2), x.size(-1)};
  int64_t out[2];
  double scale[2];  // input coordinate per output step
  for (int k = 0; k < 2; ++k) {
    if (by_size) {
      TG_CHECK(o.size[k] > 0, "interpolate: size must be positive, got ", o.size[0], "x",
               o.size[1]);
      out[k] = o.size[k];
      scale[k] = static_cast<double>(in[k]) / static_cast<double>(out[k]);
    } else {
      TG_CHECK(std::isfinite(o.scale_factor[k]) && o.scale_factor[k] > 0,
               "interpolate: scale_factor must be positive and finite, got ", o.scale_factor[0],
               ", ", o.scale_factor[1]);
      out[k] = static_cast<int64_t>(std::floor(static_cast<double>(in[k]) * o.scale_factor[k]));
      TG_CHECK(out[k] > 0, "interpolate: scale_factor ", o.scale_factor[k], " gives no output for ",
               in[k], " inputs");
      scale[k] = 1.0 / o.scale_factor[k];
    }
  }
  AxisMap maps[2];
  for (int k = 0; k < 2; ++k) {
    maps[k] = o.mode == InterpolateMode::Nearest
                  ? nearest_map(in[k], out[k], scale[k])
                  : bilinear_map(in[k], out[k], scale[k], o.align_corners);
  }
  return apply_maps(x, maps[0], out[0], maps[1], out[1]);
}

}  // namespace tg
