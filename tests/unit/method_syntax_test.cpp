// Method syntax and arithmetic operators on Tensor (core/tensor.h): each spelling gives
// the free function's values and gradients, and the README's example (the block between
// the markers below, which tests/scripts/readme_example_test.sh finds word for word in the
// README) compiles and trains.
#include <gtest/gtest.h>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/generator.h"
#include "../../core/ops.h"
#include "../../optim/optim.h"
#include "../support/parity.h"

namespace tg {
namespace {

bool same(const Tensor& a, const Tensor& b) { return testing::tensors_close(a, b, 0, 0); }

TEST(MethodSyntax, MethodsForwardToTheFreeFunctions) {
  Generator gen(3);
  const Tensor x = randn({3, 4}, TensorOptions(DType::Float64), &gen);
  const Tensor w = randn({4, 2}, TensorOptions(DType::Float64), &gen);
  const Tensor positive = add(abs(x), 0.5);
  EXPECT_TRUE(same(x.sum(), sum(x)));
  EXPECT_TRUE(same(x.sum(1), sum(x, {1})));
  EXPECT_TRUE(same(x.sum({0, 1}, true), sum(x, {0, 1}, true)));
  EXPECT_TRUE(same(x.mean(), mean(x)));
  EXPECT_TRUE(same(x.mean(0, true), mean(x, {0}, true)));
  EXPECT_TRUE(same(x.max(), max(x)));
  EXPECT_TRUE(same(x.argmax(1), argmax(x, 1)));
  EXPECT_TRUE(same(x.matmul(w), matmul(x, w)));
  EXPECT_TRUE(same(x.relu(), relu(x)));
  EXPECT_TRUE(same(x.sigmoid(), sigmoid(x)));
  EXPECT_TRUE(same(x.tanh(), tanh(x)));
  EXPECT_TRUE(same(x.exp(), exp(x)));
  EXPECT_TRUE(same(positive.log(), log(positive)));
  EXPECT_TRUE(same(positive.sqrt(), sqrt(positive)));
  EXPECT_TRUE(same(x.abs(), abs(x)));
  EXPECT_TRUE(same(x.neg(), neg(x)));
  EXPECT_TRUE(same(positive.pow(1.5), pow(positive, 1.5)));
  EXPECT_TRUE(same(x.clamp(-0.5, 0.5), clamp(x, -0.5, 0.5)));
  EXPECT_TRUE(same(x.softmax(), softmax(x, -1)));
  EXPECT_TRUE(same(x.log_softmax(0), log_softmax(x, 0)));
}

TEST(MethodSyntax, OperatorsBroadcastAndTakeScalarsOnEitherSide) {
  Generator gen(4);
  const Tensor a = randn({2, 3}, TensorOptions(DType::Float64), &gen);
  const Tensor b = add(abs(randn({3}, TensorOptions(DType::Float64), &gen)), 0.5);
  EXPECT_TRUE(same(a + b, add(a, b)));
  EXPECT_TRUE(same(a - b, sub(a, b)));
  EXPECT_TRUE(same(a * b, mul(a, b)));
  EXPECT_TRUE(same(a / b, div(a, b)));
  EXPECT_TRUE(same(a + 2.0, add(a, 2.0)));
  EXPECT_TRUE(same(2.0 + a, add(a, 2.0)));
  EXPECT_TRUE(same(a - 2.0, sub(a, 2.0)));
  EXPECT_TRUE(same(2.0 - a, sub(full({}, 2.0, TensorOptions(DType::Float64)), a)));
  EXPECT_TRUE(same(3.0 * a, mul(a, 3.0)));
  EXPECT_TRUE(same(a / 4.0, div(a, 4.0)));
  EXPECT_TRUE(same(1.0 / b, div(full({}, 1.0, TensorOptions(DType::Float64)), b)));
  EXPECT_TRUE(same(-a, neg(a)));
  EXPECT_EQ((1.0 / b).dtype(), DType::Float64);  // the scalar takes the tensor's dtype
}

TEST(MethodSyntax, GradientsFlowThroughOperators) {
  Tensor x = from_vector<double>({1.0, 2.0, 3.0}).requires_grad_();
  const Tensor y = ((2.0 * x - 1.0) * x / 2.0).sum();  // Σ (2x² − x) / 2
  y.backward();
  // d/dx = (4x − 1) / 2
  EXPECT_TRUE(same(x.grad(), from_vector<double>({1.5, 3.5, 5.5})));
}

TEST(MethodSyntax, TheReadmeExampleTrains) {
  // [readme example begin]
  tg::Generator gen(0);
  const tg::Tensor x = tg::randn({256, 3}, {}, &gen);
  const tg::Tensor true_w = tg::from_vector<float>({1.5f, -2.0f, 0.5f}, {3, 1});
  const tg::Tensor target = (x.matmul(true_w) - 0.25).sigmoid();

  tg::Tensor w = tg::zeros({3, 1}).requires_grad_();
  tg::Tensor b = tg::zeros({1}).requires_grad_();
  tg::optim::AdamParams hyper;
  hyper.lr = 0.05;
  tg::optim::Adam opt({w, b}, hyper);
  for (int step = 0; step < 500; ++step) {
    opt.zero_grad();
    const tg::Tensor p = (x.matmul(w) + b).sigmoid();
    const tg::Tensor loss = ((p - target) * (p - target)).mean();
    loss.backward();
    opt.step();
  }
  // w is now close to true_w and b to -0.25.
  // [readme example end]
  EXPECT_TRUE(testing::tensors_close(w, true_w, 0.05, 0.05)) << w.str();
  EXPECT_NEAR(b.item<double>(), -0.25, 0.05);
}

}  // namespace
}  // namespace tg
