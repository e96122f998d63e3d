// Clipping beyond a fixed global norm, on the CPU: the unit-wise adaptive clipping kernel
// against its naive reference on many unit layouts (empty, single-element, odd, large
// units), float32 and float64; the optimizer's units (weight rows, whole vectors) and its
// refusals; history-based clipping (AutoClip's percentile, a ZClip-style z-score) against
// the references step by step, through a ring that wraps, a non-finite norm, and a state
// dict round trip that goes on bit for bit. PyTorch's own numbers: tests/golden/
// clip_golden_test.cpp; the GPU twins: tests/cuda/clipping_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../reference/clip_reference.h"
#include "../support/parity.h"

namespace tg {
namespace {

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(Device::cpu()).to(DType::Float64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// Unit lengths: empty, one element, odd, large; weights of mixed sizes, some rows zero
// (eps takes over), gradients some far above and some far below the limit.
struct UnitCase {
  std::vector<int64_t> lengths;
  double lambda;
};

void check_unit_clip(const UnitCase& c, DType dtype, uint64_t seed) {
  std::vector<long> starts{0};
  for (int64_t n : c.lengths) starts.push_back(starts.back() + n);
  const int64_t total = starts.back();
  Generator g(seed);
  // Unit u's gradient scaled by 10^(u % 5 - 2): from well under to well over the limit; and
  // every third unit's weights zero.
  std::vector<double> unit_scale(total), weight_on(total);
  for (size_t u = 0; u < c.lengths.size(); ++u) {
    for (long i = starts[u]; i < starts[u + 1]; ++i) {
      unit_scale[i] = 0.02 * std::pow(10.0, static_cast<double>(u % 5) - 2);
      weight_on[i] = u % 3 == 2 ? 0.0 : 1.0;
    }
  }
  const Tensor w = mul(randn({total}, DType::Float64, &g), from_vector(weight_on)).to(dtype);
  const Tensor grad = mul(randn({total}, DType::Float64, &g), from_vector(unit_scale)).to(dtype);
  std::vector<double> expected = values(grad);
  reference::unit_clip(values(w), expected, starts, c.lambda, 1e-3);
  std::vector<int64_t> starts64(starts.begin(), starts.end());
  unit_clip_(w, grad, from_vector(starts64), optim::UnitClip{c.lambda, 1e-3});
  const double tol = dtype == DType::Float32 ? 1e-6 : 1e-14;
  const std::vector<double> got = values(grad);
  for (int64_t i = 0; i < total; ++i)
    ASSERT_NEAR(got[i], expected[i], tol * (1e-3 + std::fabs(expected[i]))) << "element " << i;
}

TEST(UnitClip, MatchesTheReferenceOnEveryLayout) {
  const std::vector<UnitCase> cases{
      {{}, 0.01},  // no units at all
      {{1}, 0.01},
      {{0, 5, 0, 3}, 0.05},
      {{7, 7, 7, 7, 7, 7, 7}, 0.01},
      {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.16},
      {{100003}, 0.02},                  // one large unit
      {{784, 784, 784, 784, 10}, 0.01},  // Linear(784, 4) rows, then a bias
  };
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (size_t i = 0; i < cases.size(); ++i) {
      SCOPED_TRACE("case " + std::to_string(i) + " " + dtype_name(dtype));
      check_unit_clip(cases[i], dtype, 100 + i);
    }
  }
  // Many rows of a large weight.
  check_unit_clip({std::vector<int64_t>(3001, 37), 0.01}, DType::Float32, 7);
}

TEST(UnitClip, OptimizerClipsWeightRowsAndWholeVectors) {
  // SGD with lr 1 moves p by exactly the clipped gradient.
  Tensor conv = mul(randn({4, 3, 2, 2}, DType::Float64), 0.1).requires_grad_();
  Tensor bias = mul(randn({4}, DType::Float64), 0.1).requires_grad_();
  Tensor head = randn({2, 4}, DType::Float64).requires_grad_();
  optim::SGDParams clipped;
  clipped.lr = 1;
  clipped.unit_clip.agc_lambda = 0.05;
  optim::SGDParams plain;
  plain.lr = 1;
  optim::SGD opt({{{conv, bias}, clipped}, {{head}, plain}});  // the head unclipped, as NFNets
  const std::vector<double> conv0 = values(conv), bias0 = values(bias), head0 = values(head);
  Generator g(3);
  std::vector<double> gc = values(randn({4, 3, 2, 2}, DType::Float64, &g)),
                      gb = values(randn({4}, DType::Float64, &g)),
                      gh = values(randn({2, 4}, DType::Float64, &g));
  {
    NoGradGuard no_grad;
    conv.grad().copy_(from_vector(gc, {4, 3, 2, 2}));
    bias.grad().copy_(from_vector(gb));
    head.grad().copy_(from_vector(gh, {2, 4}));
  }
  opt.step();
  reference::unit_clip(conv0, gc, {0, 12, 24, 36, 48}, 0.05, 1e-3);  // four output rows
  reference::unit_clip(bias0, gb, {0, 4}, 0.05, 1e-3);               // the whole vector
  const std::vector<double> c1 = values(conv), b1 = values(bias), h1 = values(head);
  for (size_t i = 0; i < gc.size(); ++i) EXPECT_NEAR(conv0[i] - c1[i], gc[i], 1e-14);
  for (size_t i = 0; i < gb.size(); ++i) EXPECT_NEAR(bias0[i] - b1[i], gb[i], 1e-14);
  for (size_t i = 0; i < gh.size(); ++i) EXPECT_NEAR(head0[i] - h1[i], gh[i], 1e-14);
  double largest = 0;  // the rows were clipped: no gradient row above 0.05·‖row‖ survived
  for (double v : gc) largest = std::max(largest, std::fabs(v));
  EXPECT_LT(largest, 0.1);

  opt.zero_grad();
  opt.clip_grad_norm(1.0);
  EXPECT_NE(testing::error_of([&] { opt.step(); })
                .find("SGD.step: group 0 clips unit-wise (agc_lambda 0.05), and the global norm "
                      "was clipped too"),
            std::string::npos);
  optim::SGDParams bad;
  bad.unit_clip.agc_lambda = -1;
  EXPECT_NE(testing::error_of([&] {
              optim::SGD({head}, bad);
            }).find("unit_clip needs agc_lambda >= 0 (0: off) and agc_eps > 0"),
            std::string::npos);
}

TEST(UnitClip, StateDictsCarryItAndOldOnesLoadWithItOff) {
  Tensor p = randn({3, 2}, DType::Float64).requires_grad_();
  optim::AdamParams h;
  h.unit_clip = {0.02, 1e-4};
  optim::Adam source({p}, h);
  const NamedTensors state = source.state_dict();
  EXPECT_EQ(find_state(state, "param_groups.0.agc_lambda").item<double>(), 0.02);
  Tensor q = randn({3, 2}, DType::Float64).requires_grad_();
  optim::Adam target({q});
  target.load_state_dict(state);
  EXPECT_EQ(target.hyper().unit_clip.agc_lambda, 0.02);
  EXPECT_EQ(target.hyper().unit_clip.agc_eps, 1e-4);
  NamedTensors old;  // written before adaptive clipping existed
  for (const auto& [key, t] : state)
    if (key.find("agc_") == std::string::npos) old.emplace_back(key, t);
  target.load_state_dict(old);
  EXPECT_EQ(target.hyper().unit_clip.agc_lambda, 0.0);
}

// One float64 gradient of norm |n| each step: global_grad_norm then the history's scale.
double history_scale(ClipState& state, ClipHistory& history,
                     const optim::HistoryClipOptions& options, double n) {
  global_grad_norm_({full({1}, n, DType::Float64)}, 0.0, state);
  history_clip_(state, history, options);
  return state.scale.item<double>();
}

// Norms that wander, with spikes every 7 steps.
double norm_at(int t) { return 1.0 + 0.3 * std::sin(0.9 * t) + (t % 7 == 6 ? 25.0 : 0.0); }

TEST(HistoryClip, PercentileFollowsAutoClipThroughARingThatWraps) {
  for (double q : {0.0, 10.0, 50.0, 90.0, 100.0}) {
    SCOPED_TRACE("percentile " + std::to_string(q));
    optim::HistoryClipOptions options;
    options.percentile = q;
    options.window = 5;
    ClipState state;
    ClipHistory history = make_clip_history(options, Device::cpu());
    reference::AutoClipRef ref{q, 5};
    for (int t = 0; t < 23; ++t) {
      const double n = norm_at(t);
      ASSERT_NEAR(history_scale(state, history, options, n), ref.scale(n), 1e-15) << "step " << t;
    }
    EXPECT_EQ(history.seen.item<int64_t>(), 23);
  }
}

TEST(HistoryClip, ZScoreWarmsUpThenClipsTheSpikes) {
  optim::HistoryClipOptions options;
  options.rule = optim::HistoryRule::ZScore;
  options.warmup = 5;
  ClipState state;
  ClipHistory history = make_clip_history(options, Device::cpu());
  reference::ZClipRef ref{2.5, 0.97, 5};
  int clipped = 0;
  for (int t = 0; t < 40; ++t) {
    const double n = norm_at(t), scale = history_scale(state, history, options, n);
    ASSERT_NEAR(scale, ref.scale(n), 1e-12) << "step " << t;
    clipped += scale < 1 ? 1 : 0;
    if (t >= 5 && t % 7 == 6) {
      EXPECT_LT(scale, 0.2) << "the spike at step " << t;
    }
  }
  EXPECT_EQ(clipped, 5);  // the spikes after warm-up (steps 6 and 13 ... 34), nothing else
}

TEST(HistoryClip, ANonFiniteNormRecordsNothing) {
  optim::HistoryClipOptions options;
  options.window = 4;
  ClipState state;
  ClipHistory history = make_clip_history(options, Device::cpu());
  history_scale(state, history, options, 2.0);
  const std::vector<double> before = values(history.norms);
  EXPECT_EQ(history_scale(state, history, options, std::numeric_limits<double>::infinity()), 1.0);
  EXPECT_EQ(state.skip.item<uint8_t>(), 1);
  EXPECT_EQ(values(history.norms), before);
  EXPECT_EQ(history.seen.item<int64_t>(), 1);
}

TEST(HistoryClip, TheOptimizerSavesItsHistoryAndResumesBitForBit) {
  auto run = [](optim::Optimizer& opt, Tensor& p, int from, int to) {
    for (int t = from; t < to; ++t) {
      opt.zero_grad();
      {
        NoGradGuard no_grad;
        p.grad().copy_(full({3}, norm_at(t), DType::Float64));
      }
      opt.clip_grad_norm_auto();
      opt.step();
    }
  };
  optim::HistoryClipOptions options;
  options.window = 6;
  Tensor a = zeros({3}, DType::Float64).requires_grad_();
  optim::SGD straight({a}, optim::SGDParams{0.1, 0.9});
  straight.set_history_clip(options);
  run(straight, a, 0, 20);

  Tensor b = zeros({3}, DType::Float64).requires_grad_();
  optim::SGD first({b}, optim::SGDParams{0.1, 0.9});
  first.set_history_clip(options);
  run(first, b, 0, 9);
  NamedTensors saved;
  for (const auto& [key, t] : first.state_dict()) saved.emplace_back(key, t.clone());
  EXPECT_TRUE(find_state(saved, "clip_history.norms").defined());
  Tensor c = b.detach().clone().requires_grad_();
  optim::SGD resumed({c}, optim::SGDParams{0.1, 0.9});
  resumed.set_history_clip(options);
  resumed.load_state_dict(saved);
  run(resumed, c, 9, 20);
  EXPECT_TRUE(testing::tensors_bitwise_equal(c.detach(), a.detach()));
  EXPECT_TRUE(testing::tensors_bitwise_equal(resumed.clip_threshold(), straight.clip_threshold()));

  // A history that cannot be one is refused, naming it, and nothing loads.
  NamedTensors bad = saved;
  for (auto& [key, t] : bad)
    if (key == "clip_history.norms") t = full({6}, -1.0, DType::Float64);
  EXPECT_NE(testing::error_of([&] {
              resumed.load_state_dict(bad);
            }).find("clip_history.norms[0] must be a finite norm >= 0, got -1"),
            std::string::npos);
  optim::HistoryClipOptions wider = options;
  wider.window = 7;
  optim::SGD other({c}, optim::SGDParams{0.1});
  other.set_history_clip(wider);
  EXPECT_NE(testing::error_of([&] { other.load_state_dict(saved); }).find("clip_history.norms"),
            std::string::npos);
}

TEST(HistoryClip, BadOptionsAreNamed) {
  auto error = [](auto change) {
    optim::HistoryClipOptions o;
    change(o);
    return testing::error_of([&] { make_clip_history(o, Device::cpu()); });
  };
  EXPECT_NE(error([](auto& o) { o.percentile = 101; }).find("percentile must be in [0, 100]"),
            std::string::npos);
  EXPECT_NE(error([](auto& o) { o.window = 0; }).find("window must be 1 to 4096 norms, got 0"),
            std::string::npos);
  EXPECT_NE(error([](auto& o) { o.beta = 1; }).find("beta must be in [0, 1)"), std::string::npos);
  EXPECT_NE(error([](auto& o) { o.z = 0; }).find("z must be finite and > 0"), std::string::npos);
  Tensor p = zeros({2}).requires_grad_();
  optim::SGD opt({p});
  EXPECT_NE(testing::error_of([&] {
              opt.clip_grad_norm_auto();
            }).find("SGD.clip_grad_norm_auto: no history clip set (set_history_clip)"),
            std::string::npos);
}

}  // namespace
}  // namespace tg
