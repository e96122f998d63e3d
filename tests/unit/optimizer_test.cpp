// Optimizers on the CPU: every option against the naive references in tests/reference/,
// driven by autograd through the flat gradient buffers; flat-group mechanics; bad input.
#include <gtest/gtest.h>

#include <memory>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../reference/optim_reference.h"
#include "../support/parity.h"
#include "optim_problem.h"

namespace tg {
namespace {

struct Options {
  double l2, l1, decoupled;
};
const Options kPenalties[] = {
    {0, 0, 0}, {0.01, 0, 0}, {0, 0.02, 0}, {0, 0, 0.05}, {0.01, 0.02, 0.05}};

TEST(Optimizer, SGDMatchesReference) {
  for (const Options& o : kPenalties) {
    for (auto [momentum, dampening, nesterov] :
         {std::tuple{0.0, 0.0, false}, std::tuple{0.9, 0.0, false}, std::tuple{0.9, 0.1, false},
          std::tuple{0.8, 0.0, true}}) {
      SCOPED_TRACE(::testing::Message()
                   << "momentum " << momentum << " dampening " << dampening << " nesterov "
                   << nesterov << " penalties " << o.l2 << "/" << o.l1 << "/" << o.decoupled);
      Problem problem;
      optim::SGDParams h;
      h.lr = 0.05;
      h.momentum = momentum;
      h.dampening = dampening;
      h.nesterov = nesterov;
      h.regularization = regularization(o.l2, o.l1, o.decoupled);
      optim::SGD opt({problem.a, problem.b}, h);
      reference::SGDRef ref{h.lr,
                            h.momentum,
                            h.dampening,
                            nesterov,
                            {h.regularization.l2_penalty, h.regularization.l1_penalty,
                             h.regularization.decoupled_weight_decay}};
      expect_same_trajectory(opt, problem, [&](auto& p, const auto& g) { ref.step(p, g); });
    }
  }
}

TEST(Optimizer, AdagradMatchesReference) {
  for (const Options& o : kPenalties) {
    for (auto [lr_decay, initial] : {std::pair{0.0, 0.0}, std::pair{0.01, 0.1}}) {
      Problem problem;
      optim::AdagradParams h;
      h.lr = 0.1;
      h.lr_decay = lr_decay;
      h.initial_accumulator = initial;
      h.regularization = regularization(o.l2, o.l1, o.decoupled);
      optim::Adagrad opt({problem.a, problem.b}, h);
      reference::AdagradRef ref{h.lr,
                                h.lr_decay,
                                h.initial_accumulator,
                                h.eps,
                                {h.regularization.l2_penalty, h.regularization.l1_penalty,
                                 h.regularization.decoupled_weight_decay}};
      expect_same_trajectory(opt, problem, [&](auto& p, const auto& g) { ref.step(p, g); });
    }
  }
}

TEST(Optimizer, RMSpropMatchesReference) {
  for (const Options& o : kPenalties) {
    for (auto [centered, momentum] : {std::pair{false, 0.0}, std::pair{true, 0.0},
                                      std::pair{false, 0.9}, std::pair{true, 0.5}}) {
      Problem problem;
      optim::RMSpropParams h;
      h.lr = 0.01;
      h.centered = centered;
      h.momentum = momentum;
      h.regularization = regularization(o.l2, o.l1, o.decoupled);
      optim::RMSprop opt({problem.a, problem.b}, h);
      reference::RMSpropRef ref{h.lr,
                                h.alpha,
                                h.eps,
                                h.momentum,
                                centered,
                                {h.regularization.l2_penalty, h.regularization.l1_penalty,
                                 h.regularization.decoupled_weight_decay}};
      expect_same_trajectory(opt, problem, [&](auto& p, const auto& g) { ref.step(p, g); });
    }
  }
}

TEST(Optimizer, AdamAndAdamWMatchReference) {
  for (const Options& o : kPenalties) {
    // Adam takes the coupled penalties, AdamW the decoupled decay (and L1); neither both.
    if (o.decoupled > 0 && o.l2 > 0) continue;
    for (bool amsgrad : {false, true}) {
      Problem problem;
      std::unique_ptr<optim::Optimizer> opt;
      if (o.decoupled > 0) {
        optim::AdamWParams h;
        h.lr = 0.05;
        h.amsgrad = amsgrad;
        h.weight_decay = o.decoupled;
        h.l1_penalty = o.l1;
        opt = std::make_unique<optim::AdamW>(std::vector<Tensor>{problem.a, problem.b}, h);
      } else {
        optim::AdamParams h;
        h.lr = 0.05;
        h.amsgrad = amsgrad;
        h.regularization = regularization(o.l2, o.l1, 0);
        opt = std::make_unique<optim::Adam>(std::vector<Tensor>{problem.a, problem.b}, h);
      }
      reference::AdamRef ref{0.05, 0.9, 0.999, 1e-8, amsgrad, {o.l2, o.l1, o.decoupled}};
      expect_same_trajectory(*opt, problem, [&](auto& p, const auto& g) { ref.step(p, g); });
    }
  }
  Problem problem;
  optim::AdamW opt({problem.a, problem.b});
  EXPECT_EQ(opt.name(), "AdamW");
  EXPECT_EQ(opt.hyper().regularization.decoupled_weight_decay, 0.01) << "PyTorch's default";
  reference::AdamRef ref{1e-3, 0.9, 0.999, 1e-8, false, {0, 0, 0.01}};  // AdamW's defaults
  expect_same_trajectory(opt, problem, [&](auto& p, const auto& g) { ref.step(p, g); });
}

TEST(Optimizer, AdamAndAdamWRefuseEachOthersDecay) {
  Tensor p = randn({3}).requires_grad_();
  optim::AdamParams decoupled;
  decoupled.regularization.decoupled_weight_decay = 0.01;
  EXPECT_NE(testing::error_of([&] {
              optim::Adam({p}, decoupled);
            }).find("Adam: a decoupled weight decay (0.01) is AdamW's; use AdamW"),
            std::string::npos);
  optim::AdamW adamw({p});
  NamedTensors state = adamw.state_dict();
  for (auto& [name, t] : state) {
    if (name == "param_groups.0.l2_penalty") t = full({}, 0.1, DType::Float64);
  }
  EXPECT_NE(testing::error_of([&] { adamw.load_state_dict(state); })
                .find("AdamW: a coupled l2_penalty (0.1) contradicts AdamW's decoupled weight "
                      "decay"),
            std::string::npos);
}

TEST(Optimizer, ParametersBecomeViewsOfOneFlatBufferPerGroup) {
  Tensor a = randn({3, 4}, DType::Float64).requires_grad_();
  Tensor b = randn({5}, DType::Float64).requires_grad_();
  Tensor c = randn({2, 2}).requires_grad_();  // float32: a second group
  const std::vector<double> a_before = {a.select(0, 1).select(0, 2).item<double>()};
  optim::SGD opt({a, b, c}, optim::SGDParams{});
  ASSERT_EQ(opt.flat_groups().size(), 2u);
  const optim::FlatGroup& g64 =
      opt.flat_groups()[0].dtype == DType::Float64 ? opt.flat_groups()[0] : opt.flat_groups()[1];
  EXPECT_EQ(g64.params.numel(), 17);
  EXPECT_EQ(a.storage(), g64.params.storage());
  EXPECT_EQ(b.storage(), g64.params.storage());
  EXPECT_EQ(b.offset(), 12);
  EXPECT_EQ(a.grad().storage(), g64.grads.storage());
  EXPECT_EQ(a.select(0, 1).select(0, 2).item<double>(), a_before[0])
      << "values moved into the buffer";
  sum(mul(a, a)).backward();  // lands in the flat gradient buffer
  EXPECT_TRUE(
      testing::tensors_close(g64.grads.slice(0, 0, 12).view({3, 4}), mul(a.detach(), 2.0), 0, 0));
}

TEST(Optimizer, BadConstructionIsRefused) {
  Tensor a = randn({3}).requires_grad_();
  EXPECT_THROW(optim::SGD({}, optim::SGDParams{}), Error);
  EXPECT_THROW(optim::SGD({a, a}, optim::SGDParams{}), Error);
  EXPECT_THROW(optim::SGD({randn({3})}, optim::SGDParams{}), Error);  // needs requires_grad
  optim::SGDParams nesterov;
  nesterov.nesterov = true;
  EXPECT_THROW(optim::SGD({randn({3}).requires_grad_()}, nesterov), Error);
  optim::AdamParams bad;
  bad.beta1 = 1.0;
  EXPECT_THROW(optim::Adam({randn({3}).requires_grad_()}, bad), Error);
}

TEST(Optimizer, LearningRateCanChangeBetweenSteps) {
  Problem problem;
  optim::SGDParams h;
  h.lr = 0.1;
  optim::SGD opt({problem.a, problem.b}, h);
  reference::SGDRef ref{0.1};
  int t = 0;
  expect_same_trajectory(
      opt, problem,
      [&](auto& p, const auto& g) {
        ref.step(p, g);
        if (++t == 3) {
          opt.set_lr(0.01);
          ref.lr = 0.01;
        }
      },
      6);
}

}  // namespace
}  // namespace tg
