// Model files (layers/checkpoint.h): a round trip into a fresh model, and a file that does
// not fit the model (missing key, shape or dtype difference) refused naming the file and
// each problem, the model unchanged.
#include <gtest/gtest.h>

#include <cmath>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../layers/layers.h"
#include "../support/parity.h"
#include "../support/scratch_dir.h"

namespace tg::layers {
namespace {

std::shared_ptr<Sequential> net(int64_t hidden = 8) {
  return sequential(
      {make<Linear>(4, hidden), make<BatchNorm1d>(hidden), make<ReLU>(), make<Linear>(hidden, 3)});
}

TEST(ModelFile, RoundTripIntoAFreshModel) {
  const testing::ScratchDir scratch;
  manual_seed(1);
  auto a = net();
  a->forward(randn({5, 4}));  // running statistics and num_batches_tracked move
  const std::string path = scratch.file("a.safetensors");
  save_model(*a, path, {{"model", "net"}});
  manual_seed(2);
  auto b = net();
  const Metadata metadata = load_model(*b, path);
  EXPECT_EQ(metadata, (Metadata{{"model", "net"}}));
  const NamedTensors sa = a->state_dict(), sb = b->state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_TRUE(testing::tensors_bitwise_equal(sb[i].second, sa[i].second)) << sa[i].first;
  }
}

TEST(ModelFile, AFileThatDoesNotFitIsRefusedAndChangesNothing) {
  const testing::ScratchDir scratch;
  const std::string path = scratch.file("wide.safetensors");
  save_model(*net(16), path);
  auto model = net();
  const NamedTensors before = [&] {
    NamedTensors copy;
    for (const auto& [n, t] : model->state_dict()) copy.emplace_back(n, t.clone());
    return copy;
  }();
  const std::string m = testing::error_of([&] { load_model(*model, path); });
  EXPECT_NE(m.find(path + ": Sequential.load_state_dict: 7 problem(s), nothing loaded"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("key '0.weight': shape [16, 4] given, expected [8, 4]"), std::string::npos);

  const std::string doubles = scratch.file("f64.safetensors");
  auto wide = net();
  wide->to(DType::Float64);
  save_model(*wide, doubles);
  const std::string d = testing::error_of([&] { load_model(*model, doubles); });
  EXPECT_NE(d.find("key '0.weight': dtype float64 given, expected float32"), std::string::npos)
      << d;

  const std::string partial = scratch.file("partial.safetensors");
  save_safetensors(partial, {{"0.weight", zeros({8, 4})}});
  EXPECT_NE(testing::error_of([&] { load_model(*model, partial); }).find("missing key '0.bias'"),
            std::string::npos);
  load_model(*model, partial, /*strict=*/false);  // loads the one key it has
  EXPECT_EQ(sum(abs(model->state_dict()[0].second)).item<float>(), 0.0f);
  for (size_t i = 1; i < before.size(); ++i) {
    EXPECT_TRUE(testing::tensors_bitwise_equal(model->state_dict()[i].second, before[i].second))
        << before[i].first;
  }
}

// NaN or infinite weights once loaded in silence and trained to chance accuracy: refused by
// name, the model unchanged, unless asked for.
TEST(ModelFile, NonFiniteWeightsAreRefusedByNameUnlessAllowed) {
  const testing::ScratchDir scratch;
  manual_seed(3);
  auto model = net();
  NamedTensors state = model->state_dict();
  state[0].second = full(state[0].second.shape(), std::nan(""));  // 0.weight: 32 NaN
  Tensor bias = zeros({3});
  bias.data_ptr<float>()[1] = INFINITY;
  for (auto& [name, t] : state) {
    if (name == "3.bias") t = bias;  // one infinity
  }
  const std::string path = scratch.file("nan.safetensors");
  save_safetensors(path, state);
  const Tensor before = model->state_dict()[0].second.clone();
  const std::string m = testing::error_of([&] { load_model(*model, path); });
  EXPECT_NE(m.find(path + ": non-finite values (NaN or infinity) in 0.weight (32 of 32), "
                          "3.bias (1 of 3); the model is unchanged"),
            std::string::npos)
      << m;
  EXPECT_TRUE(testing::tensors_bitwise_equal(model->state_dict()[0].second, before));
  load_model(*model, path, /*strict=*/true, /*allow_non_finite=*/true);
  EXPECT_TRUE(std::isnan(model->state_dict()[0].second.data_ptr<float>()[0]));
}

}  // namespace
}  // namespace tg::layers
