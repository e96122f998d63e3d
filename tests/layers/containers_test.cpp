// ModuleList, ModuleDict and Embedding as layers: PyTorch's names (so a PyTorch state dict
// loads strictly), registration reaching parameters, to() and train(), the containers'
// refusals, Embedding's default initialisation and its padding row. The embedding op's
// values and gradients: the op table and tests/golden (PyTorch).
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

std::vector<std::string> names(const Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, t] : m.state_dict()) out.push_back(name);
  return out;
}

// A user's module holding a ModuleList and a ModuleDict, as one would in PyTorch.
struct Tower : Module {
  Tower() : Module("Tower") {
    blocks = module_list({make<Linear>(4, 4), make<BatchNorm1d>(4), make<Linear>(4, 4)});
    heads = module_dict({{"logits", make<Linear>(4, 3)}, {"value", make<Linear>(4, 1, false)}});
    register_module("blocks", blocks);
    register_module("heads", heads);
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = x;
    for (const auto& block : *blocks) h = (*block)(h);
    return (*(*heads)["logits"])(h);
  }
  std::shared_ptr<ModuleList> blocks;
  std::shared_ptr<ModuleDict> heads;
};

TEST(Containers, ChildrenAreNamedAsPytorchNamesThem) {
  Tower tower;
  EXPECT_EQ(
      names(tower),
      (std::vector<std::string>{
          "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "blocks.2.weight",
          "blocks.2.bias", "heads.logits.weight", "heads.logits.bias", "heads.value.weight",
          "blocks.1.running_mean", "blocks.1.running_var", "blocks.1.num_batches_tracked"}));
  EXPECT_EQ(tower.forward(randn({5, 4})).shape(), (Shape{5, 3}));
  tower.eval();
  EXPECT_FALSE((*tower.blocks)[1]->is_training());
  tower.to(DType::Float64);
  EXPECT_EQ(std::static_pointer_cast<Linear>((*tower.heads)["value"])->weight.dtype(),
            DType::Float64);
  EXPECT_EQ((*tower.blocks)[-1], (*tower.blocks)[2]);
  EXPECT_EQ(tower.heads->keys(), (std::vector<std::string>{"logits", "value"}));
  EXPECT_TRUE(tower.heads->contains("value"));
  EXPECT_FALSE(tower.heads->contains("policy"));
}

TEST(Containers, MistakesAreNamed) {
  ModuleList list{make<ReLU>()};
  EXPECT_NE(testing::error_of([&] { list(ones({2})); }).find("ModuleList has no forward"),
            std::string::npos);
  EXPECT_NE(testing::error_of([&] { list[1]; }).find("index 1 is out of range for 1 modules"),
            std::string::npos);
  EXPECT_NE(testing::error_of([&] {
              list.push_back(nullptr);
            }).find("ModuleList: a null module at index 1"),
            std::string::npos);
  ModuleDict dict{{"a", make<ReLU>()}};
  EXPECT_NE(testing::error_of([&] { dict["b"]; }).find("no module under 'b' (keys: a)"),
            std::string::npos);
  EXPECT_NE(
      testing::error_of([&] { dict.insert("a", make<ReLU>()); }).find("key 'a' is there already"),
      std::string::npos);
  EXPECT_NE(testing::error_of([&] {
              dict.insert("x.y", make<ReLU>());
            }).find("must be non-empty and without '.'"),
            std::string::npos);
  EXPECT_NE(testing::error_of([&] { dict(ones({2})); }).find("ModuleDict has no forward"),
            std::string::npos);
}

TEST(Embedding, InitialisesAsPytorchAndKeepsThePaddingRowOutOfTraining) {
  manual_seed(3);
  Embedding table(2000, 16, -1);  // padding_idx -1 is row 1999
  EXPECT_EQ(names(table), std::vector<std::string>{"weight"});
  EXPECT_EQ(table.extra_repr(), "2000, 16, padding_idx=1999");
  const Tensor w = table.weight.detach().to(DType::Float64);
  // N(0, 1) over 1999 rows (standard errors of the mean and variance about 0.006 and 0.008).
  const Tensor body = w.slice(0, 0, 1999);
  EXPECT_NEAR(mean(body).item<double>(), 0.0, 0.03);
  EXPECT_NEAR(mean(mul(body, body)).item<double>(), 1.0, 0.04);
  EXPECT_EQ(sum(abs(w.select(0, 1999))).item<double>(), 0.0);

  const Tensor idx = from_vector(std::vector<int64_t>{3, 1999, 3, 0}, {2, 2});
  const Tensor out = table(idx);
  EXPECT_EQ(out.shape(), (Shape{2, 2, 16}));
  sum(out).backward();
  const Tensor g = table.weight.grad().to(DType::Float64);
  EXPECT_EQ(sum(g.select(0, 3)).item<double>(), 32.0);  // two lookups of row 3
  EXPECT_EQ(sum(g.select(0, 0)).item<double>(), 16.0);
  EXPECT_EQ(sum(abs(g.select(0, 1999))).item<double>(), 0.0);  // the padding row: none
}

TEST(Embedding, BadArgumentsAndIndicesAreNamed) {
  EXPECT_NE(testing::error_of([] {
              Embedding(0, 3);
            }).find("num_embeddings and embedding_dim must be >= 1, got 0 and 3"),
            std::string::npos);
  EXPECT_NE(testing::error_of([] {
              Embedding(5, 3, 5);
            }).find("padding_idx 5 is out of range for 5 embeddings"),
            std::string::npos);
  Embedding table(5, 3);
  EXPECT_NE(testing::error_of([&] {
              table(from_vector(std::vector<int64_t>{1, 5}));
            }).find("index 5 at position 1 is out of range [0, 5)"),
            std::string::npos);
  EXPECT_NE(testing::error_of([&] { table(ones({2})); }).find("embedding: indices must be int64"),
            std::string::npos);
}

}  // namespace
}  // namespace tg::layers
