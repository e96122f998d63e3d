// The optimizer API on CUDA against the CPU: two parameter groups with their own rates
// and decay, a skipped (non-finite) step among them, step statistics, and a state dict
// saved on the CPU and loaded into the CUDA optimizer.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../support/parity.h"

namespace tg {
namespace {

struct Training {
  Tensor a, b;
  std::unique_ptr<optim::AdamW> opt;

  Training(const Tensor& a0, const Tensor& b0, const Device& device)
      : a(a0.clone().to(device).requires_grad_()), b(b0.clone().to(device).requires_grad_()) {
    optim::AdamWParams decayed;
    decayed.lr = 0.05;
    decayed.weight_decay = 0.1;
    optim::AdamWParams plain;
    plain.lr = 0.01;
    plain.amsgrad = true;
    plain.weight_decay = 0;
    opt = std::make_unique<optim::AdamW>(
        std::vector<optim::ParamGroup<optim::AdamWParams>>{{{a}, decayed}, {{b}, plain}});
  }
  // One step on Σ a² + Σ b·tanh(b); `poison` makes every gradient NaN (a skipped step).
  optim::StepStats step(bool poison) {
    opt->zero_grad();
    Tensor loss = add(sum(mul(a, a)), sum(mul(b, tanh(b))));
    if (poison) loss = mul(loss, std::nan(""));
    loss.backward();
    opt->clip_grad_norm(1.0);
    return opt->step();
  }
};

TEST(OptimizerCuda, GroupsSkipsStatsAndStateMatchTheCpu) {
  TG_REQUIRE_CUDA();
  Generator g(11);
  const Tensor a0 = randn({37, 5}, DType::Float32, &g);
  const Tensor b0 = randn({1001}, DType::Float32, &g);
  Training cpu(a0, b0, Device::cpu());
  Training gpu(a0, b0, Device::cuda());
  for (int t = 0; t < 8; ++t) {
    SCOPED_TRACE("step " + std::to_string(t));
    const bool poison = t == 3;
    const optim::StepStats::Values sc = cpu.step(poison).read();
    const optim::StepStats::Values sg = gpu.step(poison).read();
    EXPECT_EQ(sg.skipped, sc.skipped);
    if (!poison) {
      EXPECT_NEAR(sg.grad_norm, sc.grad_norm, 1e-4 * sc.grad_norm);
    }
    EXPECT_TRUE(testing::tensors_close(gpu.a.detach(), cpu.a.detach(), 1e-5, 1e-5));
    EXPECT_TRUE(testing::tensors_close(gpu.b.detach(), cpu.b.detach(), 1e-5, 1e-5));
  }
  EXPECT_EQ(gpu.opt->steps(), 7);
  // The CPU's state continues on the GPU.
  Training resumed(cpu.a.detach(), cpu.b.detach(), Device::cuda());
  resumed.opt->load_state_dict(cpu.opt->state_dict());
  EXPECT_EQ(resumed.opt->steps(), 7);
  cpu.step(false);
  resumed.step(false);
  EXPECT_TRUE(testing::tensors_close(resumed.a.detach(), cpu.a.detach(), 1e-5, 1e-5));
  EXPECT_TRUE(testing::tensors_close(resumed.b.detach(), cpu.b.detach(), 1e-5, 1e-5));
}

}  // namespace
}  // namespace tg
