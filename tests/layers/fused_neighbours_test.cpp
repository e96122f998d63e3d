// Note [fused neighbours] (layers/sequential.h): a BatchNorm directly followed by a ReLU (and a
// MaxPool2d(2), and after a Conv2d) in a Sequential runs as batch_norm_relu
// (batch_norm_relu_max_pool2d, conv2d_batch_norm_relu_max_pool2d), with the
// values, gradients and running statistics of the layers run one after the other, bit for
// bit, in training and evaluation; and it is not fused where a hook, summary() or a subclass
// must see the layers apart.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/generator.h"
#include "../../core/ops.h"
#include "../../core/state_dict.h"
#include "../../core/threads.h"
#include "../../kernels/conv2d.h"
#include "../../layers/activation.h"
#include "../../layers/batch_norm.h"
#include "../../layers/conv2d.h"
#include "../../layers/dropout.h"
#include "../../layers/linear.h"
#include "../../layers/pool.h"
#include "../../layers/sequential.h"

namespace tg::layers {
namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  const Tensor x = a.contiguous(), y = b.contiguous();
  return x.shape() == y.shape() && x.dtype() == y.dtype() &&
         std::memcmp(x.raw_data_ptr(), y.raw_data_ptr(), x.numel() * x.element_size()) == 0;
}

// same_bits, but any NaN equals any other (float32): a NaN's sign and payload depend on which
// NaN an operation met first, which the fused ops need not keep.
bool same_values(const Tensor& a, const Tensor& b) {
  if (same_bits(a, b)) return true;
  if (!a.defined() || !b.defined() || a.shape() != b.shape() || a.dtype() != DType::Float32 ||
      b.dtype() != DType::Float32) {
    return false;
  }
  const Tensor x = a.contiguous(), y = b.contiguous();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float u = x.data_ptr<float>()[i], v = y.data_ptr<float>()[i];
    if (!(std::isnan(u) && std::isnan(v)) && std::memcmp(&u, &v, sizeof u) != 0) return false;
  }
  return true;
}

// A copy of the module's state (state_dict hands out the live tensors).
NamedTensors saved_state(Module& net) {
  NamedTensors state = net.state_dict();
  for (auto& [name, t] : state) t = t.detach().clone();
  return state;
}

const char* const kPair = "BatchNormReluBackward";
const char* const kTriple = "BatchNormReluMaxPool2dBackward";
// A Conv2d in front as well (Note [conv block]), where the build has oneDNN.
const char* const kBlock = "Conv2dBatchNormReluMaxPool2dBackward";
const char* conv_block_node() {
  const bool onednn =
      kernels::cpu::conv2d_backend_description().find("oneDNN") != std::string::npos;
  return onednn ? kBlock : kTriple;
}

// Runs `net` on x, then backward of Σ y·c; returns y. `fused` names the node the output
// should come from: kPair, kTriple, kBlock, or "" for none.
Tensor step(Module& net, const Tensor& x, const Tensor& c, const std::string& fused) {
  const Tensor y = net(x);
  if (y.requires_grad()) {
    const std::string node = y.grad_fn()->name();
    if (fused.empty()) {
      EXPECT_TRUE(node != kPair && node != kTriple && node != kBlock) << node;
    } else {
      EXPECT_EQ(node, fused);
    }
    sum(mul(y, c)).backward();
  }
  return y;
}

// The same layers run apart: each called on its own, as a Sequential without fusion would.
struct Apart : Module {
  Apart(std::vector<std::shared_ptr<Module>> layers) : Module("Apart"), layers(std::move(layers)) {}
  Tensor forward(const Tensor& x) override {
    Tensor y = x;
    for (const auto& layer : layers) y = (*layer)(y);
    return y;
  }
  std::vector<std::shared_ptr<Module>> layers;
};

// first, norm, ReLU and, with `pool`, MaxPool2d(2): fused in a Sequential (the output from
// node `node`: kPair, or kTriple with `pool`, unless given) and apart. With `input_grad` the
// input's gradient is compared too; with `non_finite` the input holds +inf, -inf and NaN.
void expect_same_as_apart(const std::shared_ptr<Module>& first,
                          const std::shared_ptr<BatchNorm>& norm, const Shape& input,
                          Generator& gen, bool pool = false, const char* node = nullptr,
                          bool input_grad = false, bool non_finite = false) {
  std::vector<std::shared_ptr<Module>> layers = {first, norm, make<ReLU>()};
  if (pool) layers.push_back(make<MaxPool2d>(Size2{2, 2}));
  auto fused = std::make_shared<Sequential>();
  for (const auto& layer : layers) fused->push_back(layer);
  const NamedTensors state = saved_state(*fused);
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    const Tensor x = randn(input, {}, &gen);
    if (non_finite) {  // the first pixel, the last (in no window of an odd plane), one between
      float* data = x.data_ptr<float>();
      data[0] = std::numeric_limits<float>::infinity();
      data[x.numel() - 1] = -std::numeric_limits<float>::infinity();
      data[x.numel() / 2] = std::numeric_limits<float>::quiet_NaN();
    }
    fused->load_state_dict(state);
    fused->train(training);
    fused->zero_grad();
    const Tensor probe = (*fused)(x);
    const Tensor c = randn(probe.shape(), {}, &gen);
    fused->load_state_dict(state);
    Tensor x_fused = x.clone(), x_apart = x.clone();
    if (input_grad) {
      x_fused.requires_grad_();
      x_apart.requires_grad_();
    }
    const Tensor y_fused = step(*fused, x_fused, c,
                                node != nullptr ? node
                                : pool          ? kTriple
                                                : kPair);
    std::vector<Tensor> grads_fused;
    for (const Tensor& p : fused->parameters()) grads_fused.push_back(p.grad().clone());
    const Tensor mean_fused = norm->running_mean.clone(), var_fused = norm->running_var.clone();

    Apart apart(layers);
    fused->load_state_dict(state);
    fused->zero_grad();
    const Tensor y_apart = step(apart, x_apart, c, "");
    const auto same = non_finite ? same_values : same_bits;
    EXPECT_TRUE(same(y_fused, y_apart)) << "output";
    if (input_grad) {
      EXPECT_TRUE(same(x_fused.grad(), x_apart.grad())) << "input gradient";
    }
    EXPECT_TRUE(same(mean_fused, norm->running_mean)) << "running mean";
    EXPECT_TRUE(same(var_fused, norm->running_var)) << "running var";
    const auto params = fused->parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(same(grads_fused[i], params[i].grad())) << "gradient of parameter " << i;
    }
  }
}

TEST(FusedNeighbours, BatchNormThenReluMatchesTheTwoLayersBitForBit) {
  Generator gen(3);
  expect_same_as_apart(make<Conv2d>(3, 8, Size2{3, 3}, Conv2dOptions{{1, 1}, {1, 1}}),
                       make<BatchNorm2d>(8), {6, 3, 9, 7}, gen);
  expect_same_as_apart(make<Linear>(12, 5), make<BatchNorm1d>(5), {17, 12}, gen);
}

TEST(FusedNeighbours, BatchNormReluAndPoolingMatchTheThreeLayersBitForBit) {
  Generator gen(6);
  // Even and odd planes (the odd last row and column belong to no window), the CNN's shape.
  expect_same_as_apart(make<Conv2d>(3, 8, Size2{3, 3}, Conv2dOptions{{1, 1}, {1, 1}}),
                       make<BatchNorm2d>(8), {6, 3, 9, 7}, gen, true);
  expect_same_as_apart(make<Conv2d>(2, 4, Size2{1, 1}), make<BatchNorm2d>(4), {5, 2, 8, 6}, gen,
                       true);
}

// Note [conv block]: a Conv2d in front too, its output and gradient blocked between the ops.
TEST(FusedNeighbours, AConvBlockMatchesTheFourLayersBitForBit) {
  Generator gen(7);
  const char* block = conv_block_node();
  // The CNN's first block (one sample per batch norm block of the batch).
  expect_same_as_apart(make<Conv2d>(1, 32, Size2{3, 3}, Conv2dOptions{{1, 1}, {1, 1}}),
                       make<BatchNorm2d>(32), {16, 1, 28, 28}, gen, true, block);
  // Odd planes (the last row and column in no window), several samples per block, the input's
  // gradient (the data pass from the blocked gradient).
  expect_same_as_apart(make<Conv2d>(16, 16, Size2{3, 3}, Conv2dOptions{{1, 1}, {1, 1}}),
                       make<BatchNorm2d>(16), {5, 16, 9, 7}, gen, true, block, true);
  // Stride 2, no bias, a batch of 19 (a last filter block of 3), no affine batch norm.
  expect_same_as_apart(
      make<Conv2d>(8, 32, Size2{3, 3}, Conv2dOptions{{2, 2}, {1, 1}, {1, 1}, 1, false}),
      make<BatchNorm2d>(32, BatchNormOptions{1e-5, 0.1, false}), {19, 8, 11, 10}, gen, true, block,
      true);
  // Planes of 2x2 (one window).
  expect_same_as_apart(make<Conv2d>(4, 16, Size2{1, 1}), make<BatchNorm2d>(16), {7, 4, 2, 3}, gen,
                       true, block, true);
  // Infinities and a NaN in the input: NaN where the layers apart have NaN (in evaluation, with
  // finite running statistics, batch norm's sums add 0·±inf = NaN where the pooling sends no
  // gradient, and must still do so), the same bits elsewhere.
  expect_same_as_apart(make<Conv2d>(2, 16, Size2{1, 1}), make<BatchNorm2d>(16), {3, 2, 5, 7}, gen,
                       true, block, true, true);
  // What the block does not take runs apart: channels not a multiple of 16, groups.
  expect_same_as_apart(make<Conv2d>(3, 24, Size2{3, 3}), make<BatchNorm2d>(24), {4, 3, 8, 8}, gen,
                       true, kTriple, true);
  expect_same_as_apart(make<Conv2d>(4, 16, Size2{3, 3}, Conv2dOptions{{1, 1}, {0, 0}, {1, 1}, 2}),
                       make<BatchNorm2d>(16), {4, 4, 8, 8}, gen, true, kTriple, true);
}

// Note [relu + dropout]: a ReLU then a Dropout, after a Linear and on an input of its own with
// +-0, +-inf and NaN; the same draws (the generator reseeded), values and gradients.
TEST(FusedNeighbours, AReluThenDropoutMatchesTheTwoLayersBitForBit) {
  Generator gen(11);
  for (double p : {0.5, 0.2}) {
    for (bool training : {true, false}) {
      SCOPED_TRACE(std::to_string(p) + (training ? " training" : " eval"));
      auto linear = make<Linear>(12, 33);
      auto fused = sequential({linear, make<ReLU>(), make<Dropout>(p)});
      fused->train(training);
      const NamedTensors state = saved_state(*fused);
      Tensor x = randn({17, 12}, {}, &gen);
      const Tensor c = randn({17, 33}, {}, &gen);
      const auto run = [&](Module& net, const char* node) {
        fused->load_state_dict(state);  // the Linear both share
        fused->zero_grad();
        manual_seed(5);
        Tensor xt = x.clone().requires_grad_();
        const Tensor y = step(net, xt, c, node);
        return std::vector<Tensor>{y, xt.grad(), linear->weight.grad().clone(),
                                   linear->bias.grad().clone()};
      };
      const std::vector<Tensor> one = run(*fused, training ? "ReluDropoutBackward" : "");
      Apart apart({linear, make<ReLU>(), make<Dropout>(p)});
      for (const auto& layer : apart.layers) layer->train(training);  // Apart has no children
      const std::vector<Tensor> two = run(apart, "");
      for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(same_bits(one[i], two[i])) << i;
    }
  }
  // On its own input: zeros of both signs, infinities and a NaN reach the ReLU as they are.
  Tensor x = randn({5, 40}, {}, &gen);
  float* data = x.data_ptr<float>();
  data[0] = 0.0f;
  data[1] = -0.0f;
  data[2] = std::numeric_limits<float>::infinity();
  data[3] = -std::numeric_limits<float>::infinity();
  data[4] = std::numeric_limits<float>::quiet_NaN();
  const Tensor c = randn({5, 40}, {}, &gen);
  const auto run = [&](Module& net, const char* node) {
    manual_seed(6);
    Tensor xt = x.clone().requires_grad_();
    const Tensor y = step(net, xt, c, node);
    return std::vector<Tensor>{y, xt.grad()};
  };
  auto fused = sequential({make<ReLU>(), make<Dropout>(0.3)});
  Apart apart({make<ReLU>(), make<Dropout>(0.3)});
  const std::vector<Tensor> one = run(*fused, "ReluDropoutBackward"), two = run(apart, "");
  EXPECT_TRUE(same_values(one[0], two[0])) << "output";
  EXPECT_TRUE(same_values(one[1], two[1])) << "input gradient";
  // A hook on the Dropout keeps the two apart.
  (*fused)[1]->register_forward_pre_hook([](Module&, const Tensor&) { return Tensor(); });
  manual_seed(6);
  EXPECT_EQ(std::string((*fused)(x.clone().requires_grad_()).grad_fn()->name()), "DropoutBackward");
}

TEST(FusedNeighbours, AConvBlocksBitsDoNotDependOnTheThreadCount) {
  Generator gen(8);
  auto net = sequential({make<Conv2d>(16, 32, Size2{3, 3}, Conv2dOptions{{1, 1}, {1, 1}}),
                         make<BatchNorm2d>(32), make<ReLU>(), make<MaxPool2d>(Size2{2, 2})});
  const NamedTensors state = saved_state(*net);
  const Tensor x = randn({21, 16, 13, 10}, {}, &gen);
  const Tensor c = randn({21, 32, 6, 5}, {}, &gen);
  std::vector<Tensor> first;
  const int threads_before = get_num_threads();
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(threads);
    set_num_threads(threads);
    net->load_state_dict(state);
    net->zero_grad();
    Tensor xt = x.clone().requires_grad_();
    std::vector<Tensor> seen = {step(*net, xt, c, conv_block_node()), xt.grad()};
    for (const Tensor& p : net->parameters()) seen.push_back(p.grad().clone());
    auto* norm = static_cast<BatchNorm*>((*net)[1].get());
    seen.push_back(norm->running_mean.clone());
    seen.push_back(norm->running_var.clone());
    if (first.empty()) first = seen;
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(same_bits(first[i], seen[i])) << i;
  }
  set_num_threads(threads_before);
}

// The input's gradient through `net` (fused, its output from node `fused`) and through its
// layers run apart.
void expect_input_gradient_as_apart(Sequential& net, const Shape& input, const char* fused,
                                    Generator& gen) {
  const Tensor x = randn(input, {}, &gen).requires_grad_();
  const NamedTensors state = saved_state(net);
  const Tensor c = randn(net(x).shape(), {}, &gen);
  net.load_state_dict(state);
  step(net, x, c, fused);
  Tensor x_apart = x.detach();
  x_apart.requires_grad_();
  net.load_state_dict(state);
  Tensor y = x_apart;
  for (size_t i = 0; i < net.size(); ++i) y = (*net[i])(y);  // each layer on its own
  sum(mul(y, c)).backward();
  EXPECT_TRUE(same_bits(x.grad(), x_apart.grad())) << fused;
}

TEST(FusedNeighbours, TheInputsGradientMatchesToo) {
  Generator gen(4);
  expect_input_gradient_as_apart(*sequential({make<BatchNorm2d>(4), make<ReLU>()}), {5, 4, 6, 6},
                                 kPair, gen);
  expect_input_gradient_as_apart(
      *sequential({make<BatchNorm2d>(4), make<ReLU>(), make<MaxPool2d>(Size2{2, 2})}), {5, 4, 7, 6},
      kTriple, gen);
}

TEST(FusedNeighbours, HooksSummariesAndSubclassesSeeTheLayersApart) {
  Generator gen(5);
  const Tensor x = randn({4, 3, 5, 5}, {}, &gen), c = randn({4, 3, 5, 5}, {}, &gen);
  {  // a forward hook on the ReLU sees its own input and output
    auto net = sequential({make<Conv2d>(3, 3, Size2{1, 1}), make<BatchNorm2d>(3), make<ReLU>()});
    Tensor seen_input;
    auto handle = (*net)[2]->register_forward_hook([&](Module&, const Tensor& in, const Tensor&) {
      seen_input = in;
      return Tensor();
    });
    step(*net, x, c, "");
    EXPECT_TRUE(seen_input.defined());
    handle.remove();
    step(*net, x, c, kPair);  // removed: fused again
  }
  {  // a backward hook on the BatchNorm
    auto net = sequential({make<Conv2d>(3, 3, Size2{1, 1}), make<BatchNorm2d>(3), make<ReLU>()});
    int calls = 0;
    (*net)[1]->register_full_backward_hook([&](Module&, const Tensor&, const Tensor&) {
      ++calls;
      return Tensor();
    });
    step(*net, x, c, "");
    EXPECT_EQ(calls, 1);
  }
  {  // a hook on the pooling: BatchNorm and ReLU fused, the pooling apart; a 3x3 window apart
    auto net = sequential({make<BatchNorm2d>(3), make<ReLU>(), make<MaxPool2d>(Size2{2, 2})});
    net->train();
    (*net)[2]->register_forward_pre_hook([](Module&, const Tensor&) { return Tensor(); });
    EXPECT_EQ(std::string((*net)(x).grad_fn()->name()), "MaxPool2dBackward");
    auto wide = sequential({make<BatchNorm2d>(3), make<ReLU>(), make<MaxPool2d>(Size2{3, 3})});
    EXPECT_EQ(std::string((*wide)(x).grad_fn()->name()), "MaxPool2dBackward");
  }
  {  // summary() lists both layers with their shapes
    auto net = sequential({make<BatchNorm2d>(3), make<ReLU>()});
    const std::string text = net->summary({4, 3, 5, 5});
    EXPECT_NE(text.find("BatchNorm2d"), std::string::npos) << text;
    EXPECT_NE(text.find("ReLU"), std::string::npos) << text;
  }
  {  // a subclass of BatchNorm2d with its own forward runs it
    struct Shifted : BatchNorm2d {
      Shifted() : BatchNorm2d(3) {}
      Tensor forward(const Tensor& in) override { return add(BatchNorm2d::forward(in), 1.0); }
    };
    auto shifted = std::make_shared<Shifted>();
    auto net = sequential({shifted, make<ReLU>()});
    const NamedTensors state = saved_state(*net);
    const Tensor y = step(*net, x, c, "");
    net->load_state_dict(state);
    EXPECT_TRUE(same_bits(y, relu(shifted->forward(x))));
  }
}

}  // namespace
}  // namespace tg::layers
