// Global-norm clipping, the skipped non-finite step, clip_grad_value, dropout and
// batch-norm running statistics, on the CPU, against float64 references.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../kernels/dropout.h"
#include "../../layers/batch_norm.h"
#include "../../optim/optim.h"
#include "../reference/optim_reference.h"
#include "../support/parity.h"

namespace tg {
namespace {

double reference_norm(const std::vector<Tensor>& grads) {
  double total = 0;
  for (const Tensor& g : grads) {
    const Tensor d = g.to(DType::Float64).contiguous();
    for (int64_t i = 0; i < d.numel(); ++i)
      total += d.data_ptr<double>()[i] * d.data_ptr<double>()[i];
  }
  return std::sqrt(total);
}

TEST(GradNorm, MatchesFloat64ReferenceAndRepeatsBitForBit) {
  for (int64_t n : {1, 4095, 4096, 4097, 1000003}) {
    Generator g(n);
    const Tensor a = mul(randn({n}, {}, &g), 3.0), b = randn({n / 3 + 1}, DType::Float64, &g);
    const ClipState first = global_grad_norm({a, b}, 1.0);
    const double expected = reference_norm({a, b});
    EXPECT_NEAR(first.norm.item<float>(), expected, 1e-6 * expected) << n;
    EXPECT_NEAR(first.scale.item<float>(), std::min(1.0, 1.0 / (expected + 1e-6)), 1e-6) << n;
    EXPECT_EQ(first.skip.item<int64_t>(), 0);
    const ClipState again = global_grad_norm({a, b}, 1.0);
    EXPECT_TRUE(testing::tensors_bitwise_equal(again.norm, first.norm)) << n;
    EXPECT_TRUE(testing::tensors_bitwise_equal(again.scale, first.scale)) << n;
  }
}

// The second stage runs with the last buffer's call, also when that buffer is empty.
TEST(GradNorm, AnEmptyLastBufferStillFinishes) {
  const Tensor a = randn({5000}), none = empty({0});
  EXPECT_TRUE(testing::tensors_bitwise_equal(global_grad_norm({a, none}, 1.0).norm,
                                             global_grad_norm({a}, 1.0).norm));
  const ClipState nothing = global_grad_norm({none}, 1.0);
  EXPECT_EQ(nothing.norm.item<float>(), 0.0f);
  EXPECT_EQ(nothing.scale.item<float>(), 1.0f);
  EXPECT_EQ(nothing.skip.item<int64_t>(), 0);
}

TEST(GradNorm, NoClippingBelowTheThreshold) {
  const Tensor g = full({10}, 0.1);
  const ClipState s = global_grad_norm({g}, 5.0);
  EXPECT_EQ(s.scale.item<float>(), 1.0f);
}

// A small model problem: p (6,) float32 with grad 2·(p - 1) from autograd.
struct Toy {
  Tensor p = from_vector(std::vector<float>{3, -4, 0.5, 2, -1, 10});
  Toy() { p.requires_grad_(); }
  void backward() const { sum(mul(sub(p, 1.0), sub(p, 1.0))).backward(); }
};

TEST(Clipping, ClipThenStepEqualsScaledGradientsInTheReference) {
  Toy toy;
  optim::AdamParams h;
  h.lr = 0.1f;
  optim::Adam opt({toy.p}, h);
  reference::AdamRef ref{h.lr};
  std::vector<double> expected(6);
  for (int i = 0; i < 6; ++i) expected[i] = toy.p.data_ptr<float>()[i];
  for (int t = 0; t < 5; ++t) {
    opt.zero_grad();
    toy.backward();
    const float norm = opt.clip_grad_norm(1.0).item<float>();
    opt.step();
    std::vector<double> g(6);
    for (int i = 0; i < 6; ++i) g[i] = 2 * (expected[i] - 1);
    double n = 0;
    for (double v : g) n += v * v;
    n = std::sqrt(n);
    EXPECT_NEAR(norm, n, 1e-4 * n);
    ref.step(expected, g, std::min(1.0, 1.0 / (n + 1e-6)));
    for (int i = 0; i < 6; ++i)
      EXPECT_NEAR(toy.p.data_ptr<float>()[i], expected[i], 1e-5) << "step " << t;
    EXPECT_FALSE(opt.last_step_skipped());
  }
}

TEST(Clipping, NonFiniteNormSkipsTheStepBitwise) {
  for (float poison : {NAN, INFINITY}) {
    Toy toy;
    optim::AdamParams h;
    h.amsgrad = true;
    optim::Adam opt({toy.p}, h);
    opt.zero_grad();
    toy.backward();
    opt.step();  // some state to protect
    const optim::FlatGroup& group = opt.flat_groups()[0];
    std::vector<Tensor> before{group.params.clone()};
    for (const Tensor& s : group.state) before.push_back(s.clone());
    opt.zero_grad();
    toy.backward();
    {
      NoGradGuard no_grad;
      group.grads.slice(0, 2, 3).fill_(poison);
    }
    EXPECT_FALSE(std::isfinite(opt.clip_grad_norm(1.0).item<float>()));
    opt.step();
    EXPECT_TRUE(opt.last_step_skipped());
    EXPECT_TRUE(testing::tensors_bitwise_equal(group.params, before[0]));
    for (size_t i = 0; i < group.state.size(); ++i) {
      EXPECT_TRUE(testing::tensors_bitwise_equal(group.state[i], before[i + 1])) << "state " << i;
    }
    // The next clean step goes through.
    opt.zero_grad();
    toy.backward();
    opt.clip_grad_norm(1.0);
    opt.step();
    EXPECT_FALSE(opt.last_step_skipped());
    EXPECT_FALSE(testing::tensors_bitwise_equal(group.params, before[0]));
  }
}

// A step skipped for a non-finite norm is not counted (Note [device step count]): what
// follows is exactly the first step of an optimizer that never saw it, as in PyTorch.
// With a host counter that advanced anyway, SGD's momentum buffer was not started as g
// (SGD(momentum, dampening 0.5) then g = 1 gave -0.5 instead of -1) and Adam's bias
// corrections were those of step 2.
void skip_first_step(optim::Optimizer& opt, Tensor& p) {
  opt.zero_grad();
  {
    NoGradGuard no_grad;
    p.grad().fill_(NAN);
  }
  opt.clip_grad_norm(1.0);
  opt.step();
  ASSERT_TRUE(opt.last_step_skipped());
  EXPECT_EQ(opt.steps(), 0);
}

TEST(Clipping, SkippedStepIsNotCounted) {
  {
    Tensor p = zeros({1}, DType::Float64).requires_grad_();
    optim::SGDParams h;
    h.lr = 1;
    h.momentum = 0.9;
    h.dampening = 0.5;
    optim::SGD opt({p}, h);
    skip_first_step(opt, p);
    opt.zero_grad();
    sum(p).backward();  // g = 1
    opt.step();
    EXPECT_EQ(p.detach().item<double>(), -1.0)
        << "the buffer starts as g on the first counted step";
    EXPECT_EQ(opt.steps(), 1);
  }
  {
    const Tensor start = from_vector(std::vector<double>{0.5, -1.5, 2.0});
    Tensor skipped = start.clone().requires_grad_(), fresh = start.clone().requires_grad_();
    optim::Adam after_skip({skipped}, optim::AdamParams{}),
        never_skipped({fresh}, optim::AdamParams{});
    skip_first_step(after_skip, skipped);
    for (auto [opt, p] : {std::pair{&after_skip, &skipped}, std::pair{&never_skipped, &fresh}}) {
      opt->zero_grad();
      sum(mul(*p, *p)).backward();
      opt->clip_grad_norm(100.0);
      opt->step();
    }
    EXPECT_TRUE(testing::tensors_bitwise_equal(skipped.detach(), fresh.detach()));
  }
}

TEST(Clipping, ClipGradValueClampsInPlace) {
  Tensor g = from_vector(std::vector<float>{-3, -0.5, 0, 0.5, 3});
  clip_grad_value_({g}, 1.0);
  EXPECT_TRUE(
      testing::tensors_bitwise_equal(g, from_vector(std::vector<float>{-1, -0.5, 0, 0.5, 1})));
  EXPECT_THROW(clip_grad_value_({g}, -1.0), Error);
  EXPECT_THROW(optim::SGD({g.requires_grad_()}, optim::SGDParams{}).clip_grad_norm(0.0), Error);
}

TEST(Dropout, KeepRateWithinSixSigma) {
  const int64_t n = 1000000;
  for (double p : {0.1, 0.5, 0.9}) {
    Generator g(3);
    const Tensor y = dropout(ones({n}), p, true, &g);
    const float* v = y.data_ptr<float>();
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (v[i] != 0) {
        ASSERT_FLOAT_EQ(v[i], static_cast<float>(1.0 / (1.0 - p)));
        ++kept;
      }
    }
    EXPECT_NEAR(static_cast<double>(kept) / n, 1 - p, 6 * std::sqrt(p * (1 - p) / n)) << "p " << p;
  }
}

TEST(Dropout, EdgeProbabilitiesAndModes) {
  const Tensor x = randn({1000});
  EXPECT_TRUE(dropout(x, 0.0, true).is_alias_of(x)) << "p = 0 is the identity";
  EXPECT_TRUE(dropout(x, 0.7, false).is_alias_of(x)) << "eval is the identity";
  EXPECT_TRUE(testing::tensors_bitwise_equal(dropout(x, 1.0, true), zeros({1000})));
  EXPECT_THROW(dropout(x, -0.1, true), Error);
  EXPECT_THROW(dropout(x, 1.5, true), Error);
}

TEST(Dropout, BackwardUsesTheForwardMask) {
  Tensor x = randn({4099}, DType::Float64).requires_grad_();
  Generator g(9);
  const RandomState state{g.seed(), g.offset()};
  const Tensor y = dropout(x, 0.4, true, &g);
  sum(y).backward();
  for (int64_t i = 0; i < 4099; ++i) {
    const bool keep =
        kernels::dropout_keep(state.seed, state.offset, i, kernels::dropout_threshold(0.4));
    ASSERT_EQ(x.grad().data_ptr<double>()[i], keep ? 1.0 / 0.6 : 0.0) << i;
    ASSERT_EQ(y.data_ptr<double>()[i] != 0, keep) << i;
  }
}

TEST(BatchNorm, RunningStatisticsMatchFloat64Reference) {
  const int64_t n = 6, c = 3, h = 4, w = 5;
  Generator g(21);
  const Tensor x = add(mul(randn({n, c, h, w}, {}, &g), 2.0), 0.5);
  Tensor running_mean = full({c}, 0.2), running_var = full({c}, 1.5);
  const Tensor y = batch_norm(x, running_mean, running_var, Tensor(), Tensor(), true, 0.1, 1e-5);
  const Tensor xd = x.to(DType::Float64);
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum_v = 0, count = n * h * w;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < h * w; ++k) sum_v += xd.data_ptr<double>()[(i * c + ch) * h * w + k];
    const double mean = sum_v / count;
    double sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < h * w; ++k) {
        const double d = xd.data_ptr<double>()[(i * c + ch) * h * w + k] - mean;
        sq += d * d;
      }
    EXPECT_NEAR(running_mean.data_ptr<float>()[ch], 0.9 * 0.2 + 0.1 * mean, 1e-6);
    EXPECT_NEAR(running_var.data_ptr<float>()[ch], 0.9 * 1.5 + 0.1 * sq / (count - 1), 1e-5);
    // The batch is normalised with the biased variance.
    const double y0 = y.data_ptr<float>()[ch * h * w];
    EXPECT_NEAR(y0, (xd.data_ptr<double>()[ch * h * w] - mean) / std::sqrt(sq / count + 1e-5),
                1e-5);
  }
  // Eval mode uses the running statistics.
  const Tensor e = batch_norm(x, running_mean, running_var, Tensor(), Tensor(), false);
  const double expected = (x.data_ptr<float>()[0] - running_mean.data_ptr<float>()[0]) /
                          std::sqrt(running_var.data_ptr<float>()[0] + 1e-5);
  EXPECT_NEAR(e.data_ptr<float>()[0], expected, 1e-5);
}

TEST(BatchNorm, BadInputIsNamed) {
  EXPECT_THROW(batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
               Error);  // one value
  EXPECT_THROW(batch_norm(zeros({4, 3}), Tensor(), Tensor(), Tensor(), Tensor(), false),
               Error);  // no stats
  EXPECT_THROW(batch_norm(zeros({4, 3}), zeros({2}), ones({2}), Tensor(), Tensor(), true), Error);
  EXPECT_THROW(batch_norm(zeros({4}), Tensor(), Tensor(), Tensor(), Tensor(), true), Error);
}

TEST(BatchNorm, SequencesAndTheLayersDims) {
  // (N, C, L) normalises each channel over N and L, like (N·L, C) after a transpose.
  Generator gen(5);
  const Tensor x = randn({4, 3, 5}, TensorOptions(DType::Float64), &gen);
  const Tensor y = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  const Tensor rows = x.transpose(1, 2).reshape({20, 3});
  const Tensor expected =
      batch_norm(rows, Tensor(), Tensor(), Tensor(), Tensor(), true).reshape({4, 5, 3});
  EXPECT_TRUE(testing::tensors_close(y, expected.transpose(1, 2), 1e-12, 1e-12));
  layers::BatchNorm1d bn1(3);
  EXPECT_EQ(bn1(zeros({4, 3, 5})).shape(), (Shape{4, 3, 5}));
  EXPECT_THROW(bn1(zeros({4, 3, 5, 5})), Error);
  layers::BatchNorm2d bn2(3);
  EXPECT_THROW(bn2(zeros({4, 3, 5})), Error);
}

}  // namespace
}  // namespace tg
