// The consumer's own core/tensor.h (see own/core/device.h).
#pragma once
namespace app {
struct Tensor {
  int rank = 0;
};
}  // namespace app
