// Initialisers: gains, fans, the moments of every random initialiser at a large size
// (bounds of about 5 standard errors), orthogonal's QᵀQ = I on tall, wide and 4-D weights,
// and seeds reproducing a draw.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../layers/init.h"

namespace tg::layers::init {
namespace {

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.to(DType::Float64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// Mean and variance of t's elements.
std::pair<double, double> moments(const Tensor& t) {
  const std::vector<double> v = values(t);
  double mean = 0, var = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, var / static_cast<double>(v.size())};
}

// Checks mean ≈ 0 and variance ≈ want_var for n = numel draws (standard errors: sqrt(var/n)
// for the mean; var·sqrt(2/n) for a normal's variance, less for a uniform's).
void expect_moments(const Tensor& t, double want_var, const char* what) {
  const double n = static_cast<double>(t.numel());
  const auto [mean, var] = moments(t);
  EXPECT_NEAR(mean, 0.0, 5 * std::sqrt(want_var / n)) << what;
  EXPECT_NEAR(var, want_var, 5 * want_var * std::sqrt(2.0 / n)) << what;
}

TEST(Init, GainsAndFansArePytorchs) {
  EXPECT_DOUBLE_EQ(calculate_gain(Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(calculate_gain(Nonlinearity::LeakyReLU, 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(calculate_gain(Nonlinearity::SELU), 0.75);
  EXPECT_DOUBLE_EQ(calculate_gain(Nonlinearity::Sigmoid), 1.0);
  EXPECT_EQ(fans(empty({16, 8, 3, 3})), (std::pair<int64_t, int64_t>{72, 144}));
  EXPECT_EQ(fans(empty({10, 20})), (std::pair<int64_t, int64_t>{20, 10}));
  EXPECT_THROW(fans(empty({10})), Error);
}

TEST(Init, EveryRandomInitializerHasItsMoments) {
  manual_seed(3);
  const Tensor w = empty({512, 256});  // fan_in 256, fan_out 512
  const double in = 256, out = 512;
  xavier_uniform_(w, 2.0);
  expect_moments(w, 4.0 * 2.0 / (in + out), "xavier_uniform");
  xavier_normal_(w);
  expect_moments(w, 2.0 / (in + out), "xavier_normal");
  kaiming_uniform_(w, 0, FanMode::FanIn, Nonlinearity::ReLU);
  expect_moments(w, 2.0 / in, "kaiming_uniform fan_in relu");
  kaiming_normal_(w, 0.1, FanMode::FanOut, Nonlinearity::LeakyReLU);
  expect_moments(w, 2.0 / (1.0 + 0.01) / out, "kaiming_normal fan_out leaky 0.1");
  lecun_uniform_(w);
  expect_moments(w, 1.0 / in, "lecun_uniform");
  lecun_normal_(w);
  expect_moments(w, 1.0 / in, "lecun_normal");
  kaiming_uniform_(w, std::sqrt(5.0));  // Linear's default: bound 1/sqrt(fan_in)
  double max_abs = 0;
  for (double v : values(w)) max_abs = std::max(max_abs, std::abs(v));
  EXPECT_LE(max_abs, 1.0 / std::sqrt(in));
  constant_(w, 0.25);
  EXPECT_EQ(moments(w), (std::pair<double, double>{0.25, 0.0}));
}

TEST(Init, OrthogonalIsOrthonormalTallWideAndFourDimensional) {
  manual_seed(5);
  for (const Shape& shape : {Shape{64, 16}, Shape{16, 64}, Shape{8, 4, 3, 3}, Shape{7, 7}}) {
    const Tensor w = empty(shape);
    orthogonal_(w, 2.0);
    const int64_t rows = shape[0], cols = w.numel() / rows;
    const std::vector<double> v = values(w);
    // The fewer of rows and columns are orthonormal (times the gain 2): G = 4·I.
    const bool by_columns = rows >= cols;
    const int64_t k = by_columns ? cols : rows, len = by_columns ? rows : cols;
    auto at = [&](int64_t vec, int64_t i) {
      return by_columns ? v[i * cols + vec] : v[vec * cols + i];
    };
    for (int64_t a = 0; a < k; ++a) {
      for (int64_t b = 0; b < k; ++b) {
        double dot = 0;
        for (int64_t i = 0; i < len; ++i) dot += at(a, i) * at(b, i);
        EXPECT_NEAR(dot, a == b ? 4.0 : 0.0, 1e-5) << to_string(shape) << " " << a << "," << b;
      }
    }
  }
  EXPECT_THROW(orthogonal_(empty({5})), Error);
}

TEST(Init, TheSameSeedGivesTheSameDraw) {
  const Tensor a = empty({32, 32}), b = empty({32, 32});
  manual_seed(11);
  orthogonal_(a);
  manual_seed(11);
  orthogonal_(b);
  EXPECT_EQ(values(a), values(b));
  kaiming_normal_(a);
  EXPECT_NE(values(a), values(b));
}

}  // namespace
}  // namespace tg::layers::init
