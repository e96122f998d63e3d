// Fill a contiguous buffer: with one value (zeros/ones/full), or with the arithmetic
// sequence start + i·step (arange). The value is held as a double, so an int64 fill is
// exact up to 2^53.
//
// Front-ends: core/factory.cpp, core/tensor_copy.cpp (fill_). Tests:
//   tests/unit/factory_test.cpp, tests/cuda/copy_parity_test.cpp
#pragma once

#include <cstdint>

#include "common.h"

namespace tg::kernels {

struct FillArgs {
  void* dst;  // (numel,) contiguous, of dtype
  DType dtype;
  int64_t numel;
  double start;  // the value, or the first value of the sequence
  double step;   // 0 for a constant fill
};

// Element i of the fill; add_rn/mul_rn keep CPU and GPU equal (Note [exact arithmetic]). A
// constant fill is the value itself (start + 0 would turn -0.0 into +0.0; torch.full keeps it).
template <typename T>
TG_HOST_DEVICE T fill_element(const FillArgs& args, int64_t i) {
  if (args.step == 0) return convert_element<T>(args.start);
  return convert_element<T>(add_rn(args.start, mul_rn(static_cast<double>(i), args.step)));
}

namespace cpu {
void fill(const FillArgs& args);
}
namespace cuda {
void fill(const FillArgs& args, void* stream);
}

}  // namespace tg::kernels
