// Runs kernels/philox.h's philox4x32_10 inside a CUDA kernel (tests only).
#pragma once

#include <vector>

#include "../../kernels/philox.h"

namespace tg::testing {

struct PhiloxCase {
  kernels::Philox4x32 counter;
  uint32_t key0, key1;
};

// One GPU thread per case; returns the outputs in order. Throws tg::Error on CUDA errors.
std::vector<kernels::Philox4x32> philox_on_device(const std::vector<PhiloxCase>& cases);

}  // namespace tg::testing
