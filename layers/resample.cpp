// AdaptiveAvgPool2d and Upsample (resample.h).
#include "resample.h"

#include <sstream>

namespace tg::layers {

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 output_size)
    : Module("AdaptiveAvgPool2d"), output_size_(output_size) {
  TG_CHECK(output_size[0] > 0 && output_size[1] > 0,
           "AdaptiveAvgPool2d: output size must be positive, got ", output_size[0], "x",
           output_size[1]);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, output_size_); }

std::string AdaptiveAvgPool2d::extra_repr() const {
  return "output_size=(" + std::to_string(output_size_[0]) + ", " +
         std::to_string(output_size_[1]) + ")";
}

Upsample::Upsample(const InterpolateOptions& options) : Module("Upsample"), options_(options) {
  const bool by_size = options.size[0] > 0 && options.size[1] > 0;
  const bool by_scale = options.scale_factor[0] > 0 && options.scale_factor[1] > 0;
  TG_CHECK(by_size != by_scale,
           "Upsample: give exactly one of size and scale_factor, each of two positive values");
  TG_CHECK(!options.align_corners || options.mode == InterpolateMode::Bilinear,
           "Upsample: align_corners is for bilinear mode only");
}

Tensor Upsample::forward(const Tensor& x) { return interpolate(x, options_); }

std::string Upsample::extra_repr() const {
  std::ostringstream repr;
  if (options_.size[0] > 0) {
    repr << "size=(" << options_.size[0] << ", " << options_.size[1] << ")";
  } else {
    repr << "scale_factor=(" << options_.scale_factor[0] << ", " << options_.scale_factor[1] << ")";
  }
  repr << ", mode=" << (options_.mode == InterpolateMode::Nearest ? "nearest" : "bilinear");
  if (options_.align_corners) repr << ", align_corners=true";
  return repr.str();
}

}  // namespace tg::layers
