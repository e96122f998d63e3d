// The layers that keep gradients alive through depth: LayerNorm (PyTorch's names and
// defaults, statistics per sample), Residual (the identity path for the gradient, a
// projection when shapes differ), ELU and SELU (SELU's self-normalisation through a deep
// stack with LeCun-normal weights). The ops' math and gradients are in the op table and the
// golden files; these are the layers' own promises.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/autograd.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../layers/init.h"
#include "../../layers/layers.h"
#include "../support/parity.h"

namespace tg::layers {
namespace {

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(DType::Float64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

TEST(DepthLayers, LayerNormHasPytorchsParametersAndNormalisesEachSample) {
  LayerNorm norm({2, 3});
  norm.to(DType::Float64);
  const NamedTensors params = norm.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "weight");
  EXPECT_EQ(params[1].first, "bias");
  EXPECT_EQ(values(norm.weight), std::vector<double>(6, 1.0));
  EXPECT_EQ(values(norm.bias), std::vector<double>(6, 0.0));
  EXPECT_EQ(LayerNorm({4}, 1e-5, /*elementwise_affine=*/false).named_parameters().size(), 0u);

  Generator g(1);
  const Tensor x = add(mul(randn({5, 2, 3}, DType::Float64, &g), 7.0), 3.0);
  const Tensor y = norm(x);
  for (int64_t i = 0; i < 5; ++i) {
    const std::vector<double> v = values(y.select(0, i));
    double mean = 0, var = 0;
    for (double e : v) mean += e;
    mean /= 6;
    for (double e : v) var += (e - mean) * (e - mean);
    EXPECT_NEAR(mean, 0, 1e-12);
    EXPECT_NEAR(var / 6, 1, 1e-5);  // eps 1e-5 against a variance near 49
  }
  // Per-sample statistics: a sample's output does not depend on the rest of the batch, in
  // training or evaluation, unlike BatchNorm's.
  norm.eval();
  EXPECT_TRUE(testing::tensors_close(norm(x.slice(0, 2, 3)), y.slice(0, 2, 3), 1e-14, 1e-14));
}

TEST(DepthLayers, ResidualAddsTheIdentityToTheGradient) {
  // A body whose gradient vanishes (weights near zero): through the residual the input's
  // gradient is still the upstream gradient, plus the body's share.
  auto body = make<Linear>(4, 4, /*bias=*/false);
  init::constant_(body->weight, 1e-6);
  body->to(DType::Float64);
  Residual res(body);
  const Tensor x = randn({3, 4}, DType::Float64).requires_grad_();
  const Tensor upstream = randn({3, 4}, DType::Float64);
  res(x).backward(upstream);
  const std::vector<double> gx = values(x.grad()), up = values(upstream);
  for (size_t i = 0; i < gx.size(); ++i) EXPECT_NEAR(gx[i], up[i], 1e-5);
  EXPECT_EQ(res.named_parameters()[0].first, "body.weight");
}

TEST(DepthLayers, ResidualProjectsTheShortcutWhenTheBodyChangesTheShape) {
  auto body = sequential({make<Linear>(6, 3), make<ReLU>()});
  auto projection = make<Linear>(6, 3, /*bias=*/false);
  Residual res(body, projection);
  const Tensor x = randn({2, 6});
  EXPECT_TRUE(testing::tensors_close(res(x), add((*projection)(x), (*body)(x)), 1e-6, 1e-6));
  std::vector<std::string> names;
  for (const auto& [name, t] : res.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"body.0.weight", "body.0.bias", "projection.weight"}));

  Residual no_projection(body);
  EXPECT_NE(testing::error_of([&] { no_projection(x); })
                .find("Residual: the body maps [2, 6] to [2, 3]; without a projection the "
                      "shortcut is [2, 6]"),
            std::string::npos);
  EXPECT_NE(testing::error_of([] { Residual(nullptr); }).find("Residual: needs a body"),
            std::string::npos);
}

TEST(DepthLayers, SeluKeepsActivationsNormalisedThroughADeepStack) {
  // Klambauer et al. 2017: with LeCun-normal weights and no bias, SELU's fixed point is
  // mean 0, variance 1; 32 layers on unit-normal input stay near it, where tanh's shrink.
  Generator g(5);
  const Tensor x = randn({512, 64}, DType::Float64, &g);
  auto stack = [&](std::shared_ptr<Module> act) {
    Tensor h = x;
    for (int layer = 0; layer < 32; ++layer) {
      Linear linear(64, 64, /*bias=*/false);
      linear.to(DType::Float64);
      init::lecun_normal_(linear.weight, &g);
      h = (*act)(linear(h));
    }
    const std::vector<double> v = values(h);
    double mean = 0, var = 0;
    for (double e : v) mean += e;
    mean /= static_cast<double>(v.size());
    for (double e : v) var += (e - mean) * (e - mean);
    return std::make_pair(mean, var / static_cast<double>(v.size()));
  };
  const auto [selu_mean, selu_var] = stack(make<SELU>());
  EXPECT_NEAR(selu_mean, 0, 0.2);
  EXPECT_NEAR(selu_var, 1, 0.3);
  EXPECT_LT(stack(make<Tanh>()).second, 0.2);
}

TEST(DepthLayers, BadArgumentsAreNamed) {
  EXPECT_NE(testing::error_of([] {
              LayerNorm(Shape{});
            }).find("LayerNorm: normalized_shape must be non-empty"),
            std::string::npos);
  EXPECT_NE(testing::error_of([] { LayerNorm({3}, 0.0); }).find("LayerNorm: eps must be"),
            std::string::npos);
  EXPECT_NE(testing::error_of([] { ELU(NAN); }).find("ELU: alpha must be finite"),
            std::string::npos);
  LayerNorm norm({4});
  EXPECT_NE(testing::error_of([&] {
              norm(ones({2, 5}));
            })
                .find("layer_norm: normalized_shape [4] is not the input's trailing shape "
                      "(input [2, 5])"),
            std::string::npos);
  EXPECT_NE(testing::error_of([&] {
              layer_norm(ones({4}), {2, 4});
            }).find("must be 1 to 1 trailing dims"),
            std::string::npos);
}

}  // namespace
}  // namespace tg::layers
