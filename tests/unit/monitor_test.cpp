// The gradient monitor (optim/monitor.h) on synthetic telemetry: a healthy sequence raises
// nothing; each alarm fires on the step and tensor it should, once per episode, with its
// action; bad options are refused by name. (A healthy CNN run: tests/examples.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "../../optim/monitor.h"
#include "../../optim/telemetry.h"
#include "../support/parity.h"
#include "../support/telemetry_case.h"

namespace tg {
namespace {

using optim::AlarmAction;
using optim::AlarmKind;
using optim::GradientMonitor;
using optim::GradientStats;
using optim::MonitorOptions;

// Three tensors of a two-layer net; gradient norms near 1 with ±20% noise.
struct Sequence {
  std::mt19937_64 generator{3};
  double noise() { return std::uniform_real_distribution<double>(0.8, 1.2)(generator); }
  GradientStats at(int64_t step) {
    GradientStats s;
    s.step = step;
    s.tensors = {{"l0.weight", 6000, 2, 0.5 * noise(), 10, 0.01, 0.001, 0.0},
                 {"l0.bias", 64, 1, 0.1 * noise(), 1, 0.01, 0.01, 0.05},
                 {"l1.weight", 640, 2, 1.0 * noise(), 5, 0.01, 0.002, 0.0}};
    double total = 0;
    for (const auto& t : s.tensors) total += t.grad_norm * t.grad_norm;
    s.grad_norm = std::sqrt(total);
    return s;
  }
};

std::vector<optim::Alarm> run(GradientMonitor& monitor, Sequence& seq, int steps,
                              void (*edit)(GradientStats&) = nullptr) {
  std::vector<optim::Alarm> all;
  for (int step = 0; step < steps; ++step) {
    GradientStats s = seq.at(step);
    if (edit != nullptr) edit(s);
    for (const optim::Alarm& a : monitor.observe(s)) all.push_back(a);
  }
  return all;
}

TEST(GradientMonitor, AHealthySequenceRaisesNothing) {
  GradientMonitor monitor;
  Sequence seq;
  EXPECT_TRUE(run(monitor, seq, 200).empty());
  EXPECT_FALSE(monitor.stop_requested());
  EXPECT_FALSE(monitor.skip_requested());
}

TEST(GradientMonitor, AJumpRaisesOneExplosionPerEpisodeOnItsStepAndTensor) {
  GradientMonitor monitor;  // window 20, factor 10
  Sequence seq;
  const auto alarms = run(monitor, seq, 60, [](GradientStats& s) {
    if ((s.step >= 30 && s.step < 34) || s.step == 50) s.tensors[0].grad_norm *= 50;
  });
  ASSERT_EQ(alarms.size(), 2u);
  for (const optim::Alarm& a : alarms) {
    EXPECT_EQ(a.kind, AlarmKind::Explosion);
    EXPECT_EQ(a.tensor, "l0.weight");
    EXPECT_EQ(a.action, AlarmAction::Log);
    EXPECT_GT(a.value, a.threshold);
  }
  EXPECT_EQ(alarms[0].step, 30);
  EXPECT_EQ(alarms[1].step, 50);
  EXPECT_NE(alarms[0].message.find("step 30: explosion in l0.weight"), std::string::npos)
      << alarms[0].message;
}

TEST(GradientMonitor, AJumpRightAfterTheFirstStepNamesTheLargestJump) {
  GradientMonitor monitor;  // min_history 1: the second record is compared with the first
  Sequence seq;
  const auto alarms = run(monitor, seq, 4, [](GradientStats& s) {
    if (s.step >= 1) {
      for (auto& t : s.tensors) t.grad_norm *= std::pow(1e3, static_cast<double>(s.step));
      s.tensors[0].grad_norm *= 100;  // l0.weight jumps most
    }
  });
  ASSERT_EQ(alarms.size(), 1u) << "one alarm per kind and episode";
  EXPECT_EQ(alarms[0].step, 1);
  EXPECT_EQ(alarms[0].tensor, "l0.weight");
  EXPECT_NE(alarms[0].message.find("(3 of 3 tensors)"), std::string::npos) << alarms[0].message;
}

TEST(GradientMonitor, NothingIsComparedBeforeMinHistory) {
  MonitorOptions options;
  options.min_history = 20;
  GradientMonitor monitor(options);
  Sequence seq;
  // Norms growing 30% a step from the start: alarms only once 20 norms are known.
  const auto alarms = run(monitor, seq, 40, [](GradientStats& s) {
    s.tensors[2].grad_norm *= std::pow(1.3, static_cast<double>(s.step));
  });
  ASSERT_FALSE(alarms.empty());
  EXPECT_GE(alarms.front().step, 20);
  EXPECT_EQ(alarms.front().tensor, "l1.weight");
}

TEST(GradientMonitor, TheGlobalBoundRaisesAnExplosionWithItsAction) {
  MonitorOptions options;
  options.max_grad_norm = 5;
  options.on_explosion = AlarmAction::SkipStep;
  GradientMonitor monitor(options);
  Sequence seq;
  for (int step = 0; step < 10; ++step) {
    GradientStats s = seq.at(step);
    if (step == 6) s.grad_norm = 8;
    const auto alarms = monitor.observe(s);
    EXPECT_EQ(monitor.skip_requested(), step == 6) << step;
    if (step == 6) {
      ASSERT_EQ(alarms.size(), 1u);
      EXPECT_EQ(alarms[0].tensor, "(global)");
      EXPECT_EQ(alarms[0].threshold, 5);
    } else {
      EXPECT_TRUE(alarms.empty()) << step;
    }
  }
  EXPECT_FALSE(monitor.stop_requested());
}

TEST(GradientMonitor, NonFiniteNamesTheTensorNearestTheOutputAndStops) {
  GradientMonitor monitor;
  Sequence seq;
  const auto alarms = run(monitor, seq, 15, [](GradientStats& s) {
    if (s.step >= 12) s.tensors[0].grad_norm = s.tensors[2].grad_norm = std::nan("");
    if (s.step >= 12) s.grad_norm = std::nan("");
  });
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0].kind, AlarmKind::NonFinite);
  EXPECT_EQ(alarms[0].step, 12);
  EXPECT_EQ(alarms[0].tensor, "l1.weight");
  EXPECT_NE(alarms[0].message.find("(2 of 3 tensors)"), std::string::npos) << alarms[0].message;
  EXPECT_TRUE(monitor.stop_requested());
}

TEST(GradientMonitor, VanishingFiresOnTheEarlyLayerAgainstTheLastAndTheFloor) {
  GradientMonitor monitor;
  Sequence seq;
  auto alarms = run(monitor, seq, 10, [](GradientStats& s) {
    if (s.step >= 4) s.tensors[0].grad_norm = 1e-6;  // 1e-6 of l1.weight's ~1
  });
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0].kind, AlarmKind::Vanishing);
  EXPECT_EQ(alarms[0].step, 4);
  EXPECT_EQ(alarms[0].tensor, "l0.weight");
  EXPECT_LT(alarms[0].value, 1e-5);

  MonitorOptions floor;
  floor.vanishing_ratio = 0;
  GradientMonitor floor_only(floor);
  Sequence again;
  alarms = run(floor_only, again, 10, [](GradientStats& s) {
    if (s.step == 7) s.tensors[0].grad_norm = 1e-9;
  });
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0].step, 7);
  EXPECT_EQ(alarms[0].threshold, 1e-8);
}

TEST(GradientMonitor, DeadUnitsNeedTheirPatience) {
  MonitorOptions options;
  options.dead_patience = 3;
  GradientMonitor monitor(options);
  Sequence seq;
  const auto alarms = run(monitor, seq, 12, [](GradientStats& s) {
    if (s.step >= 5) s.tensors[1].zero_fraction = 0.8;
  });
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0].kind, AlarmKind::DeadUnits);
  EXPECT_EQ(alarms[0].step, 7);
  EXPECT_EQ(alarms[0].tensor, "l0.bias");
  EXPECT_NE(alarms[0].message.find("80% of its units"), std::string::npos) << alarms[0].message;
}

// The skip policy in a loop that reads the record before step(): a step whose global
// norm is over the bound is not applied, the others are.
TEST(GradientMonitor, TheSkipActionKeepsABadStepFromBeingApplied) {
  testing::TelemetryCase c(DType::Float64, Device::cpu());
  optim::GradientTelemetry telemetry(*c.opt, c.names);
  MonitorOptions options;
  options.max_grad_norm = 1e3;
  options.on_explosion = AlarmAction::SkipStep;
  GradientMonitor monitor(options);
  for (int step = 0; step < 4; ++step) {
    c.backward(step == 2 ? 1e6 : 1.0);  // step 2: head.weight's gradient a million times larger
    telemetry.record(step);
    monitor.observe(*telemetry.wait());
    std::vector<Tensor> before;
    for (const Tensor& p : c.params) before.push_back(p.detach().clone());
    if (!monitor.skip_requested()) c.opt->step();
    EXPECT_EQ(monitor.skip_requested(), step == 2) << step;
    for (size_t i = 0; i < c.params.size(); ++i) {
      if (c.params[i].numel() == 0) continue;
      const bool same = testing::tensors_bitwise_equal(c.params[i].detach(), before[i]);
      EXPECT_EQ(same, step == 2) << "parameter " << i << " at step " << step;
    }
  }
  bool global = false;
  for (const optim::Alarm& a : monitor.alarms()) {
    EXPECT_EQ(a.step, 2) << a.message;
    if (a.kind == AlarmKind::Explosion) {
      EXPECT_EQ(a.action, AlarmAction::SkipStep) << a.message;
    }
    global = global || a.tensor == "(global)";
  }
  EXPECT_TRUE(global) << "the global bound raised its alarm";
}

TEST(GradientMonitor, BadOptionsAreRefusedByName) {
  auto message = [](void (*edit)(MonitorOptions&)) {
    MonitorOptions o;
    edit(o);
    return testing::error_of([&] { GradientMonitor m(o); });
  };
  EXPECT_NE(message([](MonitorOptions& o) { o.window = 0; }).find("window must be at least 1"),
            std::string::npos);
  EXPECT_NE(message([](MonitorOptions& o) { o.min_history = 21; }).find("min_history"),
            std::string::npos);
  EXPECT_NE(message([](MonitorOptions& o) { o.jump_factor = 0.5; }).find("jump_factor"),
            std::string::npos);
  EXPECT_NE(message([](MonitorOptions& o) { o.dead_fraction = 0; }).find("dead_fraction"),
            std::string::npos);
  EXPECT_NE(message([](MonitorOptions& o) { o.max_grad_norm = -1; }).find("max_grad_norm"),
            std::string::npos);
}

}  // namespace
}  // namespace tg
