// Modules: names, state dicts (round trip and strict-load errors), summaries, modes, loss
// modules, device/dtype moves, and bad input to layers.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/autograd.h"
#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../layers/layers.h"
#include "../support/parity.h"

namespace tg::layers {
namespace {

// A small CNN: conv + BatchNorm + ReLU + pool, then a linear head.
std::shared_ptr<Sequential> small_cnn() {
  return sequential({make<Conv2d>(1, 4, Size2{3, 3}, Conv2dOptions{{1, 1}, {1, 1}}),
                     make<BatchNorm2d>(4), make<ReLU>(), make<MaxPool2d>(Size2{2, 2}),
                     make<Flatten>(), make<Linear>(4 * 4 * 4, 10)});
}

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(DType::Float64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

TEST(Module, NamedParametersAndBuffersUseDottedNames) {
  auto net = small_cnn();
  std::vector<std::string> names;
  for (const auto& [name, t] : net->named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "5.weight",
                                             "5.bias"}));
  std::vector<std::string> buffers;
  for (const auto& [name, t] : net->named_buffers()) buffers.push_back(name);
  EXPECT_EQ(buffers,
            (std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"}));
  EXPECT_EQ(net->parameter_count(), 4 * 9 + 4 + 4 + 4 + 64 * 10 + 10);
  for (const Tensor& p : net->parameters()) EXPECT_TRUE(p.requires_grad() && p.is_leaf());
}

TEST(Module, BatchNormCountsTrainingBatchesOnly) {
  auto net = small_cnn();
  const Tensor x = randn({2, 1, 8, 8});
  net->forward(x);
  net->forward(x);
  net->eval();
  net->forward(x);
  const Tensor count = net->named_buffers().back().second;
  EXPECT_EQ(count.dtype(), DType::Int64);
  EXPECT_EQ(count.item<int64_t>(), 2);
  net->to(DType::Float64);  // an integer buffer keeps its dtype
  EXPECT_EQ(net->named_buffers().back().second.dtype(), DType::Int64);
}

TEST(Module, LossModulesAreTheLossFunctionsWithTheirOptions) {
  Generator g(5);
  const Tensor logits = randn({4, 3}, DType::Float64, &g);
  const Tensor classes = from_vector<int64_t>({0, 2, 1, 2});
  CrossEntropyLoss smoothed(Reduction::Sum, 0.1);
  EXPECT_TRUE(testing::tensors_bitwise_equal(smoothed(logits, classes),
                                             cross_entropy(logits, classes, Reduction::Sum, 0.1)));
  EXPECT_TRUE(
      testing::tensors_bitwise_equal(NLLLoss()(logits, classes), nll_loss(logits, classes)));
  const Tensor target = rand({4, 3}, DType::Float64, &g);
  EXPECT_TRUE(testing::tensors_bitwise_equal(MSELoss(Reduction::None)(logits, target),
                                             mse_loss(logits, target, Reduction::None)));
  EXPECT_TRUE(testing::tensors_bitwise_equal(BCEWithLogitsLoss()(logits, target),
                                             binary_cross_entropy_with_logits(logits, target)));
  EXPECT_EQ(smoothed.extra_repr(), "reduction=sum, label_smoothing=0.100000");
  EXPECT_NE(testing::error_of([&] { smoothed.forward(logits); })
                .find("CrossEntropyLoss: a loss takes (input, target), got only an input of shape "
                      "[4, 3]"),
            std::string::npos);
  EXPECT_NE(testing::error_of([] {
              CrossEntropyLoss(Reduction::Mean, 1.5);
            }).find("CrossEntropyLoss: label_smoothing must be in [0, 1), got 1.5"),
            std::string::npos);
}

TEST(Module, SummaryGivesEveryLayersOutputShapeAndTheTotal) {
  auto net = small_cnn();
  const std::string s = net->summary({2, 1, 8, 8});
  EXPECT_NE(s.find("0: Conv2d(1, 4, kernel=3x3, padding=1x1)"), std::string::npos) << s;
  EXPECT_NE(s.find("[2, 4, 8, 8]"), std::string::npos) << s;
  EXPECT_NE(s.find("[2, 4, 4, 4]"), std::string::npos) << s;
  EXPECT_NE(s.find("[2, 64]"), std::string::npos) << s;
  EXPECT_NE(s.find("[2, 10]"), std::string::npos) << s;
  EXPECT_NE(s.find("total parameters: 698"), std::string::npos) << s;
  EXPECT_TRUE(net->is_training());  // restored after the eval-mode trial run
  EXPECT_THROW(net->summary({2, 3, 8, 8}), Error);
  EXPECT_TRUE(net->is_training());
}

// A user's own Module subclass: every registered child shows in the summary, indented under
// its parent with its output shape (it once printed one row and hid its children).
class TwoHeads : public Module {
 public:
  TwoHeads() : Module("TwoHeads") {
    register_module("body", body);
    register_module("head", head);
    register_module("unused", unused);
  }
  Tensor forward(const Tensor& x) override { return (*head)((*body)(x)); }
  std::shared_ptr<Linear> body = make<Linear>(4, 3);
  std::shared_ptr<Sequential> head = sequential({make<ReLU>(), make<Linear>(3, 2)});
  std::shared_ptr<Linear> unused = make<Linear>(2, 2);
};

TEST(Module, SummaryShowsAUsersModulesChildrenRecursively) {
  auto net = sequential({make<TwoHeads>(), make<Linear>(2, 1)});
  const std::string s = net->summary({5, 4});
  for (const char* row : {"0: TwoHeads()", "  0.body: Linear(in=4, out=3", "  0.head: Sequential()",
                          "    0.head.0: ReLU()", "    0.head.1: Linear(in=3, out=2",
                          "  0.unused: Linear(in=2, out=2", "1: Linear(in=2, out=1"}) {
    EXPECT_NE(s.find(row), std::string::npos) << row << " in\n" << s;
  }
  const auto line_of = [&](const std::string& start) {
    const size_t at = s.find(start);
    return at == std::string::npos ? std::string() : s.substr(at, s.find('\n', at) - at);
  };
  EXPECT_NE(line_of("  0.body:").find("[5, 3]"), std::string::npos) << s;
  EXPECT_NE(line_of("    0.head.1:").find("[5, 2]"), std::string::npos) << s;
  EXPECT_NE(line_of("  0.unused:").find("(not called)"), std::string::npos) << s;
  EXPECT_NE(s.find("total parameters: 32"), std::string::npos) << s;  // 15 + 8 + 6 + 3
}

// A tensor registered before it exists is the user's mistake, not an internal assertion.
class Unready : public Module {
 public:
  explicit Unready(bool buffer) : Module("Unready") {
    if (buffer) {
      register_buffer("stats", &stats);
    } else {
      register_parameter("weight", &weight);
    }
  }
  Tensor forward(const Tensor& x) override { return x; }
  Tensor weight, stats;
};

TEST(Module, RegisteringAnUndefinedTensorIsAUserError) {
  for (bool buffer : {false, true}) {
    const std::string m = testing::error_of([&] { Unready u(buffer); });
    EXPECT_NE(
        m.find(buffer ? "Unready: register_buffer('stats') was given an undefined tensor"
                      : "Unready: register_parameter('weight') was given an undefined tensor"),
        std::string::npos)
        << m;
    EXPECT_EQ(m.find("internal assertion"), std::string::npos) << m;
  }
}

TEST(Module, StateDictRoundTripReproducesTheModel) {
  manual_seed(1);
  auto a = small_cnn();
  manual_seed(2);
  auto b = small_cnn();
  const Tensor x = randn({3, 1, 8, 8});
  {  // move a's running statistics away from their start
    a->train();
    (*a)(x);
  }
  a->eval();
  b->eval();
  EXPECT_NE(values((*a)(x)), values((*b)(x)));
  b->load_state_dict(a->state_dict());
  EXPECT_EQ(values((*a)(x)), values((*b)(x)));
  for (const auto& [name, t] : b->named_buffers()) {
    for (const auto& [other, u] : a->named_buffers()) {
      if (name == other) {
        EXPECT_EQ(values(t), values(u)) << name;
      }
    }
  }
}

TEST(Module, StrictLoadNamesEveryProblemAndChangesNothing) {
  auto net = small_cnn();
  const std::vector<double> before = values(net->named_parameters()[0].second);
  NamedTensors state = net->state_dict();
  state.erase(state.begin() + 1);                 // "0.bias" missing
  state.emplace_back("head.weight", zeros({1}));  // unexpected
  state[0].second = zeros({5, 1, 3, 3});          // "0.weight" of the wrong shape
  try {
    net->load_state_dict(state);
    FAIL() << "a bad state dict was loaded";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing key '0.bias'"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected key 'head.weight'"), std::string::npos) << m;
    EXPECT_NE(m.find("key '0.weight': shape [5, 1, 3, 3] given, expected [4, 1, 3, 3]"),
              std::string::npos)
        << m;
  }
  EXPECT_EQ(values(net->named_parameters()[0].second), before);
  // Non-strict: missing and unexpected keys are ignored, shapes still checked.
  state[0].second = zeros({4, 1, 3, 3});
  net->load_state_dict(state, false);
  EXPECT_EQ(values(net->named_parameters()[0].second), std::vector<double>(36, 0.0));
}

TEST(Module, TrainEvalReachEveryChildAndChangeDropout) {
  auto net = sequential({make<Dropout>(0.5), make<Linear>(4, 4)});
  net->eval();
  EXPECT_FALSE((*net)[0]->is_training());
  const Tensor x = ones({2, 4});
  EXPECT_EQ(values((*net)[0]->forward(x)), values(x));
  net->train();
  EXPECT_TRUE((*net)[1]->is_training());
  EXPECT_NE(values((*net)[0]->forward(ones({64, 4}))), std::vector<double>(256, 1.0));
}

TEST(Module, ToDtypeKeepsLeavesThatRequireGradAndMembersFollow) {
  auto linear = make<Linear>(3, 2);
  const Tensor before = linear->weight;
  linear->to(DType::Float32).to(Device::cpu());  // already there: the same tensors
  EXPECT_TRUE(linear->weight.is_alias_of(before));
  linear->to(DType::Float64);  // in place: handles taken earlier see the change
  EXPECT_EQ(linear->weight.dtype(), DType::Float64);
  EXPECT_EQ(before.dtype(), DType::Float64);
  for (const Tensor& p : linear->parameters()) {
    EXPECT_EQ(p.dtype(), DType::Float64);
    EXPECT_TRUE(p.is_leaf() && p.requires_grad());
  }
  const Tensor y = (*linear)(ones({4, 3}, DType::Float64));
  sum(y).backward();
  EXPECT_TRUE(linear->weight.grad().defined());
  const Tensor grad = linear->weight.grad();
  linear->zero_grad();  // in place: the same gradient tensor, zeroed
  EXPECT_TRUE(linear->weight.grad().is_alias_of(grad));
  EXPECT_EQ(values(grad), std::vector<double>(6, 0.0));
  EXPECT_THROW(linear->to(DType::Int64), Error);
}

TEST(Module, DefaultInitializationIsPytorchs) {
  manual_seed(0);
  Linear linear(400, 30);
  const double bound = 1.0 / std::sqrt(400.0);
  double max_abs = 0;
  for (double v : values(linear.weight)) max_abs = std::max(max_abs, std::abs(v));
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.95 * bound);  // uniform over the whole range
  for (double v : values(linear.bias)) EXPECT_LE(std::abs(v), bound);
  BatchNorm2d bn(3);
  EXPECT_EQ(values(bn.weight), std::vector<double>(3, 1.0));
  EXPECT_EQ(values(bn.running_var), std::vector<double>(3, 1.0));
}

TEST(Module, LayersRejectBadArgumentsAndInputsNamingThem) {
  EXPECT_NE(testing::error_of([] { Linear(0, 3); }).find("Linear: in_features"), std::string::npos);
  EXPECT_NE(testing::error_of([] { Dropout(1.0); }).find("Dropout: p must be in [0, 1), got 1"),
            std::string::npos);
  EXPECT_NE(testing::error_of([] {
              Conv2d(3, 4, Size2{3, 3}, Conv2dOptions{{1, 1}, {0, 0}, {1, 1}, 2});
            }).find("groups (2) must divide in_channels (3)"),
            std::string::npos);
  Linear linear(5, 2);
  EXPECT_NE(testing::error_of([&] {
              linear(ones({2, 4}));
            }).find("Linear(in=5, out=2): input's last dimension must be 5, got shape [2, 4]"),
            std::string::npos);
  BatchNorm2d bn(3);
  EXPECT_NE(testing::error_of([&] {
              bn(ones({2, 4, 5, 5}));
            }).find("BatchNorm2d(3): input must be (N, 3, H, W)"),
            std::string::npos);
}

// A user's module of two inputs, as PyTorch's forward(self, tokens, mask).
struct Masked : Module {
  Masked() : Module("Masked") {
    proj = make<Linear>(3, 2);
    register_module("proj", proj);
  }
  std::vector<Tensor> forward_many(const std::vector<Tensor>& in) override {
    TG_CHECK(in.size() == 2, "Masked: takes {x, mask}");
    const Tensor y = (*proj)(in[0]);
    return {mul(y, in[1]), y};
  }
  std::shared_ptr<Linear> proj;
};

TEST(Module, AForwardOfSeveralInputsAndOutputs) {
  Masked m;
  const Tensor x = randn({4, 3});
  const Tensor mask = from_vector(std::vector<float>{1, 0, 1, 0}, {4, 1});
  const std::vector<Tensor> out = m({x, mask});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(testing::tensors_close(out[1], m.proj->forward(x), 0, 0));
  EXPECT_EQ(values(out[0].select(0, 1)), (std::vector<double>{0, 0}));
  sum(out[0]).backward();  // gradients flow through both outputs' graph
  EXPECT_TRUE(m.proj->weight.grad().defined());
  // A one-input module answers the many-input call, and the reverse for one tensor.
  Linear linear(3, 2);
  EXPECT_TRUE(testing::tensors_close(linear(std::vector<Tensor>{x})[0], linear.forward(x), 0, 0));
  EXPECT_NE(testing::error_of([&] {
              linear(std::vector<Tensor>{x, x});
            }).find("Linear takes one input (it implements forward(x)), got 2"),
            std::string::npos);
  EXPECT_NE(testing::error_of([&] { m(x); }).find("Masked: takes {x, mask}"), std::string::npos);
  struct Empty : Module {
    Empty() : Module("Empty") {}
  } empty;
  EXPECT_NE(testing::error_of([&] {
              empty(x);
            }).find("Empty implements neither forward(x) nor forward_many(inputs)"),
            std::string::npos);
  // The recurrent layers take their states this way: {x, h0, c0} -> {output, h_n, c_n}.
  LSTM lstm(3, 5);
  const std::vector<Tensor> r = lstm({randn({6, 2, 3}), zeros({1, 2, 5}), zeros({1, 2, 5})});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[2].shape(), (Shape{1, 2, 5}));
  EXPECT_EQ(GRU(3, 4)({randn({6, 2, 3})}).shape(), (Shape{6, 2, 4}));  // one input: forward(x)
}

}  // namespace
}  // namespace tg::layers
