// The consumer's own optim/optimizer.h (see own/core/device.h).
#pragma once
namespace app {
struct Optimizer {
  double lr = 0.5;
};
}  // namespace app
