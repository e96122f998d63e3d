// Clipping against PyTorch (label golden): the trajectories of tests/golden/
// make_clip_golden.py replayed step by step in float64, on the CPU and on CUDA where a GPU
// is present. clip_agc: unit-wise adaptive clipping (our agc_lambda option of SGD) against
// timm's adaptive_clip_grad before torch.optim.SGD; clip_autoclip: our Percentile history
// clip against AutoClip's code (numpy.percentile of every norm so far, clip_grad_norm_).
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../support/golden.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(Device::cpu()).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::vector<Device> devices() {
  std::vector<Device> out{Device::cpu()};
  if (cuda_unavailable_reason().empty()) out.push_back(Device::cuda());
  return out;
}

TEST(ClipGolden, AdaptiveClippingFollowsTimmsBeforeTorchSgd) {
  const auto golden = read_golden(std::string(TG_GOLDEN_DIR) + "/clip_agc.txt");
  const std::vector<double> scales{1.0, 5.0, 0.012, 0.001, 3.0};  // make_clip_golden.py's
  const std::vector<double> c = values(golden.at("c")), target = values(golden.at("target"));
  const Tensor trajectory = golden.at("trajectory");
  for (const Device& device : devices()) {
    SCOPED_TRACE(device.str());
    std::vector<Tensor> params;
    for (size_t k = 0; k < scales.size(); ++k)
      params.push_back(golden.at("p0_" + std::to_string(k)).clone().to(device).requires_grad_());
    optim::SGDParams h;
    h.lr = 0.1;
    h.momentum = 0.9;
    h.unit_clip = {0.05, 1e-3};
    optim::SGD opt(params, h);
    for (int64_t t = 1; t <= trajectory.size(0); ++t) {
      int64_t i = 0;
      NoGradGuard no_grad;
      for (size_t k = 0; k < params.size(); ++k) {
        const std::vector<double> p = values(params[k]);
        std::vector<double> g(p.size());
        for (size_t j = 0; j < p.size(); ++j, ++i)
          g[j] = scales[k] * (c[i] * (p[j] - target[i]) + 0.05 * std::sin(0.37 * t + i));
        params[k].grad().copy_(from_vector(g, params[k].shape()));
      }
      opt.step();
      std::vector<Tensor> flat;
      for (const Tensor& p : params) flat.push_back(p.detach().reshape({-1}).to(Device::cpu()));
      ASSERT_TRUE(tensors_close(cat(flat), trajectory.select(0, t - 1), 1e-12, 1e-12))
          << "after step " << t;
    }
  }
}

TEST(ClipGolden, PercentileHistoryFollowsAutoClip) {
  const auto golden = read_golden(std::string(TG_GOLDEN_DIR) + "/clip_autoclip.txt");
  const std::vector<double> c = values(golden.at("c")), target = values(golden.at("target"));
  const Tensor trajectory = golden.at("trajectory");
  for (const Device& device : devices()) {
    SCOPED_TRACE(device.str());
    Tensor p = golden.at("p0").clone().to(device).requires_grad_();
    optim::SGD opt({p}, optim::SGDParams{0.05, 0.9});
    optim::HistoryClipOptions autoclip;  // percentile 10; the window holds all 100 norms
    autoclip.window = 128;
    opt.set_history_clip(autoclip);
    int clipped = 0;
    for (int64_t t = 1; t <= trajectory.size(0); ++t) {
      const std::vector<double> now = values(p);
      std::vector<double> g(10);
      for (int i = 0; i < 10; ++i)
        g[i] = (c[i] * (now[i] - target[i]) + 0.05 * std::sin(0.37 * t + i)) *
               (t % 7 == 0 ? 30.0 : 1.0);
      {
        NoGradGuard no_grad;
        p.grad().copy_(from_vector(g));
      }
      const Tensor norm = opt.clip_grad_norm_auto();
      ASSERT_TRUE(tensors_close(norm, golden.at("norms").select(0, t - 1), 1e-12, 1e-12));
      const optim::StepStats stats = opt.step();
      clipped += stats.read().clip_coef < 0.999 ? 1 : 0;
      ASSERT_TRUE(tensors_close(p, trajectory.select(0, t - 1), 1e-12, 1e-12))
          << "after step " << t;
    }
    EXPECT_GT(clipped, 20);  // the spikes, at least, were clipped
  }
}

}  // namespace
}  // namespace tg::testing
