// The loss scaler (optim/loss_scaler.h, Note [loss scaling]) beyond PyTorch's trajectories
// (tests/golden/loss_scaler_golden_test.cpp): the fold into the update against unscale_
// by hand, clipping by value of the true gradients, the state in checkpoints (round trip,
// strict loading), bad options, and what the telemetry and the monitor make of a scaled run.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../support/parity.h"

namespace tg::optim {
namespace {

using testing::tensors_bitwise_equal;

// A small problem: two parameters, a loss whose gradient is known, and an overflow on the
// steps in `overflow` (an element of the gradient times 1e38, infinite once scaled).
struct Problem {
  Tensor w, b;
  std::unique_ptr<Adam> opt;
  explicit Problem(uint64_t seed = 1) {
    Generator g(seed);
    w = randn({6, 5}, {}, &g).requires_grad_();
    b = randn({5}, {}, &g).requires_grad_();
    opt = std::make_unique<Adam>(std::vector<Tensor>{w, b}, AdamParams{0.01});
  }
  // The loss of step t (unscaled), with an overflowing term on the overflow steps.
  Tensor loss(int t, bool overflow = false) const {
    Generator g(100 + t);
    const Tensor x = randn({4, 6}, {}, &g);
    Tensor y = sum(mul(relu(add(matmul(x, w), b)), 0.25));
    if (overflow) y = add(y, mul(sum(w), 1e38));
    return y;
  }
};

TEST(LossScaler, TheFoldedUnscaleIsUnscaleByHandBitForBit) {
  Problem folded(3), by_hand(3);
  LossScaler s1(*folded.opt), s2(*by_hand.opt);
  for (int t = 1; t <= 6; ++t) {
    folded.opt->zero_grad();
    s1.scale(folded.loss(t, t == 3)).backward();
    folded.opt->step();
    by_hand.opt->zero_grad();
    s2.scale(by_hand.loss(t, t == 3)).backward();
    s2.unscale_(*by_hand.opt);
    EXPECT_THROW(s2.unscale_(*by_hand.opt), Error) << "twice in one step";
    by_hand.opt->step();
    ASSERT_TRUE(tensors_bitwise_equal(folded.w, by_hand.w)) << "step " << t;
    ASSERT_TRUE(tensors_bitwise_equal(folded.b, by_hand.b)) << "step " << t;
  }
  EXPECT_EQ(s1.skipped_steps(), 1);
  EXPECT_EQ(s2.skipped_steps(), 1);
  EXPECT_EQ(s1.scale_value(), 32768.0);
  EXPECT_EQ(folded.opt->steps(), 5);
}

// Against the same run without a scaler: the gradients the update sees are the true ones, so
// clipping by value and by norm act on them (the scale is a power of 2: the same bits).
TEST(LossScaler, ClippingSeesTheTrueGradients) {
  for (const bool by_value : {true, false}) {
    Problem plain(4), scaled(4);
    LossScaler scaler(*scaled.opt);
    for (int t = 1; t <= 4; ++t) {
      plain.opt->zero_grad();
      plain.loss(t).backward();
      scaled.opt->zero_grad();
      scaler.scale(scaled.loss(t)).backward();
      if (by_value) {
        plain.opt->clip_grad_value(0.05);
        scaled.opt->clip_grad_value(0.05);
      } else {
        const double a = plain.opt->clip_grad_norm(0.1).item<float>();
        const double b = scaled.opt->clip_grad_norm(0.1).item<float>();
        EXPECT_EQ(a, b) << "the norm of the unscaled gradients";
      }
      plain.opt->step();
      scaled.opt->step();
      ASSERT_TRUE(tensors_bitwise_equal(plain.w, scaled.w)) << by_value << " step " << t;
    }
  }
}

TEST(LossScaler, ItsStateTravelsInTheOptimizersStateDict) {
  Problem a(5);
  LossScaler scaler(*a.opt, {1024.0, 2.0, 0.5, 2});
  for (int t = 1; t <= 5; ++t) {
    a.opt->zero_grad();
    scaler.scale(a.loss(t, t == 2)).backward();
    a.opt->step();
  }
  const NamedTensors state = a.opt->state_dict();
  EXPECT_TRUE(find_state(state, "loss_scaler.scale").defined());
  Problem b(5);
  LossScaler resumed(*b.opt, {1024.0, 2.0, 0.5, 2});
  {
    NoGradGuard no_grad;
    b.w.copy_(a.w);
    b.b.copy_(a.b);
  }
  b.opt->load_state_dict(state);
  EXPECT_EQ(resumed.scale_value(), scaler.scale_value());
  EXPECT_EQ(resumed.skipped_steps(), 1);
  for (int t = 6; t <= 9; ++t) {  // both continue the same way (growth every 2 clean steps)
    for (auto [p, s] : {std::pair<Problem*, LossScaler*>{&a, &scaler}, {&b, &resumed}}) {
      p->opt->zero_grad();
      s->scale(p->loss(t, t == 8)).backward();
      p->opt->step();
    }
    ASSERT_TRUE(tensors_bitwise_equal(a.w, b.w)) << "step " << t;
    ASSERT_EQ(scaler.scale_value(), resumed.scale_value()) << "step " << t;
  }
  // Strict: other options, a missing scaler state, or a scaler state with no scaler.
  Problem c(5);
  LossScaler other(*c.opt, {1024.0, 2.0, 0.5, 7});
  EXPECT_THROW(c.opt->load_state_dict(state), Error);
  Problem d(5);
  EXPECT_THROW(d.opt->load_state_dict(state), Error) << "an unexpected loss_scaler.* key";
  Problem e(5);
  const NamedTensors without = Problem(5).opt->state_dict();
  LossScaler fresh(*e.opt);
  EXPECT_THROW(e.opt->load_state_dict(without), Error) << "missing loss_scaler.* keys";
}

// A growth past float32's range is not taken (PyTorch checks the double product, which can
// still round to infinity as a float); a backoff always is.
TEST(LossScaler, TheScaleNeverGrowsIntoInfinity) {
  LossScaleState s = make_loss_scale_state({3e38, 2.0, 0.5, 1}, Device::cpu());
  update_loss_scale_(s, full({}, 0, DType::UInt8));
  EXPECT_EQ(s.scale.item<float>(), 3e38f);
  EXPECT_EQ(s.growth_tracker.item<int64_t>(), 0);
  update_loss_scale_(s, full({}, 1, DType::UInt8));
  EXPECT_EQ(s.scale.item<float>(), 1.5e38f);
  EXPECT_EQ(s.step_scale.item<float>(), 3e38f);
  EXPECT_EQ(s.step_skipped.item<uint8_t>(), 1);
}

TEST(LossScaler, BadOptionsAreRefusedNamingThem) {
  Problem p;
  const std::vector<std::pair<LossScalerOptions, std::string>> bad{
      {{0.0, 2.0, 0.5, 10}, "init_scale"},     {{1e39, 2.0, 0.5, 10}, "init_scale"},
      {{1.0, 1.0, 0.5, 10}, "growth_factor"},  {{1.0, 2.0, 1.0, 10}, "backoff_factor"},
      {{1.0, 2.0, 0.0, 10}, "backoff_factor"}, {{1.0, 2.0, 0.5, 0}, "growth_interval"}};
  for (const auto& [options, field] : bad) {
    try {
      LossScaler scaler(*p.opt, options);
      ADD_FAILURE() << field;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
  LossScaler scaler(*p.opt);
  EXPECT_THROW(scaler.scale(Tensor()), Error);
  EXPECT_THROW(scaler.scale(full({}, 1.0, DType::Int64)), Error);
}

// The telemetry reports unscaled norms, the scale and skips; the monitor takes a skipped
// step for the scaler's business, and raises loss_scale when skipping never ends.
TEST(LossScaler, TelemetryAndMonitorKnowTheScale) {
  Problem plain(6), scaled(6);
  LossScaler scaler(*scaled.opt);
  GradientTelemetry t_plain(*plain.opt), t_scaled(*scaled.opt);
  MonitorOptions options;
  options.max_skipped_in_a_row = 3;
  GradientMonitor monitor(options);
  for (int t = 1; t <= 3; ++t) {
    plain.opt->zero_grad();
    plain.loss(t).backward();
    plain.opt->step();
    t_plain.record(t);
    scaled.opt->zero_grad();
    scaler.scale(scaled.loss(t)).backward();
    scaled.opt->step();
    t_scaled.record(t);
    const GradientStats a = *t_plain.wait(), b = *t_scaled.wait();
    EXPECT_NEAR(b.grad_norm, a.grad_norm, 1e-6 * a.grad_norm) << "unscaled, step " << t;
    EXPECT_EQ(a.loss_scale, 0.0);
    EXPECT_EQ(b.loss_scale, 65536.0);
    EXPECT_FALSE(b.skipped);
    EXPECT_TRUE(monitor.observe(b).empty());
  }
  for (int t = 4; t <= 6; ++t) {  // three overflows in a row
    scaled.opt->zero_grad();
    scaler.scale(scaled.loss(t, true)).backward();
    scaled.opt->step();
    t_scaled.record(t);
    const GradientStats b = *t_scaled.wait();
    EXPECT_TRUE(b.skipped);
    EXPECT_EQ(b.skipped_steps, t - 3);
    EXPECT_EQ(b.loss_scale, 65536.0 / (1 << (t - 4)));  // the scale the step carried
    const std::vector<Alarm> alarms = monitor.observe(b);
    if (t < 6) {
      EXPECT_TRUE(alarms.empty()) << "a skipped step is not a divergence";
    } else {
      ASSERT_EQ(alarms.size(), 1u);
      EXPECT_EQ(alarms[0].kind, AlarmKind::LossScale);
      EXPECT_NE(alarms[0].message.find("3 steps in a row"), std::string::npos) << alarms[0].message;
    }
  }
  EXPECT_TRUE(monitor.stop_requested());
}

}  // namespace
}  // namespace tg::optim
