// Gradients with respect to chosen inputs (autograd::grad, first and second order: a
// gradient penalty), tensor hooks, retain_grad and module hooks: what each sees and
// changes, against hand-derived gradients and finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/gradcheck.h"
#include "../../core/ops.h"
#include "../../layers/activation.h"
#include "../../layers/linear.h"
#include "../../layers/sequential.h"
#include "../support/parity.h"

namespace tg {
namespace {

using testing::tensors_close;

Tensor leaf(std::vector<double> values) {
  Tensor t = from_vector(values, {static_cast<int64_t>(values.size())});
  t.requires_grad_();
  return t;
}
Tensor values(std::vector<double> v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }

TEST(AutogradGrad, GradientsWithRespectToLeavesAndIntermediatesLeaveDotGradAlone) {
  Tensor x = leaf({1, 2, 3});
  Tensor w = leaf({0.5, -1, 2});
  const Tensor h = mul(x, w);       // h = x·w
  const Tensor z = sum(mul(h, h));  // z = Σ h²
  const auto grads = autograd::grad({z}, {x, h}, {}, /*retain_graph=*/true);
  // dz/dx = 2h·w = 2x·w², dz/dh = 2h
  EXPECT_TRUE(tensors_close(grads[0], values({0.5, 4, 24}), 1e-12, 0));
  EXPECT_TRUE(tensors_close(grads[1], values({1, -4, 12}), 1e-12, 0));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  // The graph was kept: a backward still works and fills .grad as usual.
  z.backward();
  EXPECT_TRUE(tensors_close(x.grad(), values({0.5, 4, 24}), 1e-12, 0));
}

TEST(AutogradGrad, SumsOverOutputsWeightedByGradOutputsAndOverRepeatedUses) {
  Tensor x = leaf({1, -2});
  const Tensor a = mul(x, x);    // x²
  const Tensor b = mul(x, 3.0);  // 3x
  const auto grads = autograd::grad({a, b}, {x}, {values({1, 1}), values({2, 0})});
  // 2x·1 + 3·(2, 0)
  EXPECT_TRUE(tensors_close(grads[0], values({8, -4}), 1e-12, 0));
}

TEST(AutogradGrad, UnusedInputsAreAnErrorUnlessAllowed) {
  Tensor x = leaf({1});
  Tensor unused = leaf({2});
  Tensor y = mul(x, 2.0);
  try {
    autograd::grad({y}, {x, unused}, {}, true);
    FAIL() << "an unused input was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("allow_unused"), std::string::npos) << e.what();
  }
  const auto grads =
      autograd::grad({y}, {x, unused}, {}, false, /*create_graph=*/false, /*allow_unused=*/true);
  EXPECT_TRUE(tensors_close(grads[0], values({2}), 0, 0));
  EXPECT_FALSE(grads[1].defined());
  EXPECT_THROW(autograd::grad({y}, {values({1})}), Error);  // an input without grad
  EXPECT_THROW(autograd::grad({mul(x, x)}, {x}, {values({1, 2})}), Error);
}

TEST(AutogradGrad, WithoutRetainGraphTheGraphIsFreed) {
  Tensor x = leaf({1, 2});
  const Tensor y = sum(mul(x, x));
  autograd::grad({y}, {x});
  EXPECT_THROW(y.backward(), Error);
}

TEST(AutogradGrad, OnlyTheNodesLeadingToAnInputRun) {
  // The branch through `other` must not run: its hook would count.
  Tensor x = leaf({1, 2});
  Tensor other = leaf({3, 4});
  int other_calls = 0;
  const Tensor branch = mul(other, other);
  branch.register_hook([&](const Tensor&) {
    ++other_calls;
    return Tensor();
  });
  const Tensor y = sum(add(mul(x, 2.0), branch));
  const auto grads = autograd::grad({y}, {x});
  EXPECT_TRUE(tensors_close(grads[0], values({2, 2}), 0, 0));
  EXPECT_EQ(other_calls, 0);
}

TEST(DoubleBackward, SecondDerivativesOfComposedOps) {
  Tensor x = leaf({0.5, -1.0, 2.0});
  // y = Σ x³ + Σ tanh(x): dy/dx = 3x² + 1 − tanh²(x); d²y/dx² = 6x − 2·tanh(x)·(1 − tanh²(x)).
  const Tensor y = add(sum(mul(mul(x, x), x)), sum(tanh(x)));
  const Tensor dy = autograd::grad({y}, {x}, {}, false, /*create_graph=*/true)[0];
  EXPECT_TRUE(dy.requires_grad());
  const auto d2 = autograd::grad({sum(dy)}, {x})[0];
  std::vector<double> expected;
  for (double v : {0.5, -1.0, 2.0}) {
    const double t = std::tanh(v);
    expected.push_back(6 * v - 2 * t * (1 - t * t));
  }
  EXPECT_TRUE(tensors_close(d2, values(expected), 1e-12, 1e-12));
  EXPECT_FALSE(x.grad().defined());
}

TEST(DoubleBackward, AGradientPenaltyTrainsThroughAnMlp) {
  // WGAN-GP's penalty: ‖∂D(x)/∂x‖² for D = Linear → Tanh → Linear, differentiated with
  // respect to D's parameters, against finite differences (gradcheck in float64).
  layers::Linear first(3, 4, true, DType::Float64), second(4, 1, true, DType::Float64);
  const Tensor x = randn({5, 3}, DType::Float64);
  std::vector<Tensor> params{first.weight, first.bias, second.weight, second.bias};
  const auto result = gradcheck(
      [&](const std::vector<Tensor>& p) {
        EnableGradGuard enable;  // gradcheck's finite differences run without grad mode
        Tensor input = x.detach();
        input.requires_grad_();
        const Tensor d =
            add(matmul(tanh(add(matmul(input, p[0].transpose(0, 1)), p[1])), p[2].transpose(0, 1)),
                p[3]);
        const Tensor g = autograd::grad({sum(d)}, {input}, {}, false, /*create_graph=*/true)[0];
        return sum(mul(g, g));
      },
      params);
  EXPECT_TRUE(result.ok) << result.message;
  // Through the layers themselves (linear's own backward is composed too).
  Tensor input = x.detach();
  input.requires_grad_();
  const Tensor g = autograd::grad({sum(second(tanh(first(input))))}, {input}, {}, false, true)[0];
  sum(mul(g, g)).backward();
  EXPECT_TRUE(first.weight.grad().defined());
  EXPECT_GT(first.weight.grad().abs().sum().item<double>(), 0);
}

TEST(DoubleBackward, EveryComposedUnaryDerivativeMatchesFiniteDifferences) {
  // f(x) = Σ w · ∂(Σ op(x))/∂x: its gradient is w · op''(x), from the composed derivative.
  const Tensor w = randn({6}, DType::Float64);
  const Tensor positive = add(abs(randn({6}, DType::Float64)), 0.5);
  // Both branches of the piecewise ops, away from their kinks.
  const Tensor mixed = mul(positive, from_vector(std::vector<double>{1, -1, 1, -1, 1, -1}));
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(x); }},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }},
      {"pow", [](const Tensor& x) { return pow(x, 3.0); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }},
      {"elu", [](const Tensor& x) { return elu(x, 0.7); }},
      {"selu", [](const Tensor& x) { return selu(x); }},
      {"relu", [](const Tensor& x) { return mul(relu(x), x); }},
      {"leaky_relu", [](const Tensor& x) { return mul(leaky_relu(x, 0.2), x); }},
      {"abs", [](const Tensor& x) { return mul(abs(x), x); }},
      {"clamp", [](const Tensor& x) { return mul(clamp(x, 0.8, 1.6), x); }},
      {"neg", [](const Tensor& x) { return mul(neg(x), x); }},
      {"div", [](const Tensor& x) { return div(x, add(mul(x, x), 1.0)); }},
      {"maximum", [](const Tensor& x) { return mul(maximum(x, mul(x, 0.5)), x); }}};
  for (const auto& [name, op] : ops) {
    SCOPED_TRACE(name);
    const std::string op_name = name;
    const Tensor input = op_name == "log" || op_name == "sqrt" ? positive : mixed;
    const auto result = gradcheck(
        [&, op = op](const std::vector<Tensor>& in) {
          EnableGradGuard enable;
          Tensor x = in[0];
          if (!x.requires_grad()) {
            x = x.detach();
            x.requires_grad_();
          }
          const Tensor g = autograd::grad({sum(op(x))}, {x}, {}, false, true)[0];
          return sum(mul(g, w));
        },
        {input.clone()});
    EXPECT_TRUE(result.ok) << result.message;
    // The composed first derivative is the kernel's (which the op table checks).
    Tensor x = input.clone();
    x.requires_grad_();
    const Tensor composed = autograd::grad({sum(op(x))}, {x}, {}, false, true)[0];
    const Tensor kernel = autograd::grad({sum(op(x))}, {x})[0];
    EXPECT_TRUE(tensors_close(composed, kernel, 1e-12, 1e-12));
  }
}

TEST(DoubleBackward, AnOpWithoutAComposedBackwardIsNamed) {
  Tensor x = randn({2, 5}, DType::Float64);
  x.requires_grad_();
  const Tensor y = sum(mul(softmax(x, 1), x));
  try {
    autograd::grad({y}, {x}, {}, false, /*create_graph=*/true);
    FAIL() << "a create_graph run through softmax was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("create_graph=true"), std::string::npos) << m;
    EXPECT_NE(m.find("Softmax"), std::string::npos) << m;
  }
  // Without create_graph the same gradient is fine.
  EXPECT_TRUE(autograd::grad({sum(mul(softmax(x, 1), x))}, {x})[0].defined());
}

// conv2d adds its bias inside its passes (Note [conv2d bias]), a node refused by create_graph;
// when the bias alone needs a gradient (a frozen filter), the bias goes through a composed
// add instead, so the gradient penalty on it still works.
TEST(DoubleBackward, AConvolutionsBiasAloneStaysDifferentiable) {
  const Tensor x = randn({2, 3, 5, 5}, DType::Float64), w = randn({4, 3, 3, 3}, DType::Float64);
  Tensor b = randn({4}, DType::Float64);
  b.requires_grad_();
  // y = Σ (conv(x, w) + b)²: dy/db_c = 2 Σ_{n,h,w} (conv + b_c); d²y/db_c² = 2·N·H·W = 100.
  const Tensor conv = conv2d(x, w, b, {1, 1}, {1, 1});
  const Tensor g = autograd::grad({sum(mul(conv, conv))}, {b}, {}, false, true)[0];
  const Tensor d2 = autograd::grad({sum(g)}, {b})[0];
  EXPECT_TRUE(tensors_close(d2, values({100, 100, 100, 100}), 1e-9, 1e-9));
  // With the filter needing its gradient too, the node is the convolution's, refused by name.
  Tensor wg = w.detach();
  wg.requires_grad_();
  EXPECT_THROW(autograd::grad({sum(conv2d(x, wg, b, {1, 1}, {1, 1}))}, {b}, {}, false, true),
               Error);
}

TEST(TensorHooks, SeeAndReplaceTheGradientOfANonLeaf) {
  Tensor x = leaf({1, 2, 3});
  const Tensor h = mul(x, 2.0);
  Tensor seen;
  h.register_hook([&](const Tensor& g) {
    seen = g.clone();
    return Tensor();
  });
  h.register_hook([](const Tensor& g) { return mul(g, 10.0); });  // runs second
  sum(mul(h, h)).backward();
  EXPECT_TRUE(tensors_close(seen, values({4, 8, 12}), 0, 0));  // 2h
  // The replaced gradient flows on: x.grad = 2·(10·2h)
  EXPECT_TRUE(tensors_close(x.grad(), values({80, 160, 240}), 0, 0));
}

TEST(TensorHooks, LeafHooksSeeTheSumOverAllUsesOnceAndCanBeRemoved) {
  Tensor x = leaf({1, 2});
  int calls = 0;
  Tensor seen;
  HookHandle handle = x.register_hook([&](const Tensor& g) {
    ++calls;
    seen = g.clone();
    return mul(g, 0.5);
  });
  sum(add(mul(x, 3.0), mul(x, x))).backward();  // d/dx = 3 + 2x
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(tensors_close(seen, values({5, 7}), 0, 0));
  EXPECT_TRUE(tensors_close(x.grad(), values({2.5, 3.5}), 0, 0));
  handle.remove();
  handle.remove();  // twice is harmless
  sum(mul(x, 3.0)).backward();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(tensors_close(x.grad(), values({5.5, 6.5}), 0, 0));
}

// The post-accumulate hook sees the leaf once per backward, after the sum over its uses
// (and the pre-accumulate hooks) landed in .grad; autograd::grad does not run it, nor a
// backward that never reaches the leaf.
TEST(TensorHooks, PostAccumulateHookSeesTheFinalGradientOncePerBackward) {
  Tensor x = leaf({1, 2});
  Tensor unused = leaf({4});
  std::vector<Tensor> seen;
  x.register_hook([](const Tensor& g) { return mul(g, 2.0); });
  HookHandle handle = x.register_post_accumulate_grad_hook([&](const Tensor& t) {
    EXPECT_TRUE(t.is_same(x));
    seen.push_back(t.grad().clone());
  });
  int unused_calls = 0;
  unused.register_post_accumulate_grad_hook([&](const Tensor&) { ++unused_calls; });
  sum(add(mul(x, 3.0), mul(x, x))).backward();  // (3 + 2x) * 2, accumulated
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(tensors_close(seen[0], values({10, 14}), 0, 0));
  sum(mul(x, 1.0)).backward();  // accumulates: 10 + 2, 14 + 2
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(tensors_close(seen[1], values({12, 16}), 0, 0));
  autograd::grad({sum(mul(x, 1.0))}, {x});
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(unused_calls, 0);
  handle.remove();
  sum(mul(x, 1.0)).backward();
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_THROW(values({1}).register_post_accumulate_grad_hook([](const Tensor&) {}), Error);
  EXPECT_THROW(mul(x, 1.0).register_post_accumulate_grad_hook([](const Tensor&) {}), Error);
}

TEST(TensorHooks, RefusesTensorsWithoutGradAndReplacementsOfAnotherShape) {
  EXPECT_THROW(values({1}).register_hook([](const Tensor&) { return Tensor(); }), Error);
  Tensor x = leaf({1, 2});
  const Tensor h = mul(x, 1.0);
  h.register_hook([](const Tensor&) { return values({1, 2, 3}); });
  try {
    sum(h).backward();
    FAIL() << "a hook's replacement of another shape was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("register_hook"), std::string::npos) << e.what();
  }
}

TEST(TensorHooks, RetainGradKeepsANonLeafsGradientAcrossBackwards) {
  Tensor x = leaf({1, 2});
  const Tensor h = mul(x, x);
  h.retain_grad();
  EXPECT_TRUE(h.retains_grad());
  const Tensor y = sum(mul(h, 3.0));
  y.backward(Tensor(), /*retain_graph=*/true);
  EXPECT_TRUE(tensors_close(h.grad(), values({3, 3}), 0, 0));
  y.backward();
  EXPECT_TRUE(tensors_close(h.grad(), values({6, 6}), 0, 0));
  const Tensor unretained = mul(x, 2.0);
  sum(unretained).backward();
  EXPECT_FALSE(unretained.grad().defined());
}

TEST(ModuleHooks, ForwardHooksSeeAndReplaceInputAndOutput) {
  layers::Linear linear(3, 2, true, DType::Float64);
  const Tensor x = from_vector(std::vector<double>{1, 2, 3}, {1, 3});
  std::vector<std::string> calls;
  linear.register_forward_pre_hook([&](layers::Module& m, const Tensor& input) {
    calls.push_back("pre " + m.type_name());
    return mul(input, 2.0);
  });
  HookHandle after =
      linear.register_forward_hook([&](layers::Module&, const Tensor& input, const Tensor& output) {
        calls.push_back("after");
        EXPECT_TRUE(tensors_close(input, mul(x, 2.0), 0, 0));
        return mul(output, 0.0);
      });
  const Tensor y = linear(x);
  EXPECT_EQ(calls, (std::vector<std::string>{"pre Linear", "after"}));
  EXPECT_TRUE(tensors_close(y, zeros({1, 2}, DType::Float64), 0, 0));
  after.remove();
  const Tensor direct = linear.forward(mul(x, 2.0));
  EXPECT_TRUE(tensors_close(linear(x), direct, 0, 0));
}

TEST(ModuleHooks, FullBackwardHooksSeeTheGradientsAtInputAndOutput) {
  auto first = std::make_shared<layers::Linear>(4, 3, true, DType::Float64);
  auto second = std::make_shared<layers::Linear>(3, 2, true, DType::Float64);
  layers::Sequential net({first, std::make_shared<layers::Tanh>(), second});
  const Tensor x = randn({5, 4}, DType::Float64);
  Tensor second_in, second_out, first_in, first_out;
  second->register_full_backward_hook([&](layers::Module&, const Tensor& gi, const Tensor& go) {
    second_in = gi.clone();
    second_out = go.clone();
    return Tensor();
  });
  // The first layer sees data that needs no gradient: its grad_input is undefined.
  first->register_full_backward_hook([&](layers::Module&, const Tensor& gi, const Tensor& go) {
    first_in = gi;
    first_out = go.clone();
    return Tensor();
  });
  const Tensor g = randn({5, 2}, DType::Float64);
  net(x).backward(g);
  // Against autograd::grad on the same computation without hooks.
  const Tensor a = first->forward(x);
  const Tensor t = tanh(a);
  const Tensor out = second->forward(t);
  const auto expected = autograd::grad({out}, {t, a}, {g});
  EXPECT_TRUE(tensors_close(second_out, g, 0, 0));
  EXPECT_TRUE(tensors_close(second_in, expected[0], 1e-12, 0));
  EXPECT_TRUE(tensors_close(first_out, expected[1], 1e-12, 0));
  EXPECT_FALSE(first_in.defined());
}

TEST(ModuleHooks, ABackwardHookCanReplaceTheInputGradient) {
  layers::Linear linear(2, 2, false, DType::Float64);
  Tensor x = from_vector(std::vector<double>{1, 2}, {1, 2});
  x.requires_grad_();
  linear.register_full_backward_hook(
      [](layers::Module&, const Tensor& gi, const Tensor&) { return mul(gi, 0.0); });
  sum(linear(x)).backward();
  EXPECT_TRUE(tensors_close(x.grad(), zeros({1, 2}, DType::Float64), 0, 0));
  EXPECT_TRUE(linear.weight.grad().defined());  // the parameters' gradients are untouched
  linear.register_full_backward_hook(
      [](layers::Module&, const Tensor&, const Tensor&) { return zeros({3}, DType::Float64); });
  try {
    sum(linear(x)).backward();
    FAIL() << "a grad_input of another shape was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Linear: a full backward hook returned a grad_input"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tg
