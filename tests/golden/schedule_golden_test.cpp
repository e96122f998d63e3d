// Learning-rate schedules against PyTorch's (label golden): 120 steps of each schedule
// written by tests/golden/make_schedule_golden.py, compared after every step; and the
// schedules' argument checks and state round trip.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "../../core/factory.h"
#include "../../optim/optim.h"
#include "../support/golden.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

using Make = std::function<std::unique_ptr<optim::LrSchedule>(optim::Optimizer&)>;

std::unique_ptr<optim::Optimizer> sgd(double lr = 0.1) {
  Tensor p = zeros({1}).requires_grad_();
  optim::SGDParams h;
  h.lr = lr;
  return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, h);
}

void replay(const std::string& name, const Make& make) {
  SCOPED_TRACE(name);
  const auto golden = read_golden(std::string(TG_GOLDEN_DIR) + "/schedule_" + name + ".txt");
  const Tensor lr = golden.at("lr");
  const double* want = lr.data_ptr<double>();
  auto opt = sgd();
  auto schedule = make(*opt);
  EXPECT_NEAR(opt->lr(), want[0], 1e-12 * want[0]) << "before the first step";
  const bool plateau = golden.count("metric") > 0;
  for (int64_t t = 1; t < lr.numel(); ++t) {
    if (plateau) {
      static_cast<optim::ReduceLROnPlateau&>(*schedule).step(
          golden.at("metric").data_ptr<double>()[t - 1]);
    } else {
      schedule->step();
    }
    ASSERT_NEAR(opt->lr(), want[t], 1e-12 * want[t] + 1e-15) << "after step " << t;
  }
}

TEST(Schedule, EveryScheduleMatchesPytorch) {
  using namespace optim;
  replay("step", [](Optimizer& o) { return std::make_unique<StepLR>(o, 25, 0.5); });
  replay("multistep", [](Optimizer& o) {
    return std::make_unique<MultiStepLR>(o, std::vector<int64_t>{10, 40, 41, 90}, 0.3);
  });
  replay("exponential", [](Optimizer& o) { return std::make_unique<ExponentialLR>(o, 0.97); });
  replay("cosine", [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 120, 0.001); });
  replay("cosine_warmup",
         [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 120, 0.0, 15, 0.25); });
  replay("onecycle", [](Optimizer& o) {
    OneCycleOptions options;
    options.pct_start = 0.25;
    return std::make_unique<OneCycleLR>(o, 0.1, 121, options);
  });
  replay("plateau", [](Optimizer& o) {
    PlateauOptions options;
    options.factor = 0.5;
    options.patience = 5;
    options.threshold = 0.01;
    options.cooldown = 3;
    options.min_lr = 0.004;
    return std::make_unique<ReduceLROnPlateau>(o, options);
  });
  replay("plateau_max_abs", [](Optimizer& o) {
    PlateauOptions options;
    options.maximize = true;
    options.factor = 0.2;
    options.patience = 2;
    options.threshold = 0.001;
    options.relative_threshold = false;
    return std::make_unique<ReduceLROnPlateau>(o, options);
  });
}

TEST(Schedule, NonsenseArgumentsAreRejectedNamingThem) {
  auto opt = sgd();

  using namespace optim;
  EXPECT_NE(
      error_of([&] { StepLR(*opt, 10, -0.5); }).find("StepLR: gamma must be positive, got -0.5"),
      std::string::npos);
  EXPECT_NE(error_of([&] { MultiStepLR(*opt, {}); }).find("MultiStepLR: no milestones"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              MultiStepLR(*opt, {30, 10});
            }).find("milestones must be positive and increasing, got [30, 10]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { CosineAnnealingLR(*opt, 10, 0, 10); }).find("warmup < total_steps"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              ReduceLROnPlateau(*opt, PlateauOptions{false, 1.5});
            }).find("factor must be in (0, 1), got 1.5"),
            std::string::npos);
  ReduceLROnPlateau plateau(*opt);
  EXPECT_NE(error_of([&] { plateau.step(); }).find("needs the epoch's metric"), std::string::npos);
}

TEST(Schedule, StateRoundTripContinuesTheSchedule) {
  auto a = sgd(), b = sgd();
  optim::OneCycleLR first(*a, 0.1, 50), second(*b, 0.1, 50);
  for (int i = 0; i < 20; ++i) first.step();
  second.load_state(first.state());
  for (int i = 0; i < 10; ++i) {
    first.step();
    second.step();
    EXPECT_EQ(a->lr(), b->lr());
  }
  auto c = sgd(), d = sgd();
  const optim::PlateauOptions options{false, 0.5, 1};
  optim::ReduceLROnPlateau p(*c, options), q(*d, options);  // options are not state
  for (double m : {1.0, 0.9, 0.95, 0.97, 0.99}) p.step(m);
  q.load_state(p.state());
  EXPECT_EQ(c->lr(), d->lr());
  p.step(2.0);
  q.step(2.0);
  EXPECT_EQ(c->lr(), d->lr());
}

}  // namespace
}  // namespace tg::testing
