// Autocast on CUDA (Note [autocast], core/autocast.h) against the CPU's autocast: matmul,
// linear and conv2d with bfloat16 and float16 operands on cuBLAS and cuDNN, forward and
// float32 gradients. The products differ only in accumulation order, except the
// convolutions, whose output cuDNN writes in the half dtype (rounded to it: the tolerance
// is a few units of its last place); the CPU side is checked against naive references in
// tests/unit/autocast_test.cpp.
#include <gtest/gtest.h>

#include "../../core/autocast.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../support/parity.h"

namespace tg {
namespace {

struct Run {
  Tensor y, grad_x, grad_w;
};

// y = op(x, w) under autocast on `device`, and the gradients of sum(y · c).
template <typename Op>
Run autocast_run(DType half, const Device& device, const Tensor& x, const Tensor& w,
                 const Tensor& c, Op op) {
  const Tensor xd = x.to(device).requires_grad_(), wd = w.to(device).requires_grad_();
  autocast low(half);
  const Tensor y = op(xd, wd);
  sum(mul(y, c.to(device))).backward();
  EXPECT_EQ(xd.grad().dtype(), DType::Float32);
  return {y.to(Device::cpu()), xd.grad().to(Device::cpu()), wd.grad().to(Device::cpu())};
}

template <typename Op>
void expect_parity(const char* name, const Shape& xs, const Shape& ws, const Shape& ys, Op op,
                   double tolerance) {
  Generator g(9);
  const Tensor x = randn(xs, {}, &g), w = randn(ws, {}, &g), c = randn(ys, {}, &g);
  for (DType half : {DType::BFloat16, DType::Float16}) {
    SCOPED_TRACE(std::string(name) + " " + dtype_name(half));
    const Run cpu = autocast_run(half, Device::cpu(), x, w, c, op);
    const Run gpu = autocast_run(half, Device::cuda(), x, w, c, op);
    EXPECT_TRUE(testing::tensors_close(gpu.y, cpu.y, tolerance, tolerance));
    EXPECT_TRUE(testing::tensors_close(gpu.grad_x, cpu.grad_x, tolerance, tolerance));
    EXPECT_TRUE(testing::tensors_close(gpu.grad_w, cpu.grad_w, tolerance, tolerance));
  }
}

TEST(AutocastCuda, MatmulAndLinearMatchTheCpu) {
  TG_REQUIRE_CUDA();
  expect_parity(
      "matmul", {33, 96}, {96, 17}, {33, 17},
      [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, 1e-4);
  expect_parity(
      "linear", {128, 784}, {512, 784}, {128, 512},
      [](const Tensor& x, const Tensor& w) { return linear(x, w); }, 1e-3);
}

TEST(AutocastCuda, Conv2dMatchesTheCpu) {
  TG_REQUIRE_CUDA();
  // Outputs rounded to the half dtype by cuDNN: |y| of a few units, float16's last place at
  // 4 is 2^-8, bfloat16's 2^-5.
  expect_parity(
      "conv2d", {8, 16, 14, 14}, {32, 16, 3, 3}, {8, 32, 14, 14},
      [](const Tensor& x, const Tensor& w) {
        return conv2d(x, w, Tensor(), {1, 1}, {1, 1});
      },
      6e-2);
}

}  // namespace
}  // namespace tg
