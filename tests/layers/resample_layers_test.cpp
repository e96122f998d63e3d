// Conv1d, AdaptiveAvgPool2d and Upsample as layers: PyTorch's parameter names, shapes and
// initialisation, what each computes in the cases one can check by hand, and the refusals.
// The ops' values against PyTorch: tests/golden (conv1d, adaptive_avg_pool2d, interpolate);
// gradients and CUDA parity: the op table.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../layers/layers.h"
#include "../support/parity.h"

namespace tg::layers {
namespace {

using testing::tensors_close;

TEST(Conv1dLayer, NamesShapesInitialisationAndUnbatchedInput) {
  Conv1dOptions o;
  o.groups = 2;
  o.padding = 1;
  Conv1d conv(4, 6, 3, o);
  const NamedTensors params = conv.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "weight");
  EXPECT_EQ(params[0].second.shape(), (Shape{6, 2, 3}));
  EXPECT_EQ(params[1].first, "bias");
  // U(±1/sqrt(fan_in)), fan_in = 2 · 3.
  const double bound = 1 / std::sqrt(6.0);
  EXPECT_LE(conv.weight.abs().max().item<double>(), bound);
  EXPECT_LE(conv.bias.abs().max().item<double>(), bound);
  EXPECT_EQ(conv.extra_repr(), "4, 6, kernel_size=3, padding=1, groups=2");
  const Tensor x = randn({2, 4, 9});
  const Tensor y = conv.forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 6, 9}));
  EXPECT_TRUE(tensors_close(conv.forward(x.select(0, 1)), y.select(0, 1), 1e-6, 1e-6));
  EXPECT_THROW(conv.forward(randn({2, 3, 9})), Error);
  EXPECT_THROW(Conv1d(3, 4, 3, o), Error);  // groups 2 does not divide 3
}

TEST(Conv1dLayer, AKernelOfOnesSumsEachWindow) {
  Conv1dOptions o;
  o.bias = false;
  o.stride = 2;
  Conv1d conv(1, 1, 3, o, DType::Float64);
  conv.weight.detach().fill_(1.0);
  const Tensor x = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7}, {1, 1, 7});
  EXPECT_TRUE(
      tensors_close(conv.forward(x), from_vector(std::vector<double>{6, 12, 18}, {1, 1, 3}), 0, 0));
}

TEST(ResampleLayers, GlobalAveragePoolingIsTheMeanOverTheImage) {
  AdaptiveAvgPool2d pool({1, 1});
  const Tensor x = randn({2, 3, 7, 5}, DType::Float64);
  EXPECT_TRUE(tensors_close(pool.forward(x), mean(x, {2, 3}, /*keepdim=*/true), 1e-12, 1e-12));
  EXPECT_EQ(AdaptiveAvgPool2d({3, 4}).forward(randn({3, 8, 8})).shape(), (Shape{3, 3, 4}));
  EXPECT_EQ(pool.extra_repr(), "output_size=(1, 1)");
  EXPECT_THROW(AdaptiveAvgPool2d({0, 2}), Error);
  EXPECT_THROW(pool.forward(randn({4, 4})), Error);
}

TEST(ResampleLayers, NearestUpsamplingByTwoRepeatsEachPixel) {
  InterpolateOptions o;
  o.scale_factor = {2.0, 2.0};
  Upsample up(o);
  const Tensor x = from_vector(std::vector<double>{1, 2, 3, 4}, {1, 1, 2, 2});
  const Tensor expected = from_vector(
      std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, {1, 1, 4, 4});
  EXPECT_TRUE(tensors_close(up.forward(x), expected, 0, 0));
  EXPECT_EQ(up.extra_repr(), "scale_factor=(2, 2), mode=nearest");
  // Bilinear with align_corners keeps the corners and interpolates between them.
  InterpolateOptions b;
  b.size = {1, 3};
  b.mode = InterpolateMode::Bilinear;
  b.align_corners = true;
  const Tensor row = from_vector(std::vector<double>{0, 10}, {1, 1, 1, 2});
  EXPECT_TRUE(tensors_close(Upsample(b).forward(row),
                            from_vector(std::vector<double>{0, 5, 10}, {1, 1, 1, 3}), 1e-12, 0));
}

TEST(ResampleLayers, AmbiguousOrMeaninglessOptionsAreRefused) {
  InterpolateOptions both;
  both.size = {4, 4};
  both.scale_factor = {2, 2};
  EXPECT_THROW(Upsample{both}, Error);
  EXPECT_THROW(Upsample{InterpolateOptions{}}, Error);
  InterpolateOptions corners;
  corners.size = {4, 4};
  corners.align_corners = true;  // nearest
  EXPECT_THROW(Upsample{corners}, Error);
  InterpolateOptions tiny;
  tiny.scale_factor = {0.1, 0.1};
  try {
    interpolate(randn({1, 1, 4, 4}), tiny);
    FAIL() << "a scale giving no output was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gives no output"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tg::layers
