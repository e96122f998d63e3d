// The optimizer API around the fused updates: parameter groups with their own
// hyperparameters (against the float64 references), state dicts (round trip, strict
// loading), skipped steps (bitwise as if they never happened), step statistics, and
// schedules over several groups.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "../../core/autograd.h"
#include "../reference/optim_reference.h"
#include "../support/parity.h"
#include "optim_problem.h"

namespace tg {
namespace {

using testing::error_of;

// Problem's parameters as a vector: a's 6 elements, then b's 4.
std::vector<double> part(const std::vector<double>& v, size_t from, size_t to) {
  return {v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to)};
}

// A reference step of two groups: `ref_a` updates a's elements, `ref_b` b's.
template <typename RefA, typename RefB>
Reference two_groups(RefA& ref_a, RefB& ref_b) {
  return [&ref_a, &ref_b](std::vector<double>& p, const std::vector<double>& g) {
    std::vector<double> pa = part(p, 0, 6), pb = part(p, 6, 10);
    ref_a.step(pa, part(g, 0, 6));
    ref_b.step(pb, part(g, 6, 10));
    std::copy(pa.begin(), pa.end(), p.begin());
    std::copy(pb.begin(), pb.end(), p.begin() + 6);
  };
}

TEST(OptimizerGroups, EachGroupKeepsItsOwnRateAndDecay) {
  Problem problem;
  optim::AdamWParams decayed;
  decayed.lr = 0.05;
  decayed.weight_decay = 0.1;
  optim::AdamWParams plain;
  plain.lr = 0.01;
  plain.weight_decay = 0;
  optim::AdamW opt({{{problem.a}, decayed}, {{problem.b}, plain}});
  EXPECT_EQ(opt.group_count(), 2u);
  EXPECT_EQ(opt.flat_groups().size(), 2u) << "one flat buffer (one launch) per group";
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.01);
  reference::AdamRef ref_a{0.05, 0.9, 0.999, 1e-8, false, {0, 0, 0.1}};
  reference::AdamRef ref_b{0.01, 0.9, 0.999, 1e-8, false, {0, 0, 0}};
  expect_same_trajectory(opt, problem, two_groups(ref_a, ref_b));
}

TEST(OptimizerGroups, SGDGroupsWithMomentumInOneOnly) {
  Problem problem;
  optim::SGDParams heavy;
  heavy.lr = 0.05;
  heavy.momentum = 0.9;
  heavy.regularization.l2_penalty = 0.01;
  optim::SGDParams plain;
  plain.lr = 0.02;
  optim::SGD opt({{{problem.b}, plain}, {{problem.a}, heavy}});
  reference::SGDRef ref_a{0.05, 0.9, 0, false, {0.01, 0, 0}};
  reference::SGDRef ref_b{0.02};
  expect_same_trajectory(opt, problem, two_groups(ref_a, ref_b));
  const NamedTensors state = opt.state_dict();
  // Parameters are numbered in the order given: b is 0 (no state), a is 1.
  EXPECT_TRUE(find_state(state, "state.1.momentum_buffer").defined());
  EXPECT_FALSE(find_state(state, "state.0.momentum_buffer").defined());
}

// Every optimizer, with the options that add state buffers.
std::vector<std::function<std::unique_ptr<optim::Optimizer>(Problem&)>> every_optimizer() {
  return {
      [](Problem& p) {
        optim::AdamParams h;
        h.lr = 0.05;
        h.amsgrad = true;
        return std::make_unique<optim::Adam>(std::vector<Tensor>{p.a, p.b}, h);
      },
      [](Problem& p) {
        optim::SGDParams h;
        h.lr = 0.05;
        h.momentum = 0.9;
        h.dampening = 0.5;
        return std::make_unique<optim::SGD>(std::vector<Tensor>{p.a, p.b}, h);
      },
      [](Problem& p) {
        optim::RMSpropParams h;
        h.centered = true;
        h.momentum = 0.5;
        return std::make_unique<optim::RMSprop>(std::vector<Tensor>{p.a, p.b}, h);
      },
      [](Problem& p) {
        optim::AdagradParams h;
        h.lr_decay = 0.01;
        h.initial_accumulator = 0.1;
        return std::make_unique<optim::Adagrad>(std::vector<Tensor>{p.a, p.b}, h);
      },
  };
}

void train(optim::Optimizer& opt, Problem& problem, int steps) {
  for (int t = 0; t < steps; ++t) {
    opt.zero_grad();
    problem.loss().backward();
    opt.clip_grad_norm(1e30);  // the same path as the skipping runs, never scaling
    opt.step();
  }
}

NamedTensors cloned(const NamedTensors& state) {
  NamedTensors out;
  for (const auto& [name, t] : state) out.emplace_back(name, t.clone());
  return out;
}

void expect_bitwise(const NamedTensors& a, const NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(testing::tensors_bitwise_equal(a[i].second, b[i].second)) << a[i].first;
  }
}

TEST(OptimizerState, RoundTripContinuesBitExactly) {
  for (const auto& make : every_optimizer()) {
    Problem first;
    auto opt = make(first);
    SCOPED_TRACE(opt->name());
    train(*opt, first, 5);
    const NamedTensors saved = cloned(opt->state_dict());
    const std::vector<double> saved_values = first.values();
    train(*opt, first, 5);

    Problem second;
    {
      NoGradGuard no_grad;
      second.a.copy_(from_vector(part(saved_values, 0, 6), {2, 3}));
      second.b.copy_(from_vector(part(saved_values, 6, 10)));
    }
    auto resumed = make(second);
    resumed->set_lr(123.0);  // the state dict's rate wins
    resumed->load_state_dict(saved);
    EXPECT_EQ(resumed->steps(), 5);
    EXPECT_EQ(resumed->lr(), opt->lr());
    train(*resumed, second, 5);
    EXPECT_EQ(second.values(), first.values());
    expect_bitwise(resumed->state_dict(), opt->state_dict());
  }
}

TEST(OptimizerState, KeysFollowPytorchsStructure) {
  Problem problem;
  optim::AdamParams h;
  h.amsgrad = true;
  optim::Adam opt({problem.a, problem.b}, h);
  std::vector<std::string> names;
  for (const auto& [name, t] : opt.state_dict()) names.push_back(name);
  const std::vector<std::string> expected{"state.0.exp_avg",
                                          "state.0.exp_avg_sq",
                                          "state.0.max_exp_avg_sq",
                                          "state.1.exp_avg",
                                          "state.1.exp_avg_sq",
                                          "state.1.max_exp_avg_sq",
                                          "param_groups.0.step",
                                          "param_groups.0.lr",
                                          "param_groups.0.beta1",
                                          "param_groups.0.beta2",
                                          "param_groups.0.eps",
                                          "param_groups.0.amsgrad",
                                          "param_groups.0.l2_penalty",
                                          "param_groups.0.l1_penalty",
                                          "param_groups.0.decoupled_weight_decay",
                                          "param_groups.0.agc_lambda",
                                          "param_groups.0.agc_eps"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(find_state(opt.state_dict(), "state.0.exp_avg").shape(), (Shape{2, 3}));
}

TEST(OptimizerState, BadStateIsRefusedNamingEveryProblemAndNothingLoads) {
  Problem problem;
  optim::AdamParams h;
  h.lr = 0.05;
  optim::Adam opt({problem.a, problem.b}, h);
  train(opt, problem, 2);
  const NamedTensors before = cloned(opt.state_dict());

  NamedTensors bad = cloned(before);
  bad.erase(bad.begin());                      // state.0.exp_avg missing
  bad[0].second = zeros({7}, DType::Float64);  // state.0.exp_avg_sq misshaped
  bad.emplace_back("state.0.momentum_buffer", zeros({2, 3}, DType::Float64));  // unexpected
  const std::string m = error_of([&] { opt.load_state_dict(bad); });
  EXPECT_NE(m.find("Adam.load_state_dict: 3 problem(s), nothing loaded"), std::string::npos) << m;
  EXPECT_NE(m.find("missing key 'state.0.exp_avg'"), std::string::npos) << m;
  EXPECT_NE(m.find("key 'state.0.exp_avg_sq': shape [7] given, expected [2, 3]"), std::string::npos)
      << m;
  EXPECT_NE(m.find("unexpected key 'state.0.momentum_buffer'"), std::string::npos) << m;

  NamedTensors negative = cloned(before);
  for (auto& [name, t] : negative) {
    if (name == "param_groups.0.beta2") t.fill_(1.5);
    if (name == "state.1.exp_avg") t.fill_(42.0);
  }
  EXPECT_NE(error_of([&] { opt.load_state_dict(negative); })
                .find("Adam: need lr >= 0, eps >= 0 and betas in [0, 1), got lr 0.05, eps 1e-08, "
                      "betas (0.9, 1.5)"),
            std::string::npos);

  NamedTensors amsgrad = cloned(before);
  for (auto& [name, t] : amsgrad) {
    if (name == "param_groups.0.amsgrad") t.fill_(1.0);
  }
  EXPECT_NE(error_of([&] { opt.load_state_dict(amsgrad); })
                .find("param_groups.0 would change the state buffers from [ exp_avg exp_avg_sq ] "
                      "to [ exp_avg exp_avg_sq max_exp_avg_sq ]"),
            std::string::npos);
  expect_bitwise(opt.state_dict(), before);
}

TEST(OptimizerState, ASkippedStepIsExactlyAsIfItNeverHappened) {
  for (const auto& make : every_optimizer()) {
    // The skipped step comes first (the case that broke SGD's first momentum step) and
    // again in the middle.
    for (int skip_at : {0, 3}) {
      Problem skipping, straight;
      auto opt = make(skipping);
      auto reference = make(straight);
      SCOPED_TRACE(opt->name() + " skip at " + std::to_string(skip_at));
      train(*opt, skipping, skip_at);
      train(*reference, straight, skip_at);
      const NamedTensors before = cloned(opt->state_dict());
      const std::vector<double> values_before = skipping.values();

      opt->zero_grad();
      mul(skipping.loss(), std::nan("")).backward();  // every gradient NaN
      opt->clip_grad_norm(1e30);
      const optim::StepStats::Values stats = opt->step().read();
      EXPECT_TRUE(stats.skipped);
      EXPECT_TRUE(std::isnan(stats.grad_norm));
      EXPECT_TRUE(opt->last_step_skipped());
      EXPECT_EQ(skipping.values(), values_before);
      expect_bitwise(opt->state_dict(), before);

      train(*opt, skipping, 4);
      train(*reference, straight, 4);
      EXPECT_EQ(skipping.values(), straight.values());
      expect_bitwise(opt->state_dict(), reference->state_dict());
    }
  }
}

TEST(OptimizerStats, StayOnTheDeviceUntilRead) {
  Problem problem;
  optim::SGD opt({problem.a, problem.b}, optim::SGDParams{});
  opt.zero_grad();
  problem.loss().backward();
  // Nothing asked for: nothing measured.
  optim::StepStats none = opt.step();
  EXPECT_FALSE(none.grad_norm.defined());
  EXPECT_TRUE(std::isnan(none.read().grad_norm));
  EXPECT_EQ(none.read().clip_coef, 1.0);

  opt.zero_grad();
  problem.loss().backward();
  const double norm = opt.grad_norm().item<float>();
  opt.clip_grad_norm(norm / 4);
  const optim::StepStats clipped = opt.step();
  EXPECT_EQ(clipped.grad_norm.dim(), 0);
  const optim::StepStats::Values v = clipped.read();
  EXPECT_NEAR(v.grad_norm, norm, 1e-6 * norm);
  EXPECT_NEAR(v.clip_coef, (norm / 4) / (norm + 1e-6), 1e-6);
  EXPECT_FALSE(v.skipped);

  opt.measure_grad_norm(true);
  opt.zero_grad();
  problem.loss().backward();
  const double expected = opt.grad_norm().item<float>();
  const optim::StepStats::Values measured = opt.step().read();
  EXPECT_FLOAT_EQ(static_cast<float>(measured.grad_norm), static_cast<float>(expected));
  EXPECT_EQ(measured.clip_coef, 1.0);
  EXPECT_FALSE(measured.skipped);
}

TEST(OptimizerGroups, SchedulesScaleEachGroupFromItsOwnBase) {
  Problem problem;
  optim::SGDParams fast, slow;
  fast.lr = 0.1;
  slow.lr = 0.01;
  optim::SGD opt({{{problem.a}, fast}, {{problem.b}, slow}});
  optim::StepLR step(opt, 2, 0.5);
  step.step();
  step.step();
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.05);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.005);

  optim::PlateauOptions options;
  options.patience = 0;
  options.factor = 0.5;
  options.min_lr = 0.004;
  optim::ReduceLROnPlateau plateau(opt, options);
  plateau.step(1.0);
  plateau.step(1.0);  // no improvement: each group halves, down to min_lr
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.025);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.004);
  const optim::ScheduleState state = plateau.state();
  opt.set_lr(1.0);
  plateau.load_state(state);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.025);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.004);

  EXPECT_NE(error_of([&] { opt.set_lr(2, 0.1); }).find("SGD: no parameter group 2 (there are 2)"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              opt.set_lr(0, -1.0);
            }).find("SGD: a learning rate must be finite and >= 0, got -1"),
            std::string::npos);
}

}  // namespace
}  // namespace tg
