// RNN, LSTM and GRU as layers: PyTorch's parameter names and initialisation, batch_first
// and unbatched inputs against the plain layout, gradients through time against finite
// differences, the per-step hidden states that hooks read, dropout between layers, and the
// refusals. Values against PyTorch: tests/golden/recurrent_golden_test.cpp.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/gradcheck.h"
#include "../../core/ops.h"
#include "../../layers/layers.h"
#include "../support/parity.h"

namespace tg::layers {
namespace {

using testing::tensors_close;

RecurrentOptions layers_of(int64_t n) {
  RecurrentOptions o;
  o.num_layers = n;
  return o;
}

TEST(Recurrent, ParameterNamesShapesAndInitialisationAreTorchs) {
  LSTM lstm(3, 5, layers_of(2));
  std::vector<std::pair<std::string, Shape>> expected{
      {"weight_ih_l0", {20, 3}}, {"weight_hh_l0", {20, 5}}, {"bias_ih_l0", {20}},
      {"bias_hh_l0", {20}},      {"weight_ih_l1", {20, 5}}, {"weight_hh_l1", {20, 5}},
      {"bias_ih_l1", {20}},      {"bias_hh_l1", {20}}};
  const NamedTensors params = lstm.named_parameters();
  ASSERT_EQ(params.size(), expected.size());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].first, expected[i].first);
    EXPECT_EQ(params[i].second.shape(), expected[i].second) << expected[i].first;
  }
  GRU gru(4, 6);
  EXPECT_EQ(gru.named_parameters()[0].second.shape(), (Shape{18, 4}));
  RecurrentOptions no_bias;
  no_bias.bias = false;
  EXPECT_EQ(RNN(2, 3, no_bias).named_parameters().size(), 2u);
  EXPECT_EQ(LSTMCell(3, 4).named_parameters()[0].first, "weight_ih");
  // U(−1/sqrt(H), 1/sqrt(H)): inside the bound, and filling it.
  LSTM wide(64, 100);
  const double bound = 0.1;
  const Tensor w = wide.weights[0].weight_hh;
  EXPECT_LE(w.abs().max().item<double>(), bound);
  EXPECT_GT(w.abs().max().item<double>(), 0.99 * bound);
  EXPECT_NEAR(w.mean().item<double>(), 0, 0.002);
  EXPECT_EQ(wide.extra_repr(), "64, 100");
  EXPECT_EQ(lstm.extra_repr(), "3, 5, num_layers=2");
}

TEST(Recurrent, BatchFirstAndUnbatchedInputsGiveTheSameSequences) {
  RecurrentOptions plain = layers_of(2);
  RecurrentOptions first = plain;
  first.batch_first = true;
  for (const char* kind : {"rnn", "lstm", "gru"}) {
    SCOPED_TRACE(kind);
    auto make = [&](const RecurrentOptions& o) -> std::shared_ptr<RecurrentBase> {
      if (std::string(kind) == "rnn") return std::make_shared<RNN>(3, 4, o);
      if (std::string(kind) == "lstm") return std::make_shared<LSTM>(3, 4, o);
      return std::make_shared<GRU>(3, 4, o);
    };
    auto a = make(plain);
    auto b = make(first);
    b->load_state_dict(a->state_dict());
    const Tensor x = randn({5, 2, 3});  // (T, B, in)
    const Tensor ya = a->forward(x);
    EXPECT_TRUE(tensors_close(b->forward(x.transpose(0, 1)), ya.transpose(0, 1), 1e-6, 1e-6));
    // One sequence alone, unbatched, is that sequence's slice of the batch.
    EXPECT_TRUE(tensors_close(a->forward(x.select(1, 1)), ya.select(1, 1), 1e-6, 1e-6));
  }
}

TEST(Recurrent, GradientsThroughTimeMatchFiniteDifferences) {
  RecurrentOptions two = layers_of(2);
  LSTM lstm(2, 3, two, DType::Float64);
  GRU gru(2, 3, two, DType::Float64);
  RNN rnn(2, 3, two, DType::Float64);
  const Tensor x = randn({4, 2, 2}, DType::Float64);
  const Tensor h0 = randn({2, 2, 3}, DType::Float64);
  const Tensor c0 = randn({2, 2, 3}, DType::Float64);
  auto check = [&](RecurrentBase& layer, bool with_c0) {
    SCOPED_TRACE(layer.type_name());
    std::vector<Tensor> inputs{x, h0};
    if (with_c0) inputs.push_back(c0);
    for (const Tensor& p : layer.parameters()) inputs.push_back(p);
    // The parameters are inputs too: the function reads them from `in`.
    const auto result = gradcheck(
        [&](const std::vector<Tensor>& in) {
          size_t next = with_c0 ? 3 : 2;
          for (Tensor* p :
               {&layer.weights[0].weight_ih, &layer.weights[0].weight_hh, &layer.weights[0].bias_ih,
                &layer.weights[0].bias_hh, &layer.weights[1].weight_ih, &layer.weights[1].weight_hh,
                &layer.weights[1].bias_ih, &layer.weights[1].bias_hh}) {
            *p = in[next++];
          }
          RecurrentOutput r;
          if (auto* l = dynamic_cast<LSTM*>(&layer)) {
            r = l->forward(in[0], in[1], in[2]);
            return cat({flatten(r.output), flatten(r.h_n), flatten(r.c_n)});
          }
          r = dynamic_cast<GRU*>(&layer) ? dynamic_cast<GRU&>(layer).forward(in[0], in[1])
                                         : dynamic_cast<RNN&>(layer).forward(in[0], in[1]);
          return cat({flatten(r.output), flatten(r.h_n)});
        },
        inputs);
    EXPECT_TRUE(result.ok) << result.message;
  };
  check(lstm, true);
  check(gru, false);
  check(rnn, false);
}

TEST(Recurrent, StepsCarryTheGradientThroughAllLaterSteps) {
  RNN rnn(2, 3);
  const Tensor x = randn({6, 4, 2});
  const RecurrentOutput r = rnn.forward(x, Tensor());
  ASSERT_EQ(r.steps.size(), 6u);
  std::vector<double> hooked(6, -1);
  for (size_t t = 0; t < r.steps.size(); ++t) {
    r.steps[t].register_hook([&hooked, t](const Tensor& g) {
      hooked[t] = g.abs().sum().item<double>();
      return Tensor();
    });
  }
  // A loss on the last step only: earlier steps get their gradient through time alone.
  const Tensor loss = r.output.select(0, 5).sum();
  const auto grads = autograd::grad({loss}, r.steps, {}, /*retain_graph=*/true);
  loss.backward();
  for (size_t t = 0; t < 6; ++t) {
    EXPECT_NEAR(hooked[t], grads[t].abs().sum().item<double>(), 1e-5) << t;
    EXPECT_GT(hooked[t], 0) << t;
  }
  EXPECT_TRUE(tensors_close(r.steps[5], r.output.select(0, 5), 0, 0));
  EXPECT_TRUE(tensors_close(r.h_n.select(0, 0), r.steps[5], 0, 0));
}

TEST(Recurrent, DropoutActsBetweenLayersOnlyInTraining) {
  RecurrentOptions o = layers_of(2);
  o.dropout = 0.5;
  GRU gru(3, 8, o);
  GRU plain(3, 8, layers_of(2));
  plain.load_state_dict(gru.state_dict());
  const Tensor x = randn({4, 2, 3});
  EXPECT_FALSE(tensors_close(gru.forward(x), plain.forward(x), 1e-6, 1e-6));
  gru.eval();
  EXPECT_TRUE(tensors_close(gru.forward(x), plain.forward(x), 0, 0));
  o.num_layers = 1;  // one layer: nothing between layers, as PyTorch (which warns)
  GRU single(3, 8, o);
  GRU single_plain(3, 8);
  single_plain.load_state_dict(single.state_dict());
  EXPECT_TRUE(tensors_close(single.forward(x), single_plain.forward(x), 0, 0));
}

TEST(Recurrent, BadShapesAndOptionsAreNamed) {
  LSTM lstm(3, 4, layers_of(2));
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] {
              lstm.forward(randn({5, 2, 4}));
            }).find("input must be (steps, batch, 3)"),
            std::string::npos);
  EXPECT_NE(message([&] {
              lstm.forward(randn({5, 2, 3}), randn({1, 2, 4}), Tensor());
            }).find("h0 must have shape [2, 2, 4]"),
            std::string::npos);
  EXPECT_NE(message([&] {
              lstm.forward(randn({5, 2, 3}), Tensor(), randn({2, 3, 4}));
            }).find("c0 must have shape [2, 2, 4]"),
            std::string::npos);
  EXPECT_NE(message([&] { lstm.forward(randn({0, 2, 3})); }).find("no steps"), std::string::npos);
  EXPECT_THROW(RNN(3, 0), Error);
  EXPECT_THROW(GRU(3, 4, layers_of(0)), Error);
  RecurrentOptions bad;
  bad.nonlinearity = RecurrentKind::Lstm;
  EXPECT_THROW(RNN(3, 4, bad), Error);
  bad = RecurrentOptions();
  bad.dropout = 1;
  EXPECT_THROW(LSTM(3, 4, bad), Error);
  EXPECT_THROW(LSTMCell(3, 4).forward(randn({2, 3}), LSTMState{randn({3, 4}), Tensor()}), Error);
  EXPECT_THROW(GRUCell(3, 4).forward(randn({2, 2})), Error);
}

TEST(Recurrent, TheFusedLstmCellIsTheComposedStep) {
  // The naive reference: the cell's equations written with separate ops, float64.
  const Tensor gates_value = mul(randn({5, 12}, DType::Float64), 2.0);
  const Tensor c_value = randn({5, 3}, DType::Float64);
  auto leaves = [&] {
    Tensor g = gates_value.clone(), c = c_value.clone();
    g.requires_grad_();
    c.requires_grad_();
    return std::make_pair(g, c);
  };
  auto [g1, c1] = leaves();
  auto [g2, c2] = leaves();
  const LstmCellResult fused = lstm_cell(g1, c1);
  auto block = [&](int k) { return g2.slice(1, 3 * k, 3 * k + 3); };
  const Tensor c_next = add(mul(sigmoid(block(1)), c2), mul(sigmoid(block(0)), tanh(block(2))));
  const Tensor h_next = mul(sigmoid(block(3)), tanh(c_next));
  EXPECT_TRUE(tensors_close(fused.h, h_next, 1e-14, 1e-14));
  EXPECT_TRUE(tensors_close(fused.c, c_next, 1e-14, 1e-14));
  const Tensor dh = randn({5, 3}, DType::Float64), dc = randn({5, 3}, DType::Float64);
  add(sum(mul(fused.h, dh)), sum(mul(fused.c, dc))).backward();
  add(sum(mul(h_next, dh)), sum(mul(c_next, dc))).backward();
  EXPECT_TRUE(tensors_close(g1.grad(), g2.grad(), 1e-13, 1e-13));
  EXPECT_TRUE(tensors_close(c1.grad(), c2.grad(), 1e-13, 1e-13));
  EXPECT_THROW(lstm_cell(randn({5, 11}), randn({5, 3})), Error);
}

TEST(Recurrent, TheFusedGruCellIsTheComposedStep) {
  const Tensor a_value = mul(randn({4, 9}, DType::Float64), 2.0);
  const Tensor b_value = randn({4, 9}, DType::Float64);
  const Tensor h_value = randn({4, 3}, DType::Float64);
  auto leaf = [](const Tensor& v) {
    Tensor t = v.clone();
    t.requires_grad_();
    return t;
  };
  Tensor a1 = leaf(a_value), b1 = leaf(b_value), h1 = leaf(h_value);
  Tensor a2 = leaf(a_value), b2 = leaf(b_value), h2 = leaf(h_value);
  const Tensor fused = gru_cell(a1, b1, h1);
  auto block = [](const Tensor& t, int k) { return t.slice(1, 3 * k, 3 * k + 3); };
  const Tensor r = sigmoid(add(block(a2, 0), block(b2, 0)));
  const Tensor z = sigmoid(add(block(a2, 1), block(b2, 1)));
  const Tensor n = tanh(add(block(a2, 2), mul(r, block(b2, 2))));
  const Tensor composed = add(mul(1.0 - z, n), mul(z, h2));
  EXPECT_TRUE(tensors_close(fused, composed, 1e-14, 1e-14));
  const Tensor dh = randn({4, 3}, DType::Float64);
  sum(mul(fused, dh)).backward();
  sum(mul(composed, dh)).backward();
  EXPECT_TRUE(tensors_close(a1.grad(), a2.grad(), 1e-13, 1e-13));
  EXPECT_TRUE(tensors_close(b1.grad(), b2.grad(), 1e-13, 1e-13));
  EXPECT_TRUE(tensors_close(h1.grad(), h2.grad(), 1e-13, 1e-13));
  EXPECT_THROW(gru_cell(randn({4, 9}), randn({4, 6}), randn({4, 3})), Error);
}

TEST(Recurrent, CellsMatchOneStepOfTheSequenceLayer) {
  LSTM lstm(3, 4);
  LSTMCell cell(3, 4);
  cell.load_state_dict({{"weight_ih", lstm.weights[0].weight_ih},
                        {"weight_hh", lstm.weights[0].weight_hh},
                        {"bias_ih", lstm.weights[0].bias_ih},
                        {"bias_hh", lstm.weights[0].bias_hh}});
  const Tensor x = randn({3, 2, 3});
  const RecurrentOutput r = lstm.forward(x, Tensor(), Tensor());
  LSTMState s;
  for (int64_t t = 0; t < 3; ++t) s = cell.forward(x.select(0, t), s);
  EXPECT_TRUE(tensors_close(s.h, r.h_n.select(0, 0), 1e-6, 1e-6));
  EXPECT_TRUE(tensors_close(s.c, r.c_n.select(0, 0), 1e-6, 1e-6));
}

}  // namespace
}  // namespace tg::layers
