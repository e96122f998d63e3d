// Random draws on the CPU: reproducibility, the generator's offsets, distribution
// moments within 6 standard errors, and the normal's hand-written log/sin/cos against libm.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../kernels/random.h"
#include "../support/parity.h"

namespace tg {
namespace {

struct Moments {
  double mean, variance;
};

Moments moments(const Tensor& t) {
  const Tensor d = t.to(Device::cpu()).to(DType::Float64);
  const double* v = d.data_ptr<double>();
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < d.numel(); ++i) sum += v[i];
  const double mean = sum / d.numel();
  for (int64_t i = 0; i < d.numel(); ++i) sum_sq += (v[i] - mean) * (v[i] - mean);
  return {mean, sum_sq / d.numel()};
}

TEST(Random, SameStateSameValues) {
  Generator a(123), b(123);
  EXPECT_TRUE(testing::tensors_bitwise_equal(rand({1001}, {}, &a), rand({1001}, {}, &b)));
  EXPECT_TRUE(testing::tensors_bitwise_equal(randn({77}, DType::Float64, &a),
                                             randn({77}, DType::Float64, &b)));
}

TEST(Random, EachCallReservesOneOffset) {
  Generator g(5);
  const Tensor first = rand({100}, {}, &g);
  EXPECT_EQ(g.offset(), 1u);
  const Tensor second = rand({100}, {}, &g);
  EXPECT_EQ(g.offset(), 2u);
  EXPECT_FALSE(testing::tensors_bitwise_equal(first, second));
  g.set_state(5, 0);
  EXPECT_TRUE(testing::tensors_bitwise_equal(rand({100}, {}, &g), first));
}

TEST(Random, ShorterDrawIsAPrefixOfALongerOne) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Generator a(9), b(9);
    const Tensor short_draw = randn({13}, dtype, &a);
    const Tensor long_draw = randn({1000}, dtype, &b);
    EXPECT_TRUE(testing::tensors_bitwise_equal(short_draw, long_draw.slice(0, 0, 13)));
  }
}

TEST(Random, DefaultGeneratorIsThePerDeviceOne) {
  manual_seed(42);
  const Tensor a = rand({10});
  manual_seed(42);
  EXPECT_TRUE(testing::tensors_bitwise_equal(rand({10}), a));
  EXPECT_EQ(context(Device::cpu()).generator().offset(), 1u);
}

TEST(Random, UniformMomentsAndRange) {
  const int64_t n = 1000000;
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Tensor t = uniform({n}, -2, 3, dtype);
    const Moments m = moments(t);
    // mean 0.5, variance 25/12; standard error of the mean sqrt(var/n).
    EXPECT_NEAR(m.mean, 0.5, 6 * std::sqrt(25.0 / 12 / n));
    EXPECT_NEAR(m.variance, 25.0 / 12, 0.02);
    const Tensor d = t.to(DType::Float64);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_GE(d.data_ptr<double>()[i], -2.0);
      ASSERT_LT(d.data_ptr<double>()[i], 3.0);
    }
  }
}

TEST(Random, NormalMomentsAndShape) {
  const int64_t n = 1000000;
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const Tensor t = normal({n}, 1.5, 2.0, dtype);
    const Moments m = moments(t);
    EXPECT_NEAR(m.mean, 1.5, 6 * 2.0 / std::sqrt(n));
    EXPECT_NEAR(m.variance, 4.0, 6 * 4.0 * std::sqrt(2.0 / n));
    // P(|z| < 1) = 0.682689; binomial standard error sqrt(p(1-p)/n).
    const Tensor d = t.to(DType::Float64);
    int64_t inside = 0;
    for (int64_t i = 0; i < n; ++i) inside += std::fabs((d.data_ptr<double>()[i] - 1.5) / 2.0) < 1;
    EXPECT_NEAR(static_cast<double>(inside) / n, 0.682689, 6 * std::sqrt(0.682689 * 0.317311 / n));
  }
}

TEST(Random, BernoulliRateWithinSixSigma) {
  const int64_t n = 1000000;
  for (double p : {0.1, 0.5, 0.9}) {
    for (DType dtype : {DType::Float32, DType::UInt8}) {
      const Tensor t = bernoulli({n}, p, dtype).to(DType::Float64);
      double ones = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double v = t.data_ptr<double>()[i];
        ASSERT_TRUE(v == 0.0 || v == 1.0);
        ones += v;
      }
      EXPECT_NEAR(ones / n, p, 6 * std::sqrt(p * (1 - p) / n)) << "p " << p;
    }
  }
  EXPECT_EQ(moments(bernoulli({4096}, 0.0)).mean, 0.0);
  EXPECT_EQ(moments(bernoulli({4096}, 1.0)).mean, 1.0);
}

// The hand-written functions behind Box–Muller (Note [exact arithmetic]) against libm.
TEST(Random, ExactLogMatchesLibm) {
  for (double u = 1e-300; u <= 1.0; u *= 1.37) {
    EXPECT_NEAR(kernels::exact_log(u), std::log(u), 1e-15 * std::fabs(std::log(u)) + 1e-300) << u;
  }
  EXPECT_EQ(kernels::exact_log(1.0), 0.0);
  EXPECT_NEAR(kernels::exact_log(0x1p-24), std::log(0x1p-24), 1e-14);
}

TEST(Random, ExactSinCosMatchLibm) {
  for (int i = 0; i < 4096; ++i) {
    const double t = i / 4096.0 + 1.0 / 9999.0;
    if (t >= 1.0) continue;
    double s, c;
    kernels::exact_sincos_turns(t, &s, &c);
    const double angle = 2 * M_PI * t;
    EXPECT_NEAR(s, std::sin(angle), 1e-15) << t;
    EXPECT_NEAR(c, std::cos(angle), 1e-15) << t;
  }
}

}  // namespace
}  // namespace tg
