// A bias carried by the CPU product (kernels/matmul.h; Note [fused linear] in
// core/ops/matmul.cpp): C = op(A)·op(B) + bias in every row has the bits of C first filled with
// the bias and the product added with beta = 1, whether oneDNN's primitive takes it (float32
// x·Wᵀ, by blocks) or C is filled first (other layouts, a batch, float64, k = 0); on 1, 2 and 3
// threads; and linear() gives the same bits with a bias it hands to the product and with one
// it copies into y first (a strided bias).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../core/threads.h"
#include "../../kernels/matmul.h"
#include "../support/parity.h"

namespace tg {
namespace {

struct Case {
  bool trans_a, trans_b;
  int64_t m, n, k, batch;
};

template <typename T>
std::vector<T> normal_values(size_t size, std::mt19937& rng) {
  std::normal_distribution<double> normal;
  std::vector<T> v(size);
  for (T& x : v) x = static_cast<T>(normal(rng));
  return v;
}

// C from the product with the bias, and from the bias filled in and beta = 1.
template <typename T>
void expect_same_bits(const Case& c, DType dtype) {
  std::mt19937 rng(7);
  const int64_t a_size = c.m * c.k, b_size = c.k * c.n, c_size = c.m * c.n;
  const std::vector<T> a = normal_values<T>(static_cast<size_t>(a_size * c.batch), rng);
  const std::vector<T> b = normal_values<T>(static_cast<size_t>(b_size * c.batch), rng);
  const std::vector<T> bias = normal_values<T>(static_cast<size_t>(c.n), rng);
  kernels::MatmulArgs g{dtype,   c.trans_a, c.trans_b,
                        c.m,     c.n,       c.k,
                        c.batch, a.data(),  c.trans_a ? c.m : c.k,
                        a_size,  b.data(),  c.trans_b ? c.k : c.n,
                        b_size,  nullptr,   c.n,
                        c_size,  1.0,       0.0,
                        false};
  std::vector<T> filled(static_cast<size_t>(c_size * c.batch));
  for (int64_t r = 0; r < c.m * c.batch; ++r)
    std::memcpy(&filled[static_cast<size_t>(r * c.n)], bias.data(), sizeof(T) * c.n);
  kernels::MatmulArgs plain = g;
  plain.c = filled.data();
  plain.beta = 1.0;
  if (c.k > 0) kernels::cpu::matmul(plain);  // (BLAS refuses k = 0: C stays the bias)
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<T> out(filled.size(), T(-7));  // whatever was there is not read
    kernels::MatmulArgs with_bias = g;
    with_bias.c = out.data();
    with_bias.bias = bias.data();
    kernels::cpu::matmul(with_bias);
    EXPECT_EQ(std::memcmp(out.data(), filled.data(), sizeof(T) * out.size()), 0)
        << "m " << c.m << " n " << c.n << " k " << c.k << " batch " << c.batch << " trans "
        << c.trans_a << c.trans_b << ", " << threads << " threads";
  }
}

TEST(MatmulBias, TheSameBitsAsTheBiasFilledInFirst) {
  const int saved = get_num_threads();
  const Case cases[] = {
      {false, true, 128, 512, 784, 1},  // the MNIST MLP's first layer: oneDNN's primitive
      {false, true, 300, 77, 40, 1},    // rows and columns in short last blocks
      {false, true, 1, 512, 784, 1},    // one row: column blocks
      {false, true, 7, 9, 5, 2},        // a batch
      {false, false, 33, 20, 17, 1},    // B not transposed: the bias filled in, sgemm
      {true, true, 16, 24, 8, 1},       // A transposed
      {false, true, 5, 6, 0, 1},        // k = 0: C is the bias
  };
  for (const Case& c : cases) expect_same_bits<float>(c, DType::Float32);
  expect_same_bits<double>({false, true, 40, 30, 20, 1}, DType::Float64);
  set_num_threads(saved);
}

TEST(MatmulBias, RefusedWithBetaOrAnotherDtype) {
  std::vector<float> a(4, 1.0f), b(4, 1.0f), c(4), bias(2, 1.0f);
  kernels::MatmulArgs g{DType::Float32, false, false, 2,        2, 2, 1,   a.data(), 2,    4,
                        b.data(),       2,     4,     c.data(), 2, 4, 1.0, 1.0,      false};
  g.bias = bias.data();
  EXPECT_THROW(kernels::cpu::matmul(g), Error);
}

TEST(MatmulBias, LinearGivesTheSameBitsWithABiasCopiedFirst) {
  Generator gen(3);
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (auto [rows, in, out] :
         std::vector<std::array<int64_t, 3>>{{128, 784, 512}, {112, 1152, 256}, {3, 5, 7}}) {
      const Tensor x = randn({rows, in}, TensorOptions(dtype), &gen);
      const Tensor w = randn({out, in}, TensorOptions(dtype), &gen);
      const Tensor wide = randn({out, 2}, TensorOptions(dtype), &gen);
      const Tensor strided = wide.select(1, 0);  // not contiguous: linear() copies it into y
      ASSERT_FALSE(strided.is_contiguous());
      EXPECT_TRUE(
          testing::tensors_bitwise_equal(linear(x, w, strided.contiguous()), linear(x, w, strided)))
          << dtype << " " << rows << "x" << in << "x" << out;
    }
  }
}

}  // namespace
}  // namespace tg
