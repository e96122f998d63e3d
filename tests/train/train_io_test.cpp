// The training package's writers and readers: the metrics log read back by a JSON parser
// and a CSV split, classification metrics against counts made by hand, weights saved and
// loaded back under renamed keys, value clipping, and the non-finite loss stop.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../../core/ops.h"
#include "../../train/train.h"
#include "../data/idx_files.h"
#include "../support/parity.h"
#include "train_case.h"

namespace tg::train {
namespace {

using testing::error_of;
using testing::ScratchDir;
using testing::tiny_loader;
using testing::tiny_model;

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Adds a JSON value to the logs, as the gradient monitor adds its alarms.
struct Notes : Callback {
  void on_epoch_end(TrainState& s) override {
    s.logs.set_json("notes", "[\"epoch " + std::to_string(s.epoch) + "\"]");
  }
};

TEST(MetricsLog, JsonLinesAndCsvReadBackAsWritten) {
  ScratchDir dir;
  auto model = tiny_model(1);
  optim::SGD opt(model->parameters(), optim::SGDParams{0.5});
  TrainerOptions options;
  options.epochs = 3;
  Trainer trainer(*model, opt, cross_entropy_loss(), options);
  trainer.add(std::make_shared<Notes>())
      .add(std::make_shared<MetricsLog>(dir.file("m.jsonl")))
      .add(std::make_shared<MetricsLog>(dir.file("m.csv")));
  auto train = tiny_loader(30, 10, 2);
  auto val = tiny_loader(20, 10, 3, false);
  trainer.fit(*train, val.get());
  const std::vector<std::string> json = lines_of(dir.file("m.jsonl"));
  const std::vector<std::string> csv = lines_of(dir.file("m.csv"));
  ASSERT_EQ(json.size(), 3u);
  ASSERT_EQ(csv.size(), 4u);
  EXPECT_EQ(csv[0],
            "epoch,train_loss,val_loss,val_accuracy,grad_norm,lr,seconds,images_per_second");
  for (int e = 0; e < 3; ++e) {
    const nlohmann::json row = nlohmann::json::parse(json[e]);  // throws if not JSON
    EXPECT_EQ(row["epoch"].get<int>(), e + 1);
    EXPECT_EQ(row["notes"][0].get<std::string>(), "epoch " + std::to_string(e + 1));
    std::vector<std::string> cells;
    std::istringstream fields(csv[e + 1]);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 8u) << csv[e + 1];
    EXPECT_EQ(std::stoi(cells[0]), e + 1);
    const char* keys[] = {"train_loss", "val_loss", "val_accuracy", "grad_norm", "lr"};
    for (int k = 0; k < 5; ++k) {
      const double in_json = row[keys[k]].get<double>();
      EXPECT_NEAR(std::stod(cells[k + 1]), in_json, 1e-5 * std::fabs(in_json) + 1e-12) << keys[k];
    }
  }
}

TEST(ClassificationMetrics, CountsAgainstAHandMadeCase) {
  // Five samples, three classes; rows are outputs, the comment the ranking.
  const Tensor outputs = from_vector<float>({0.9f, 0.05f, 0.05f,  // 0 > 1 = 2
                                             0.2f, 0.5f, 0.3f,    // 1 > 2 > 0
                                             0.1f, 0.3f, 0.6f,    // 2 > 1 > 0
                                             0.5f, 0.4f, 0.1f,    // 0 > 1 > 2
                                             0.3f, 0.3f, 0.4f},   // 2 > 0 = 1
                                            {5, 3});
  const Tensor targets = from_vector<int64_t>({0, 2, 2, 1, 1});
  ClassificationMetrics m(3, 2);
  m.add(outputs, targets, 2.5);
  EXPECT_EQ(m.count(), 5);
  EXPECT_DOUBLE_EQ(m.loss(), 0.5);
  EXPECT_DOUBLE_EQ(m.accuracy(), 2.0 / 5);  // samples 0 and 2
  // Top 2: sample 1 (target 2 second), sample 3 (target 1 second); sample 4's target 1 ties
  // class 0 for second place and loses the tie (the lower index ranks first).
  EXPECT_DOUBLE_EQ(m.top_k_accuracy(), 4.0 / 5);
  const std::vector<int64_t> expected{1, 0, 0,   // true 0: predicted 0
                                      1, 0, 1,   // true 1: predicted 0 (sample 3), 2 (4)
                                      0, 1, 1};  // true 2: predicted 1 (sample 1), 2 (2)
  EXPECT_EQ(m.confusion(), expected);
  const std::vector<double> per_class = m.per_class_accuracy();
  EXPECT_DOUBLE_EQ(per_class[0], 1.0);
  EXPECT_DOUBLE_EQ(per_class[1], 0.0);
  EXPECT_DOUBLE_EQ(per_class[2], 0.5);
  EXPECT_NE(error_of([&] {
              m.add(outputs, from_vector<int64_t>({0, 1, 2, 3, 0}), 0);
            }).find("target 3 at position 3 is not a class index in [0, 3)"),
            std::string::npos);
}

TEST(Weights, SavedWeightsLoadBackUnderRenamedKeysAndBadFilesAreRefused) {
  ScratchDir dir;
  auto source = tiny_model(7);
  save_weights(*source, dir.file("plain.st"));
  NamedTensors prefixed;
  for (const auto& [name, t] : source->state_dict()) prefixed.emplace_back("net." + name, t);
  save_safetensors(dir.file("prefixed.st"), prefixed);
  auto target = tiny_model(8);
  EXPECT_NE(testing::weights_of(*target), testing::weights_of(*source));
  load_weights(*target, dir.file("plain.st"));
  EXPECT_EQ(testing::weights_of(*target), testing::weights_of(*source));
  auto renamed = tiny_model(9);
  const std::string m = error_of([&] { load_weights(*renamed, dir.file("prefixed.st")); });
  EXPECT_NE(m.find("missing key '1.weight'"), std::string::npos) << m;
  WeightsOptions options;
  options.rename = parse_rename("net.=");
  load_weights(*renamed, dir.file("prefixed.st"), options);
  EXPECT_EQ(testing::weights_of(*renamed), testing::weights_of(*source));
  EXPECT_EQ(parse_rename("a.=b.,c=").size(), 2u);
  EXPECT_NE(error_of([] { parse_rename("nonsense"); }).find("must read from=to"),
            std::string::npos);
}

TEST(Optimizer, ClipGradValueClampsEveryGradientElement) {
  Tensor w = from_vector<float>({1, 2, 3, 4}).requires_grad_();
  optim::SGD opt({w}, optim::SGDParams{1.0});
  sum(mul(w, from_vector<float>({-5, 0.5, 3, -0.1}))).backward();
  opt.clip_grad_value(1.0);
  const Tensor g = w.grad().contiguous();
  EXPECT_EQ(std::vector<float>(g.data_ptr<float>(), g.data_ptr<float>() + 4),
            (std::vector<float>{-1, 0.5, 1, -0.1f}));
  EXPECT_THROW(opt.clip_grad_value(0), Error);
}

TEST(TerminateOnNonFinite, StopsAtTheFirstNonFiniteLossNamingIt) {
  auto model = tiny_model(10);
  optim::SGD opt(model->parameters(), optim::SGDParams{1e30, 0.9});
  TrainerOptions options;
  options.epochs = 3;
  Trainer trainer(*model, opt, cross_entropy_loss(), options);
  trainer.add(std::make_shared<TerminateOnNonFinite>());
  auto train = tiny_loader(40, 10, 11);
  std::string m;
  try {
    trainer.fit(*train);
  } catch (const NonFiniteLoss& e) {
    m = e.what();
  }
  EXPECT_NE(m.find("the training loss became NaN at epoch 1, batch 2 of 4"), std::string::npos)
      << m;
}

}  // namespace
}  // namespace tg::train
