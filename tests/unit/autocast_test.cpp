// Autocast (core/autocast.h, Note [autocast]) on the CPU: the op list (matmul, linear,
// conv2d, conv1d round their operands; the others run as outside the scope), values against
// naive float64 products of the rounded operands, float32 gradients against the same, the
// scope's nesting, device types and threads, and thread-count independence.
// CUDA against the CPU: tests/cuda/autocast_parity_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "../../core/autocast.h"
#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../core/threads.h"
#include "../support/parity.h"

namespace tg {
namespace {

using testing::tensors_bitwise_equal;
using testing::tensors_close;

const DType kHalves[] = {DType::BFloat16, DType::Float16};

// x rounded to `half` and widened to float64: what an autocast op multiplies.
Tensor rounded(const Tensor& x, DType half) { return x.detach().to(half).to(DType::Float64); }

// (m, k)·(k, n) by loops in float64: the reference shares nothing with the kernels.
Tensor naive_product(const Tensor& a, const Tensor& b) {
  const Tensor ac = a.to(DType::Float64).contiguous(), bc = b.to(DType::Float64).contiguous();
  const int64_t m = ac.size(0), k = ac.size(1), n = bc.size(1);
  std::vector<double> out(static_cast<size_t>(m * n), 0.0);
  const double* pa = ac.data_ptr<double>();
  const double* pb = bc.data_ptr<double>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) out[i * n + j] += pa[i * k + p] * pb[p * n + j];
  return from_vector(out, {m, n});
}

// float32 accumulation of k products of values near 1: well inside 1e-4; rounding the
// operands to bfloat16 moves a product of k = 96 by ~1e-2, so the check tells them apart.
constexpr double kAtol = 1e-4, kRtol = 1e-4;

TEST(Autocast, MatmulRoundsItsOperandsAndAccumulatesInFloat32) {
  Generator gen(3);
  const Tensor a = randn({33, 96}, {}, &gen), b = randn({96, 17}, {}, &gen);
  for (DType half : kHalves) {
    Tensor out;
    {
      autocast low(half);
      out = matmul(a, b);
    }
    EXPECT_EQ(out.dtype(), DType::Float32);
    const Tensor expected = naive_product(rounded(a, half), rounded(b, half));
    EXPECT_TRUE(tensors_close(out, expected.to(DType::Float32), kAtol, kRtol)) << half;
    EXPECT_FALSE(tensors_close(matmul(a, b), expected.to(DType::Float32), kAtol, kRtol))
        << half << ": the float32 product passes too, so the check shows nothing";
    // Transposed and batched operands go the same way.
    autocast low(half);
    EXPECT_TRUE(tensors_close(matmul(b.transpose(0, 1), a.transpose(0, 1)),
                              expected.transpose(0, 1).to(DType::Float32), kAtol, kRtol));
    const Tensor batched = matmul(stack({a, a}), b);
    EXPECT_TRUE(tensors_close(batched.select(0, 1), expected.to(DType::Float32), kAtol, kRtol));
  }
}

TEST(Autocast, LinearGradientsAreFloat32ProductsOfTheRoundedValues) {
  Generator gen(4);
  for (DType half : kHalves) {
    const Tensor x = randn({24, 80}, {}, &gen).requires_grad_();
    const Tensor w = randn({40, 80}, {}, &gen).requires_grad_();
    const Tensor bias = randn({40}, {}, &gen).requires_grad_();
    const Tensor c = randn({24, 40}, {}, &gen);  // the loss's gradient for y
    Tensor y;
    {
      autocast low(half);
      y = linear(x, w, bias);
      sum(mul(y, c)).backward();
    }
    const Tensor y_ref = add(naive_product(rounded(x, half), rounded(w, half).transpose(0, 1)),
                             bias.detach().to(DType::Float64));
    EXPECT_TRUE(tensors_close(y, y_ref.to(DType::Float32), kAtol, kRtol)) << half;
    ASSERT_EQ(x.grad().dtype(), DType::Float32);
    ASSERT_EQ(w.grad().dtype(), DType::Float32);
    const Tensor g = rounded(c, half);
    EXPECT_TRUE(tensors_close(x.grad(), naive_product(g, rounded(w, half)).to(DType::Float32),
                              kAtol, kRtol))
        << half;
    EXPECT_TRUE(tensors_close(w.grad(),
                              naive_product(g.transpose(0, 1), rounded(x, half)).to(DType::Float32),
                              kAtol, kRtol))
        << half;
    EXPECT_TRUE(tensors_close(bias.grad(), sum(c, {0}), 1e-5, 1e-5)) << half;  // not rounded
  }
}

// conv2d against our float32 convolution of the rounded operands (tested elsewhere against
// a naive loop), forward and both gradients; conv1d is conv2d underneath.
TEST(Autocast, Conv2dAndConv1dRoundTheirOperands) {
  Generator gen(5);
  for (DType half : kHalves) {
    const Tensor x = randn({5, 6, 9, 11}, {}, &gen).requires_grad_();
    const Tensor w = randn({8, 3, 3, 3}, {}, &gen).requires_grad_();
    const Tensor bias = randn({8}, {}, &gen).requires_grad_();
    const Tensor c = randn({5, 8, 9, 11}, {}, &gen);
    Tensor y;
    {
      autocast low(half);
      y = conv2d(x, w, bias, {1, 1}, {1, 1}, {1, 1}, 2);
      sum(mul(y, c)).backward();
    }
    ASSERT_EQ(y.dtype(), DType::Float32);
    const Tensor xr = rounded(x, half).to(DType::Float32).requires_grad_();
    const Tensor wr = rounded(w, half).to(DType::Float32).requires_grad_();
    const Tensor y_ref = conv2d(xr, wr, bias.detach(), {1, 1}, {1, 1}, {1, 1}, 2);
    sum(mul(y_ref, rounded(c, half).to(DType::Float32))).backward();
    EXPECT_TRUE(tensors_close(y, y_ref, kAtol, kRtol)) << half;
    EXPECT_TRUE(tensors_close(x.grad(), xr.grad(), kAtol, kRtol)) << half;
    EXPECT_TRUE(tensors_close(w.grad(), wr.grad(), 1e-3, kRtol)) << half;
    // The bias is added in float32 and its gradient sums the float32 gradient, not rounded.
    EXPECT_TRUE(tensors_close(bias.grad(), sum(c, {0, 2, 3}), 1e-4, 1e-5)) << half;
    EXPECT_FALSE(tensors_close(conv2d(x, w, bias, {1, 1}, {1, 1}, {1, 1}, 2), y_ref, kAtol, kRtol))
        << half << ": the float32 convolution passes too";

    const Tensor s = randn({3, 4, 20}, {}, &gen), k = randn({6, 4, 5}, {}, &gen);
    Tensor z;
    {
      autocast low(half);
      z = conv1d(s, k);
    }
    EXPECT_TRUE(tensors_close(
        z, conv1d(rounded(s, half).to(DType::Float32), rounded(k, half).to(DType::Float32)), kAtol,
        kRtol))
        << half;
  }
}

// PyTorch's float32 list: everything but the products runs as outside the scope, bit for bit;
// float64 products are never autocast.
TEST(Autocast, OtherOpsAndFloat64RunAsOutsideTheScope) {
  Generator gen(6);
  const Tensor x = randn({16, 10}, {}, &gen),
               t = from_vector<int64_t>({1, 3, 0, 9, 2, 2, 7, 5, 1, 0, 4, 4, 6, 8, 3, 2});
  const Tensor d = randn({7, 9}, DType::Float64, &gen);
  auto run = [&] {
    return std::vector<Tensor>{softmax(x, 1),       log_softmax(x, 1),
                               cross_entropy(x, t), sum(x),
                               mean(x, {0}),        relu(x),
                               add(x, 1.5),         exp(x),
                               norm(x, 2, {1}),     matmul(d, d.transpose(0, 1))};
  };
  const std::vector<Tensor> outside = run();
  std::vector<Tensor> inside;
  {
    autocast low(DType::BFloat16);
    inside = run();
  }
  for (size_t i = 0; i < outside.size(); ++i) {
    EXPECT_TRUE(tensors_bitwise_equal(inside[i], outside[i])) << "op " << i;
  }
}

TEST(Autocast, ScopesNestPerDeviceTypeAndPerThread) {
  EXPECT_EQ(autocast_dtype(DeviceType::CPU), DType::Float32);
  {
    autocast low(DType::BFloat16);
    EXPECT_EQ(autocast_dtype(DeviceType::CPU), DType::BFloat16);
    EXPECT_EQ(autocast_dtype(DeviceType::CUDA), DType::BFloat16);
    {
      autocast off(DeviceType::CPU, DType::Float32);
      EXPECT_EQ(autocast_dtype(DeviceType::CPU), DType::Float32);
      EXPECT_EQ(autocast_dtype(DeviceType::CUDA), DType::BFloat16);
    }
    EXPECT_EQ(autocast_dtype(DeviceType::CPU), DType::BFloat16);
    DType seen = DType::UInt8;
    std::thread([&] { seen = autocast_dtype(DeviceType::CPU); }).join();
    EXPECT_EQ(seen, DType::Float32);  // another thread's scope is its own
  }
  EXPECT_EQ(autocast_dtype(DeviceType::CPU), DType::Float32);
  {
    autocast gpu_only(DeviceType::CUDA, DType::Float16);
    Generator gen(7);
    const Tensor a = randn({8, 8}, {}, &gen);
    const Tensor inside = matmul(a, a);
    EXPECT_EQ(autocast_dtype(DeviceType::CPU), DType::Float32);
    NoGradGuard no_grad;
    autocast off(DeviceType::CPU, DType::Float32);
    EXPECT_TRUE(tensors_bitwise_equal(inside, matmul(a, a)));
  }
  EXPECT_THROW(autocast(DType::Float64), Error);
  EXPECT_THROW(autocast(DType::Int64), Error);
}

// Empty and degenerate shapes, vectors and broadcast batches take the autocast path too.
TEST(Autocast, EmptyShapesVectorsAndBroadcastBatches) {
  Generator gen(10);
  autocast low(DType::BFloat16);
  EXPECT_EQ(matmul(zeros({0, 4}), zeros({4, 3})).shape(), (Shape{0, 3}));
  const Tensor k0 = matmul(zeros({2, 0}), zeros({0, 3}));
  EXPECT_EQ(sum(abs(k0)).item<float>(), 0.0f);
  const Tensor v = randn({5}, {}, &gen), m = randn({5, 5}, {}, &gen);
  const Tensor vm = matmul(v, m);
  EXPECT_EQ(vm.shape(), (Shape{5}));
  EXPECT_TRUE(tensors_close(
      vm,
      naive_product(rounded(v.reshape({1, 5}), DType::BFloat16), rounded(m, DType::BFloat16))
          .reshape({5})
          .to(DType::Float32),
      kAtol, kRtol));
  EXPECT_EQ(matmul(randn({2, 1, 3, 5}, {}, &gen), randn({4, 5, 2}, {}, &gen)).shape(),
            (Shape{2, 4, 3, 2}));
  const Tensor x = zeros({0, 3, 5, 5}).requires_grad_(), w = randn({4, 3, 3, 3}, {}, &gen);
  const Tensor y = conv2d(x, w.detach().requires_grad_(), Tensor(), {1, 1}, {1, 1});
  EXPECT_EQ(y.shape(), (Shape{0, 4, 5, 5}));
  sum(y).backward();
  EXPECT_EQ(x.grad().shape(), x.shape());
}

// A gradient through an autocast product cannot be differentiated again: refused by name.
TEST(Autocast, CreateGraphThroughAnAutocastProductIsRefused) {
  Generator gen(11);
  const Tensor x = randn({4, 6}, {}, &gen).requires_grad_(), w = randn({3, 6}, {}, &gen);
  Tensor y;
  {
    autocast low(DType::BFloat16);
    y = sum(linear(x, w));
  }
  try {
    autograd::grad({y}, {x}, {}, false, /*create_graph=*/true);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LinearBackward"), std::string::npos) << e.what();
  }
  EXPECT_EQ(autograd::grad({y}, {x})[0].dtype(), DType::Float32);  // once is fine
}

// Results do not depend on the number of threads (the rule every CPU op keeps).
TEST(Autocast, ProductsRepeatBitForBitOnAnyThreadCount) {
  Generator gen(8);
  const Tensor a = randn({128, 784}, {}, &gen), w = randn({512, 784}, {}, &gen);
  const Tensor x = randn({32, 16, 14, 14}, {}, &gen), k = randn({32, 16, 3, 3}, {}, &gen);
  const int saved = get_num_threads();
  std::vector<std::vector<Tensor>> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    const Tensor xg = x.detach().requires_grad_(), kg = k.detach().requires_grad_();
    autocast low(DType::BFloat16);
    const Tensor y = linear(a, w);
    const Tensor z = conv2d(xg, kg, Tensor(), {1, 1}, {1, 1});
    sum(mul(z, z)).backward();
    results.push_back({y, z, xg.grad(), kg.grad()});
  }
  set_num_threads(saved);
  for (size_t r = 1; r < results.size(); ++r) {
    for (size_t i = 0; i < results[0].size(); ++i) {
      EXPECT_TRUE(tensors_bitwise_equal(results[r][i], results[0][i]))
          << "result " << i << " with " << r + 1 << " threads";
    }
  }
}

}  // namespace
}  // namespace tg
