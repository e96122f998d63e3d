// The CPU batch-norm launchers (Note [batch norm blocks], kernels/cpu/batch_norm.cpp) against a
// two-pass float64 reference written apart from them, on shapes that cut the batch into one,
// several and uneven blocks, with a mean far from zero (the merge of the blocks' moments must
// keep the variance); and the same bits whatever the thread count. The CUDA launchers against
// these: tests/cuda/op_parity_test.cpp.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "../../kernels/batch_norm.h"

namespace tg::kernels {
namespace {

struct Outputs {
  std::vector<float> y, mean, invstd, running_mean, running_var, grad_x, grad_gamma, grad_beta;
};

std::vector<float> values(int64_t n, uint32_t seed, float offset) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t state = seed * 2654435761u + 1;
  for (float& e : v) {
    state = state * 1664525u + 1013904223u;
    e = offset + static_cast<float>(state >> 8) / static_cast<float>(1 << 24) * 4.0f - 2.0f;
  }
  return v;
}

Outputs run_kernels(const BatchNormShape& s, const std::vector<float>& x,
                    const std::vector<float>& g, const std::vector<float>& gamma,
                    const std::vector<float>& beta) {
  Outputs o;
  const size_t elements = static_cast<size_t>(s.n * s.c * s.hw), c = static_cast<size_t>(s.c);
  o.y.resize(elements);
  o.grad_x.resize(elements);
  o.mean.resize(c);
  o.invstd.resize(c);
  o.running_mean.assign(c, 0.5f);
  o.running_var.assign(c, 2.0f);
  o.grad_gamma.resize(c);
  o.grad_beta.resize(c);
  cpu::batchnorm_forward({DType::Float32, s, x.data(), gamma.data(), beta.data(), o.y.data(), true,
                          o.running_mean.data(), o.running_var.data(), o.mean.data(),
                          o.invstd.data(), 0.1, 1e-5});
  cpu::batchnorm_backward({DType::Float32, s, x.data(), g.data(), gamma.data(), o.mean.data(),
                           o.invstd.data(), true, o.grad_x.data(), o.grad_gamma.data(),
                           o.grad_beta.data()});
  return o;
}

const std::vector<BatchNormShape> kShapes = {
    {1, 1, 1},    {2, 3, 1},   {5, 2, 7},    {17, 3, 196}, {128, 4, 49},    {3, 2, 1025},
    {1, 2, 4096}, {300, 5, 1}, {1030, 3, 1}, {9, 1, 100},  {64, 8, 28 * 28}};

TEST(BatchNormBlocks, MatchesATwoPassFloat64Reference) {
  for (const BatchNormShape& s : kShapes) {
    SCOPED_TRACE(::testing::Message() << s.n << " x " << s.c << " x " << s.hw);
    const int64_t elements = s.n * s.c * s.hw;
    const std::vector<float> x = values(elements, 1, 100.0f), g = values(elements, 2, 0.0f),
                             gamma = values(s.c, 3, 1.0f), beta = values(s.c, 4, 0.0f);
    const Outputs o = run_kernels(s, x, g, gamma, beta);
    const double count = static_cast<double>(s.count());
    for (int64_t c = 0; c < s.c; ++c) {
      const auto at = [&](int64_t k) { return channel_element(s, c, k); };
      double sum = 0;
      for (int64_t k = 0; k < s.count(); ++k) sum += x[at(k)];
      const double mean = sum / count;
      double squares = 0;
      for (int64_t k = 0; k < s.count(); ++k) squares += (x[at(k)] - mean) * (x[at(k)] - mean);
      const double var = squares / count, invstd = 1 / std::sqrt(var + 1e-5);
      EXPECT_NEAR(o.mean[c], mean, 1e-6 * std::abs(mean));
      EXPECT_NEAR(o.invstd[c], invstd, 1e-5 * invstd);
      EXPECT_NEAR(o.running_mean[c], 0.9 * 0.5 + 0.1 * mean, 1e-5 * std::abs(mean));
      const double unbiased = count > 1 ? var * count / (count - 1) : var;
      EXPECT_NEAR(o.running_var[c], 0.9 * 2 + 0.1 * unbiased, 1e-5 * (2 + unbiased));
      // The backward takes the forward's saved (float) statistics.
      const double saved_mean = o.mean[c], saved_invstd = o.invstd[c];
      double sum_g = 0, sum_g_xhat = 0;
      for (int64_t k = 0; k < s.count(); ++k) {
        sum_g += g[at(k)];
        sum_g_xhat += g[at(k)] * (x[at(k)] - saved_mean) * saved_invstd;
      }
      EXPECT_NEAR(o.grad_beta[c], sum_g, 1e-5 * (1 + std::abs(sum_g)));
      EXPECT_NEAR(o.grad_gamma[c], sum_g_xhat, 1e-4 * (1 + std::abs(sum_g_xhat)));
      for (int64_t k = 0; k < s.count(); ++k) {
        const double y = (x[at(k)] - mean) * invstd * gamma[c] + beta[c];
        const double xhat = (x[at(k)] - saved_mean) * saved_invstd;
        const double dx =
            gamma[c] * saved_invstd * (g[at(k)] - sum_g / count - xhat * sum_g_xhat / count);
        ASSERT_NEAR(o.y[at(k)], y, 1e-4 * (1 + std::abs(y))) << "element " << k;
        ASSERT_NEAR(o.grad_x[at(k)], dx, 1e-4 * (1 + std::abs(dx))) << "element " << k;
      }
    }
  }
}

TEST(BatchNormBlocks, BitsDoNotDependOnTheThreadCount) {
  const int saved = omp_get_max_threads();
  for (const BatchNormShape& s : kShapes) {
    SCOPED_TRACE(::testing::Message() << s.n << " x " << s.c << " x " << s.hw);
    const int64_t elements = s.n * s.c * s.hw;
    const std::vector<float> x = values(elements, 5, 3.0f), g = values(elements, 6, 0.0f),
                             gamma = values(s.c, 7, 1.0f), beta = values(s.c, 8, 0.0f);
    omp_set_num_threads(1);
    const Outputs one = run_kernels(s, x, g, gamma, beta);
    for (int threads : {2, 3}) {
      omp_set_num_threads(threads);
      const Outputs o = run_kernels(s, x, g, gamma, beta);
      EXPECT_EQ(o.y, one.y);
      EXPECT_EQ(o.mean, one.mean);
      EXPECT_EQ(o.invstd, one.invstd);
      EXPECT_EQ(o.running_var, one.running_var);
      EXPECT_EQ(o.grad_x, one.grad_x);
      EXPECT_EQ(o.grad_gamma, one.grad_gamma);
      EXPECT_EQ(o.grad_beta, one.grad_beta);
    }
  }
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace tg::kernels
