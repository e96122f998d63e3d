// Clipping beyond a fixed global norm on CUDA against the CPU: the unit-wise adaptive
// clipping kernel on many unit layouts (none, one element, odd, one large unit, thousands
// of rows) in float32 and float64; history-based clipping (both rules) over the same norms,
// bit for bit (the order statistics are selected exactly, the formulas shared); and an
// optimizer with both on each device, step by step.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../support/parity.h"

namespace tg {
namespace {

TEST(ClippingCuda, UnitClipMatchesTheCpu) {
  TG_REQUIRE_CUDA();
  const std::vector<std::vector<int64_t>> layouts{{},
                                                  {1},
                                                  {0, 5, 0, 3},
                                                  {7, 7, 7, 7, 7},
                                                  {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
                                                  {100003},
                                                  {784, 784, 784, 784, 10},
                                                  std::vector<int64_t>(3001, 37)};
  Generator g(11);
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (size_t l = 0; l < layouts.size(); ++l) {
      SCOPED_TRACE("layout " + std::to_string(l) + " " + dtype_name(dtype));
      std::vector<int64_t> starts{0};
      std::vector<double> scale;
      for (size_t u = 0; u < layouts[l].size(); ++u) {
        starts.push_back(starts.back() + layouts[l][u]);
        for (int64_t i = 0; i < layouts[l][u]; ++i)
          scale.push_back(0.02 * std::pow(10.0, static_cast<double>(u % 5) - 2));
      }
      const int64_t total = starts.back();
      const Tensor w = randn({total}, DType::Float64, &g).to(dtype);
      const Tensor grad = mul(randn({total}, DType::Float64, &g), from_vector(scale)).to(dtype);
      const Tensor grad_gpu = grad.to(Device::cuda());
      const Tensor unit_starts = from_vector(starts);
      unit_clip_(w, grad, unit_starts, optim::UnitClip{0.01, 1e-3});
      unit_clip_(w.to(Device::cuda()), grad_gpu, unit_starts.to(Device::cuda()),
                 optim::UnitClip{0.01, 1e-3});
      const double tol = dtype == DType::Float32 ? 1e-6 : 1e-13;
      EXPECT_TRUE(testing::tensors_close(grad_gpu, grad, tol, tol));
    }
  }
}

TEST(ClippingCuda, HistoryClipMatchesTheCpuBitForBit) {
  TG_REQUIRE_CUDA();
  for (optim::HistoryRule rule : {optim::HistoryRule::Percentile, optim::HistoryRule::ZScore}) {
    for (int64_t window : {1, 5, 300, 4096}) {
      SCOPED_TRACE("rule " + std::to_string(static_cast<int>(rule)) + ", window " +
                   std::to_string(window));
      optim::HistoryClipOptions options;
      options.rule = rule;
      options.window = window;
      options.percentile = 37.5;
      options.warmup = 10;
      ClipState cpu_state, gpu_state;
      ClipHistory cpu = make_clip_history(options, Device::cpu());
      ClipHistory gpu = make_clip_history(options, Device::cuda());
      for (int t = 0; t < 700; ++t) {
        // Repeated values too (ties), and a non-finite norm at step 50.
        const double n = t == 50 ? std::nan("") : 1.0 + std::fmod(t * 0.37, 1.3) + (t % 9 == 8);
        const Tensor grad = full({1}, n, DType::Float64);
        global_grad_norm_({grad}, 0.0, cpu_state);
        global_grad_norm_({grad.to(Device::cuda())}, 0.0, gpu_state);
        history_clip_(cpu_state, cpu, options);
        history_clip_(gpu_state, gpu, options);
        if (t % 50 == 0 || t == 699) {
          ASSERT_TRUE(
              testing::tensors_bitwise_equal(gpu_state.scale.to(Device::cpu()), cpu_state.scale))
              << "step " << t;
        }
      }
      EXPECT_TRUE(testing::tensors_bitwise_equal(gpu.norms.to(Device::cpu()), cpu.norms));
      EXPECT_TRUE(testing::tensors_bitwise_equal(gpu.threshold.to(Device::cpu()), cpu.threshold));
      EXPECT_TRUE(testing::tensors_bitwise_equal(gpu.mean.to(Device::cpu()), cpu.mean));
      EXPECT_TRUE(testing::tensors_bitwise_equal(gpu.var.to(Device::cpu()), cpu.var));
    }
  }
}

TEST(ClippingCuda, AnOptimizerWithBothClipsAsOnTheCpu) {
  TG_REQUIRE_CUDA();
  Generator g(4);
  const Tensor w0 = randn({16, 9}, DType::Float64, &g), b0 = randn({16}, DType::Float64, &g);
  struct Run {
    Tensor w, b;
    std::unique_ptr<optim::Adam> agc, history;
  };
  auto make = [&](const Device& device) {
    Run r{w0.to(device).requires_grad_(), b0.to(device).requires_grad_(), nullptr, nullptr};
    optim::AdamParams h;
    h.lr = 0.01;
    h.unit_clip.agc_lambda = 0.02;
    r.agc = std::make_unique<optim::Adam>(std::vector<Tensor>{r.w}, h);
    r.history = std::make_unique<optim::Adam>(std::vector<Tensor>{r.b});
    r.history->set_history_clip({});
    return r;
  };
  Run cpu = make(Device::cpu()), gpu = make(Device::cuda());
  for (int t = 0; t < 20; ++t) {
    for (Run* r : {&cpu, &gpu}) {
      r->agc->zero_grad();
      r->history->zero_grad();
      const Tensor loss = add(sum(mul(tanh(r->w), 3.0 + t)), sum(mul(r->b, mul(r->b, r->b))));
      loss.backward();
      r->history->clip_grad_norm_auto();
      r->agc->step();
      r->history->step();
    }
    ASSERT_TRUE(testing::tensors_close(gpu.w, cpu.w, 1e-12, 1e-12)) << "step " << t;
    ASSERT_TRUE(testing::tensors_close(gpu.b, cpu.b, 1e-12, 1e-12)) << "step " << t;
  }
}

}  // namespace
}  // namespace tg
