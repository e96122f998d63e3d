// The loss scaler (optim/loss_scaler.h, Note [loss scaling]) against PyTorch's GradScaler
// (label golden): the trajectories written by tests/golden/make_loss_scaler_golden.py, with
// forced overflows (a gradient too large for the scale, infinite, NaN). After every step:
// the scale, whether the step was skipped, the parameters, and (with clipping) the norm
// clip_grad_norm saw, which must be the unscaled one. float32 on the CPU, and on CUDA where
// a GPU is present.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../support/golden.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

using Factory = std::function<std::unique_ptr<optim::Optimizer>(const Tensor&)>;
using Overrides = std::map<int64_t, std::vector<std::pair<int, double>>>;

void replay(const std::string& name, const Factory& make, int64_t growth_interval,
            const Overrides& overrides, bool clip, const Device& device) {
  SCOPED_TRACE(name + " on " + device.str());
  const auto golden = read_golden(std::string(TG_GOLDEN_DIR) + "/" + name + ".txt");
  const Tensor c = golden.at("c"), target = golden.at("target");
  const Tensor trajectory = golden.at("trajectory"), scales = golden.at("scales"),
               skipped = golden.at("skipped");
  Tensor p = golden.at("p0").to(DType::Float32).to(device).requires_grad_();
  std::unique_ptr<optim::Optimizer> opt = make(p);
  optim::LossScaler scaler(*opt, {65536.0, 2.0, 0.5, growth_interval});
  for (int64_t t = 1; t <= trajectory.size(0); ++t) {
    opt->zero_grad();
    const Tensor host = p.detach().to(Device::cpu()).to(DType::Float64);
    std::vector<float> g(10);
    for (int i = 0; i < 10; ++i) {
      g[i] = static_cast<float>(c.data_ptr<double>()[i] *
                                    (host.data_ptr<double>()[i] - target.data_ptr<double>()[i]) +
                                0.05 * std::sin(0.37 * t + i));
    }
    if (overrides.count(t) != 0) {
      for (const auto& [index, value] : overrides.at(t)) g[index] = static_cast<float>(value);
    }
    const Tensor loss = sum(mul(p, from_vector(g).to(device)));
    scaler.scale(loss).backward();
    if (clip) {
      const double norm = opt->clip_grad_norm(1.0).item<float>();
      const double want = golden.at("norms").data_ptr<double>()[t - 1];
      if (std::isfinite(want)) {
        EXPECT_NEAR(norm, want, 1e-5 * want) << "the unscaled norm at step " << t;
      } else {
        EXPECT_FALSE(std::isfinite(norm)) << "step " << t << ": " << norm;
      }
    }
    opt->step();
    ASSERT_EQ(opt->last_step_skipped(), skipped.data_ptr<int64_t>()[t - 1] != 0) << "step " << t;
    ASSERT_EQ(scaler.scale_value(), scales.data_ptr<double>()[t - 1]) << "scale after step " << t;
    ASSERT_TRUE(tensors_close(p, trajectory.select(0, t - 1).to(DType::Float32), 2e-6, 2e-6))
        << "after step " << t;
  }
  int64_t skips = 0;
  for (int64_t t = 0; t < skipped.numel(); ++t) skips += skipped.data_ptr<int64_t>()[t];
  EXPECT_EQ(scaler.skipped_steps(), skips);
  EXPECT_EQ(opt->steps(), trajectory.size(0) - skips) << "skipped steps are not counted";
}

std::vector<Device> devices() {
  std::vector<Device> out{Device::cpu()};
  if (cuda_is_available()) out.push_back(Device::cuda());
  return out;
}

TEST(LossScalerGolden, SgdWithClippingMatchesGradScaler) {
  Overrides overrides{{20, {{0, NAN}}}};
  for (int64_t t = 5; t <= 9; ++t) overrides[t] = {{3, 1e35}};
  for (const Device& device : devices()) {
    replay(
        "loss_scaler_sgd_clip",
        [](const Tensor& p) {
          return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, optim::SGDParams{0.05, 0.9});
        },
        3, overrides, true, device);
  }
}

TEST(LossScalerGolden, AdamMatchesGradScaler) {
  const Overrides overrides{
      {7, {{2, INFINITY}}}, {8, {{2, -INFINITY}}}, {15, {{0, NAN}}}, {30, {{3, 1e35}}}};
  for (const Device& device : devices()) {
    replay(
        "loss_scaler_adam",
        [](const Tensor& p) {
          return std::make_unique<optim::Adam>(std::vector<Tensor>{p}, optim::AdamParams{0.01});
        },
        4, overrides, false, device);
  }
}

}  // namespace
}  // namespace tg::testing
