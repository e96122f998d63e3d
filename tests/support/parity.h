// Test helpers shared by every suite: skipping CUDA cases without a device, and
// comparing tensors (any devices, any dtypes) with a message that names the first bad
// element.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "../../core/factory.h"
#include "../../core/tensor.h"
#include "../../foundation/error.h"

namespace tg::testing {

// Why CUDA cases cannot run here ("" when they can).
std::string cuda_unavailable_reason();

// Skips the current test, with the reason, when no CUDA device is usable.
#define TG_REQUIRE_CUDA()                                                 \
  do {                                                                    \
    const std::string tg_why_ = ::tg::testing::cuda_unavailable_reason(); \
    if (!tg_why_.empty()) GTEST_SKIP() << tg_why_;                        \
  } while (0)

// |actual - expected| <= atol + rtol·|expected| elementwise (compared in float64), with
// NaN and ±Inf required at the same positions. Shapes must match. On failure the message
// gives the number of bad elements and the first one's index and values.
::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double atol,
                                         double rtol);
// Same dtype, same shape, same bits in every element.
::testing::AssertionResult tensors_bitwise_equal(const Tensor& actual, const Tensor& expected);

// The largest input (in elements) a parity case may use: TG_PARITY_MAX_ELEMENTS from the
// environment (scripts/gpu_check.sh sets it for the slow compute-sanitizer runs), else no
// limit. Cases over it are left out, never passed.
int64_t parity_element_limit();

// "[1, 0, 2]": the multi-index of the linear-th element of `shape`.
std::string index_string(int64_t linear, const Shape& shape);

// Runs f, expects a tg::Error, and returns its message (an empty string, and a test
// failure, when nothing is thrown).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no tg::Error thrown";
  return "";
}

}  // namespace tg::testing
