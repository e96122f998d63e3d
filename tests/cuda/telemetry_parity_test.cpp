// Gradient telemetry on CUDA against the CPU (optim/telemetry.h): the same training problem
// on both devices gives the same per-tensor norms, ratios and zero fractions, and records
// come back through the pinned readback ring in order, also when more are queued than it
// has slots (Note [readback ring], core/readback.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/readback.h"
#include "../../optim/telemetry.h"
#include "../support/parity.h"
#include "../support/telemetry_case.h"

namespace tg {
namespace {

void expect_close(double gpu, double cpu, double rtol, const std::string& what) {
  if (std::isnan(cpu)) {
    EXPECT_TRUE(std::isnan(gpu)) << what;
    return;
  }
  EXPECT_NEAR(gpu, cpu, rtol * std::abs(cpu) + 1e-300) << what;
}

void check_parity(DType dtype, double rtol) {
  testing::TelemetryCase cpu(dtype, Device::cpu()), gpu(dtype, Device::cuda());
  optim::GradientTelemetry on_cpu(*cpu.opt, cpu.names), on_gpu(*gpu.opt, gpu.names);
  for (int step = 0; step < 4; ++step) {
    const double poison = step == 3 ? std::nan("") : 1.0;
    for (testing::TelemetryCase* c : {&cpu, &gpu}) {
      c->backward(poison);
      c->opt->step();
    }
    on_cpu.record(step);
    on_gpu.record(step);
    const optim::GradientStats a = *on_gpu.wait(), b = *on_cpu.wait();
    EXPECT_EQ(a.step, step);
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (size_t i = 0; i < a.tensors.size(); ++i) {
      const optim::TensorStats &x = a.tensors[i], &y = b.tensors[i];
      const std::string where = y.name + " at step " + std::to_string(step);
      EXPECT_EQ(x.name, y.name);
      expect_close(x.grad_norm, y.grad_norm, rtol, where + ": gradient norm");
      expect_close(x.weight_norm, y.weight_norm, rtol, where + ": weight norm");
      expect_close(x.update_norm, y.update_norm, rtol, where + ": update norm");
      expect_close(x.update_ratio, y.update_ratio, rtol, where + ": ratio");
      EXPECT_EQ(x.zero_fraction, y.zero_fraction) << where;
    }
    expect_close(a.grad_norm, b.grad_norm, rtol, "global gradient norm");
  }
}

TEST(TelemetryCuda, Float32MatchesTheCpu) {
  TG_REQUIRE_CUDA();
  check_parity(DType::Float32, 1e-5);
}

TEST(TelemetryCuda, Float64MatchesTheCpu) {
  TG_REQUIRE_CUDA();
  check_parity(DType::Float64, 1e-12);
}

TEST(TelemetryCuda, MoreRecordsThanSlotsComeBackInOrder) {
  TG_REQUIRE_CUDA();
  Tensor source = zeros({5}, TensorOptions(DType::Float64).device(Device::cuda()));
  Readback readback(source, 3);
  for (int i = 1; i <= 10; ++i) {
    source.fill_(i);
    readback.start();
  }
  EXPECT_EQ(readback.pending(), 10u);
  for (int i = 1; i <= 10; ++i) {
    const std::optional<std::vector<double>> values = readback.wait();
    ASSERT_TRUE(values.has_value()) << i;
    EXPECT_EQ(*values, std::vector<double>(5, i)) << "copy " << i;
  }
  EXPECT_FALSE(readback.poll().has_value());
}

}  // namespace
}  // namespace tg
