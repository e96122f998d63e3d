// Softmax and log-softmax over the last dim of a (rows, cols) contiguous buffer,
// numerically stable: y = exp(x - max) / Σ exp(x - max), log y = x - max - log Σ exp(x - max).
// Sums in double on the CPU and in the accumulator type on the GPU, combined in a fixed
// tree, so both are deterministic.
//
// Front-end: core/ops/softmax.cpp. Tests: the op table, tests/ops/op_cases_nn.cpp
//   (gradcheck: tests/ops/gradcheck_test.cpp; CUDA vs CPU:
//   tests/cuda/op_parity_test.cpp), tests/golden/golden_test.cpp
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"

namespace tg::kernels {

struct SoftmaxArgs {
  DType dtype;  // float32 or float64
  bool log;     // log_softmax instead of softmax
  int64_t rows, cols;
  const void* in;  // (rows, cols) contiguous
  void* out;       // (rows, cols) contiguous
};

// One output element, given its row's max and log Σ exp(x - max).
template <typename T>
TG_HOST_DEVICE T softmax_element(bool log_output, T x, T row_max, T log_sum) {
  using std::exp;
  const T shifted = x - row_max - log_sum;
  return log_output ? shifted : exp(shifted);
}

namespace cpu {
void softmax(const SoftmaxArgs& args);
}
namespace cuda {
void softmax(const SoftmaxArgs& args, void* stream);
}

}  // namespace tg::kernels
