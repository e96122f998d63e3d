// Gradient telemetry (optim/telemetry.h) against norms taken separately with core ops and
// plain loops: per tensor and in total, over several steps, with tensors that span many
// pieces (Note [stat pieces]), several flat groups, float32 and float64, non-finite
// gradients, and the readback's order; plus the piece layout and the front-end's checks.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../core/ops/param_stats.h"
#include "../../core/readback.h"
#include "../../kernels/param_stats.h"
#include "../../optim/optim.h"
#include "../../optim/telemetry.h"
#include "../support/parity.h"
#include "../support/telemetry_case.h"

namespace tg {
namespace {
using testing::TelemetryCase;

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(Device::cpu()).to(DType::Float64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

double norm_by_ops(const Tensor& t) {
  const Tensor d = t.detach().to(DType::Float64);
  return std::sqrt(sum(mul(d, d)).to(Device::cpu()).item<double>());
}

void expect_near_relative(double actual, double expected, double rtol, const std::string& what) {
  EXPECT_NEAR(actual, expected, rtol * std::abs(expected) + 1e-300) << what;
}

void check_telemetry_matches_ops(DType dtype, double rtol) {
  TelemetryCase s(dtype, Device::cpu());
  optim::GradientTelemetry telemetry(*s.opt, s.names);
  for (int step = 1; step <= 3; ++step) {
    s.backward();
    std::vector<Tensor> before;
    for (const Tensor& p : s.params) before.push_back(p.detach().clone());
    s.opt->step();
    telemetry.record(step);
    const std::optional<optim::GradientStats> stats = telemetry.poll();
    ASSERT_TRUE(stats.has_value()) << "the CPU's measurement is there at once";
    EXPECT_EQ(stats->step, step);
    ASSERT_EQ(stats->tensors.size(), s.params.size());
    double grad2 = 0, weight2 = 0, update2 = 0;
    for (size_t i = 0; i < s.params.size(); ++i) {
      const optim::TensorStats& t = stats->tensors[i];
      const Tensor& p = s.params[i];
      EXPECT_EQ(t.name, s.names[i].first);
      EXPECT_EQ(t.numel, p.numel());
      EXPECT_EQ(t.dim, p.dim());
      const double g = norm_by_ops(p.grad()), w = norm_by_ops(p);
      const double u = norm_by_ops(sub(p.detach(), before[i]));
      expect_near_relative(t.grad_norm, g, rtol, t.name + " gradient norm");
      expect_near_relative(t.weight_norm, w, rtol, t.name + " weight norm");
      expect_near_relative(t.update_norm, u, rtol, t.name + " update norm");
      expect_near_relative(t.update_ratio, w > 0 ? u / w : 0.0, rtol, t.name + " ratio");
      int64_t zeros = 0;
      for (double v : values(p.grad())) zeros += v == 0.0;
      EXPECT_DOUBLE_EQ(t.zero_fraction,
                       p.numel() > 0 ? static_cast<double>(zeros) / p.numel() : 0.0)
          << t.name;
      grad2 += g * g, weight2 += w * w, update2 += u * u;
    }
    EXPECT_GT(stats->tensors[0].zero_fraction, 0.2) << "the mask zeroes ~30% of big.weight's";
    expect_near_relative(stats->grad_norm, std::sqrt(grad2), rtol, "global gradient norm");
    expect_near_relative(stats->weight_norm, std::sqrt(weight2), rtol, "global weight norm");
    expect_near_relative(stats->update_norm, std::sqrt(update2), rtol, "global update norm");
  }
}

TEST(GradientTelemetry, Float64ValuesEqualNormsTakenWithCoreOps) {
  check_telemetry_matches_ops(DType::Float64, 1e-12);
}

TEST(GradientTelemetry, Float32ValuesEqualNormsTakenWithCoreOps) {
  check_telemetry_matches_ops(DType::Float32, 1e-6);
}

TEST(GradientTelemetry, TheFirstUpdateIsMeasuredFromConstruction) {
  TelemetryCase s(DType::Float64, Device::cpu());
  std::vector<Tensor> initial;
  for (const Tensor& p : s.params) initial.push_back(p.detach().clone());
  optim::GradientTelemetry telemetry(*s.opt, s.names);
  s.backward();
  s.opt->step();
  telemetry.record(0);
  const optim::GradientStats stats = *telemetry.wait();
  expect_near_relative(stats.tensors[3].update_norm,
                       norm_by_ops(sub(s.params[3].detach(), initial[3])), 1e-12, "bias");
  telemetry.record(1);  // no step in between: nothing moved
  EXPECT_EQ(telemetry.wait()->update_norm, 0.0);
}

TEST(GradientTelemetry, ANonFiniteGradientShowsInItsOwnTensor) {
  TelemetryCase s(DType::Float32, Device::cpu());
  optim::GradientTelemetry telemetry(*s.opt, s.names);
  s.backward(std::nan(""));
  telemetry.record(7);
  const optim::GradientStats stats = *telemetry.wait();
  EXPECT_TRUE(std::isnan(stats.tensors[4].grad_norm)) << "head.weight's gradient is NaN";
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(std::isfinite(stats.tensors[i].grad_norm)) << i;
  EXPECT_FALSE(std::isfinite(stats.grad_norm));
}

TEST(GradientTelemetry, RecordsComeBackInOrderAndUnnamedParametersGetPositions) {
  TelemetryCase s(DType::Float64, Device::cpu());
  optim::GradientTelemetry telemetry(*s.opt, {{"bias", s.params[3]}});
  EXPECT_EQ(telemetry.names(),
            (std::vector<std::string>{"param0", "param1", "param2", "bias", "param4"}));
  for (int step = 10; step < 13; ++step) {
    s.backward();
    s.opt->step();
    telemetry.record(step);
  }
  EXPECT_EQ(telemetry.pending(), 3u);
  for (int step = 10; step < 13; ++step) EXPECT_EQ(telemetry.poll()->step, step);
  EXPECT_FALSE(telemetry.poll().has_value());
  EXPECT_FALSE(telemetry.wait().has_value());
}

TEST(ParamStats, PiecesCoverEveryTensorInOrder) {
  std::vector<int64_t> first;
  const std::vector<int64_t> sizes = {0, 5, 9000, 0, 4096, 1};
  const std::vector<int64_t> pieces = kernels::stat_pieces(sizes, &first);
  EXPECT_EQ(first, (std::vector<int64_t>{0, 0, 1, 4, 4, 5, 6}));
  // norm_chunk(13102) = 4096: 9000 = 4096 + 4096 + 808.
  EXPECT_EQ(pieces, (std::vector<int64_t>{0, 5, 5, 4101, 4101, 8197, 8197, 9005, 9005, 13101, 13101,
                                          13102}));
}

TEST(ParamStats, TheFrontEndNamesWhatIsWrong) {
  const Tensor params = zeros({10}), grads = zeros({10}), previous = zeros({10});
  const ParamStatsLayout layout = param_stats_layout({4, 6}, Device::cpu());
  const Tensor sums = zeros({2, 4}, TensorOptions(DType::Float64));
  EXPECT_NO_THROW(param_stats_(params, grads, previous, layout, sums));
  EXPECT_NE(testing::error_of([&] {
              param_stats_(params, zeros({9}), previous, layout, sums);
            }).find("grads must be a contiguous 1-D float32 buffer of 10 elements"),
            std::string::npos);
  EXPECT_NE(
      testing::error_of([&] {
        param_stats_(params, grads, previous, param_stats_layout({4, 5}, Device::cpu()), sums);
      }).find("the layout covers 9 elements, the buffers hold 10"),
      std::string::npos);
  EXPECT_NE(testing::error_of([&] {
              param_stats_(params, grads, previous, layout, zeros({2, 4}));
            }).find("sums must be a contiguous (2, 4) float64 tensor"),
            std::string::npos);
  EXPECT_NE(testing::error_of([] {
              param_stats_layout({3, -1}, Device::cpu());
            }).find("tensor 1 has size -1"),
            std::string::npos);
}

TEST(Readback, HandsOutCopiesInStartOrder) {
  Tensor source = zeros({3}, TensorOptions(DType::Float64));
  Readback readback(source);
  for (int i = 1; i <= 3; ++i) {
    source.fill_(i);
    readback.start();
  }
  EXPECT_EQ(readback.pending(), 3u);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(*readback.poll(), std::vector<double>(3, i));
  EXPECT_FALSE(readback.poll().has_value());
  EXPECT_NE(testing::error_of([] { Readback bad(zeros({2})); }).find("contiguous float64"),
            std::string::npos);
}

}  // namespace
}  // namespace tg
