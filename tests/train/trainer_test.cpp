// The Trainer (train/trainer.h) on a small synthetic problem: the callbacks' order and
// arguments, accumulation equal to one large batch (float64), early stopping and the plateau
// schedule against the standalone classes, a resumed run bit for bit equal to the
// uninterrupted one, best-only checkpoints, predict, mixed precision's options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../../core/autocast.h"
#include "../../core/safetensors.h"
#include "../../train/train.h"
#include "../data/idx_files.h"
#include "../support/parity.h"
#include "train_case.h"

namespace tg::train {
namespace {

using testing::ScratchDir;
using testing::tiny_loader;
using testing::tiny_model;
using testing::weights_of;

// Writes every call with what it was given into a shared list.
struct Recorder : Callback {
  Recorder(std::string name, std::vector<std::string>& out) : name(std::move(name)), out(out) {}
  void on_train_begin(TrainState& s) override { add("train_begin", s); }
  void on_train_end(TrainState& s) override { add("train_end", s); }
  void on_epoch_begin(TrainState& s) override { add("epoch_begin", s); }
  void on_epoch_end(TrainState& s) override {
    std::string logs;
    for (const Logs::Entry& e : s.logs.entries()) logs += " " + e.name;
    add("epoch_end" + logs, s);
  }
  void on_batch_begin(TrainState& s) override { add("batch_begin", s); }
  void on_batch_end(TrainState& s) override { add("batch_end", s); }
  void after_backward(TrainState& s) override {
    add(std::string("after_backward") + (s.loss.defined() && s.loss.dim() == 0 ? " loss" : ""), s);
  }
  void after_step(TrainState& s) override { add("after_step " + std::to_string(s.step), s); }
  void add(const std::string& what, const TrainState& s) {
    out.push_back(name + " " + what + " @" + std::to_string(s.epoch) + "." +
                  std::to_string(s.batch));
  }
  std::string name;
  std::vector<std::string>& out;
};

TEST(Trainer, CallbacksRunInOrderWithTheirArguments) {
  auto model = tiny_model(1);
  optim::SGD opt(model->parameters(), optim::SGDParams{0.1});
  TrainerOptions options;
  options.epochs = 2;
  options.accumulate = 2;
  Trainer trainer(*model, opt, cross_entropy_loss(), options);
  std::vector<std::string> calls;
  trainer.add(std::make_shared<Recorder>("A", calls)).add(std::make_shared<Recorder>("B", calls));
  auto train = tiny_loader(30, 10, 3);  // 3 batches: steps after batches 1 and 2
  auto val = tiny_loader(12, 6, 4, false);
  trainer.fit(*train, val.get());
  const std::vector<std::string> first_epoch{
      "A train_begin @0.0",         "B train_begin @0.0",
      "A epoch_begin @1.0",         "B epoch_begin @1.0",
      "A batch_begin @1.0",         "B batch_begin @1.0",
      "A after_backward loss @1.0", "B after_backward loss @1.0",
      "A batch_end @1.0",           "B batch_end @1.0",
      "A batch_begin @1.1",         "B batch_begin @1.1",
      "A after_backward loss @1.1", "B after_backward loss @1.1",
      "A after_step 1 @1.1",        "B after_step 1 @1.1",
      "A batch_end @1.1",           "B batch_end @1.1",
      "A batch_begin @1.2",         "B batch_begin @1.2",
      "A after_backward loss @1.2", "B after_backward loss @1.2",
      "A after_step 2 @1.2",        "B after_step 2 @1.2",
      "A batch_end @1.2",           "B batch_end @1.2"};
  ASSERT_GE(calls.size(), first_epoch.size());
  EXPECT_EQ(std::vector<std::string>(calls.begin(), calls.begin() + first_epoch.size()),
            first_epoch);
  const std::string logs =
      " train_loss val_loss val_accuracy grad_norm lr seconds images_per_second";
  EXPECT_EQ(calls[first_epoch.size()], "A epoch_end" + logs + " @1.2");
  EXPECT_EQ(calls[first_epoch.size() + 1], "B epoch_end" + logs + " @1.2");
  EXPECT_EQ(calls.back(), "B train_end @2.2");
  EXPECT_EQ(trainer.state().step, 4);
  EXPECT_EQ(opt.steps(), 4);
}

// Three batches of 12 accumulated are one step on their 36 images (float64: to 1e-12).
TEST(Trainer, AccumulationEqualsOneLargeBatch) {
  std::vector<std::vector<double>> results;
  for (auto [batch, k] : {std::pair<int64_t, int>{36, 1}, {12, 3}}) {
    auto model = tiny_model(2, /*float64=*/true);
    optim::SGD opt(model->parameters(), optim::SGDParams{0.5, 0.9});
    TrainerOptions options;
    options.epochs = 3;
    options.accumulate = k;
    Trainer trainer(*model, opt, cross_entropy_loss(), options);
    auto train = tiny_loader(72, batch, 5);
    trainer.fit(*train);
    EXPECT_EQ(opt.steps(), 6) << "batch " << batch;
    std::vector<double> flat;
    for (const auto& w : weights_of(*model)) flat.insert(flat.end(), w.begin(), w.end());
    results.push_back(flat);
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t i = 0; i < results[0].size(); ++i)
    EXPECT_NEAR(results[1][i], results[0][i], 1e-12) << "element " << i;
}

// Captures a log each epoch (after the callbacks before it) and the rate afterwards.
struct Trace : Callback {
  void on_epoch_end(TrainState& s) override {
    values.push_back(s.logs.get("val_loss"));
    rates.push_back(s.optimizer->lr());
  }
  std::vector<double> values, rates;
};

TEST(Trainer, EarlyStoppingAndThePlateauScheduleAgreeWithTheStandaloneClasses) {
  auto model = tiny_model(3);
  optim::SGD opt(model->parameters(), optim::SGDParams{3.0, 0.9});  // too large: it wanders
  TrainerOptions options;
  options.epochs = 30;
  Trainer trainer(*model, opt, cross_entropy_loss(), options);
  optim::PlateauOptions plateau;
  plateau.patience = 1;
  plateau.factor = 0.5;
  auto schedule = std::make_unique<optim::ReduceLROnPlateau>(opt, plateau);
  trainer.add(
      std::make_shared<LrScheduler>(std::move(schedule), ScheduleTiming::PerEpoch, "val_loss"));
  auto early = std::make_shared<EarlyStopping>(EarlyStoppingOptions{"val_loss", 4, 0.0, false, ""});
  auto trace = std::make_shared<Trace>();
  trainer.add(early).add(trace);
  auto train = tiny_loader(60, 10, 6);
  auto val = tiny_loader(30, 10, 7, false);
  const TrainState& state = trainer.fit(*train, val.get());
  // The same values through the standalone classes.
  optim::EarlyStopping alone({4, 0.0, false});
  int stop_epoch = 0;
  for (size_t e = 0; e < trace->values.size() && stop_epoch == 0; ++e) {
    if (alone.update(trace->values[e])) stop_epoch = static_cast<int>(e) + 1;
  }
  ASSERT_GT(stop_epoch, 0) << "the run never stopped improving: no early stop to compare";
  EXPECT_EQ(state.epoch, stop_epoch);
  EXPECT_TRUE(early->stopped());
  EXPECT_EQ(state.stop_reason, "early_stop");
  auto other = tiny_model(3);
  optim::SGD other_opt(other->parameters(), optim::SGDParams{3.0, 0.9});
  optim::ReduceLROnPlateau reference(other_opt, plateau);
  for (size_t e = 0; e < trace->values.size(); ++e) {
    reference.step(trace->values[e]);
    EXPECT_EQ(trace->rates[e], other_opt.lr()) << "epoch " << e + 1;
  }
  EXPECT_LT(trace->rates.back(), 3.0) << "the plateau never reduced the rate";
}

// The model for the resume test has dropout: the generators' states must come back too.
std::shared_ptr<layers::Sequential> dropout_model() {
  using namespace layers;
  manual_seed(4);
  return sequential(
      {make<Flatten>(), make<Linear>(16, 8), make<ReLU>(), make<Dropout>(0.3), make<Linear>(8, 3)});
}

struct StopAt : Callback {
  explicit StopAt(int epoch) : epoch(epoch) {}
  void on_epoch_end(TrainState& s) override { s.stop = s.epoch >= epoch; }
  int epoch;
};

// Each way of clipping: a fixed global norm; a history of norms (its state travels in the
// checkpoint: a resumed run without it would clip differently); unit-wise AGC.
enum class Clipping { Norm, History, Agc };

TEST(Trainer, AResumedRunIsBitForBitTheUninterruptedOne) {
  for (Clipping clipping : {Clipping::Norm, Clipping::History, Clipping::Agc}) {
    SCOPED_TRACE("clipping " + std::to_string(static_cast<int>(clipping)));
    ScratchDir dir;
    const auto run = [&](int stop_at, const std::string& resume_from) {
      auto model = dropout_model();
      optim::AdamParams hyper;
      if (clipping == Clipping::Agc) hyper.unit_clip.agc_lambda = 0.01;
      optim::Adam opt(model->parameters(), hyper);
      TrainerOptions options;
      options.epochs = 4;
      if (clipping == Clipping::Norm) options.clip_norm = 1.0;
      if (clipping == Clipping::History) {
        optim::HistoryClipOptions history;
        history.percentile = 25;
        history.window = 7;  // wraps within the run
        options.clip_auto = history;
      }
      Trainer trainer(*model, opt, cross_entropy_loss(), options);
      auto train = tiny_loader(40, 8, 9);
      trainer.add(std::make_shared<LrScheduler>(
          std::make_unique<optim::CosineAnnealingLR>(opt, 4 * 5), ScheduleTiming::PerStep));
      trainer.add(std::make_shared<EarlyStopping>(EarlyStoppingOptions{"train_loss", 0}));
      trainer.add(std::make_shared<ModelCheckpoint>(dir.file("ck.st")));
      if (stop_at > 0) trainer.add(std::make_shared<StopAt>(stop_at));
      if (!resume_from.empty()) trainer.resume(resume_from, *train);
      trainer.fit(*train);
      return weights_of(*model);
    };
    const auto straight = run(0, "");
    run(2, "");
    const SafetensorsContents saved = load_safetensors(dir.file("ck.st"));
    EXPECT_EQ(find_state(saved.tensors, "progress.epoch").item<int64_t>(), 2);
    EXPECT_EQ(find_state(saved.tensors, "optimizer.clip_history.seen").defined(),
              clipping == Clipping::History);
    EXPECT_EQ(run(0, dir.file("ck.st")), straight);
  }
}

TEST(Trainer, ACheckpointOfAnotherRunIsRefusedBeforeAnythingLoads) {
  ScratchDir dir;
  auto model = tiny_model(5);
  optim::Adam adam(model->parameters());
  save_training_checkpoint(dir.file("ck.st"), *model, adam, nullptr, 1, {{"config.run", "a"}});
  auto train = tiny_loader(40, 8, 9);
  auto other = tiny_model(5);
  const auto before = weights_of(*other);
  optim::SGD sgd(other->parameters());
  Trainer trainer(*other, sgd, cross_entropy_loss(), TrainerOptions{3});
  EXPECT_NE(testing::error_of([&] {
              trainer.resume(dir.file("ck.st"), *train);
            }).find(dir.file("ck.st") + ": saved with optimizer Adam, resumed with SGD"),
            std::string::npos);
  // The caller's check sees the metadata first.
  EXPECT_NE(testing::error_of([&] {
              trainer.resume(dir.file("ck.st"), *train, [](const Metadata& m) {
                for (const auto& [key, value] : m)
                  TG_CHECK(key != "config.run" || value == "b", "another run: ", value);
              });
            }).find("another run: a"),
            std::string::npos);
  EXPECT_EQ(weights_of(*other), before);
}

TEST(Trainer, BestOnlyCheckpointsKeepTheBestEpoch) {
  ScratchDir dir;
  auto model = tiny_model(5);
  optim::SGD opt(model->parameters(), optim::SGDParams{2.0, 0.9});
  TrainerOptions options;
  options.epochs = 8;
  Trainer trainer(*model, opt, cross_entropy_loss(), options);
  auto best = std::make_shared<ModelCheckpoint>(dir.file("best.st"),
                                                CheckpointOptions{1, true, "val_loss", false});
  auto trace = std::make_shared<Trace>();
  trainer.add(trace).add(best);
  auto train = tiny_loader(60, 10, 6);
  auto val = tiny_loader(30, 10, 7, false);
  trainer.fit(*train, val.get());
  const auto lowest = std::min_element(trace->values.begin(), trace->values.end());
  const int best_epoch = static_cast<int>(lowest - trace->values.begin()) + 1;
  EXPECT_EQ(best->saved_epoch(), best_epoch);
  EXPECT_EQ(best->best(), *lowest);
  const SafetensorsContents saved = load_safetensors(dir.file("best.st"));
  EXPECT_EQ(find_state(saved.tensors, "progress.epoch").item<int64_t>(), best_epoch);
}

TEST(Trainer, PredictGivesEveryOutputInOrderAndBadOptionsAreRefused) {
  auto model = tiny_model(6);
  optim::SGD opt(model->parameters(), optim::SGDParams{0.1});
  Trainer trainer(*model, opt);
  auto loader = tiny_loader(25, 10, 1, false);
  const Tensor outputs = trainer.predict(*loader);
  EXPECT_EQ(outputs.shape(), (Shape{25, 3}));
  EXPECT_TRUE(model->is_training()) << "the model's mode is put back";
  TrainerOptions bad;
  bad.accumulate = 0;
  EXPECT_THROW(Trainer(*model, opt, cross_entropy_loss(), bad), Error);
  EXPECT_THROW(trainer.add(nullptr), Error);
}

// Mixed precision through the Trainer's options (core/autocast.h, optim/loss_scaler.h): the
// forward runs in the autocast scope and nothing after it does; the loss scaler is attached
// to the optimizer (so its state is in the optimizer's state dict), reachable for a step
// function of one's own, and logged after each epoch.
TEST(Trainer, MixedPrecisionOptionsRunTheForwardUnderAutocastAndScaleTheLoss) {
  auto model = tiny_model(5);
  optim::Adam opt(model->parameters(), optim::AdamParams{0.01});
  TrainerOptions options;
  options.epochs = 2;
  options.precision = DType::Float16;
  options.loss_scaler = optim::LossScalerOptions{};
  Trainer trainer(*model, opt, cross_entropy_loss(), options);
  std::vector<DType> seen;
  const HookHandle hook =
      model->register_forward_hook([&](layers::Module&, const Tensor&, const Tensor&) {
        seen.push_back(autocast_dtype(DeviceType::CPU));
        return Tensor();
      });
  auto train = tiny_loader(30, 10, 3);
  const TrainState& state = trainer.fit(*train);
  ASSERT_EQ(seen.size(), 6u);
  for (DType d : seen) EXPECT_EQ(d, DType::Float16);
  EXPECT_EQ(autocast_dtype(DeviceType::CPU), DType::Float32) << "the scope ends with the step";
  ASSERT_NE(trainer.loss_scaler(), nullptr);
  ASSERT_NE(opt.loss_scale_state(), nullptr);
  EXPECT_TRUE(trainer.loss_scaler()->scale_tensor().is_alias_of(opt.loss_scale_state()->scale));
  EXPECT_EQ(state.logs.get("loss_scale"), 65536.0);
  EXPECT_EQ(state.logs.get("skipped_steps"), 0.0);
  EXPECT_TRUE(find_state(opt.state_dict(), "loss_scaler.scale").defined());
  EXPECT_EQ(opt.steps(), 6);

  // Without the options: no scope, no scaler, nothing logged for it.
  auto plain_model = tiny_model(5);
  optim::Adam plain_opt(plain_model->parameters(), optim::AdamParams{0.01});
  Trainer plain(*plain_model, plain_opt, cross_entropy_loss(), TrainerOptions{});
  EXPECT_EQ(plain.loss_scaler(), nullptr);
  EXPECT_EQ(plain_opt.loss_scale_state(), nullptr);
  TrainerOptions bad;
  bad.precision = DType::Int64;
  EXPECT_THROW(Trainer(*plain_model, plain_opt, cross_entropy_loss(), bad), Error);
  // A step function of one's own would get no scope and unscaled gradients divided by the
  // scale: refused.
  const StepFunction own = [](const data::Batch&, double, TrainState&) { return Tensor(); };
  EXPECT_THROW(trainer.set_step_function(own), Error);
  EXPECT_NO_THROW(plain.set_step_function(own));
}

}  // namespace
}  // namespace tg::train
