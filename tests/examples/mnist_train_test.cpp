// mnist_train end to end on a small generated data set (300 training images, 100 test):
// losses against recorded values, reruns with the same seed (and with one thread) equal to
// the printed precision, the JSON lines, a resumed run bit for bit equal to an
// uninterrupted one, and the exit code and message for bad flags, data and checkpoints.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <algorithm>

#include <cmath>
#include <fstream>
#include <sstream>

#include "../../core/device.h"
#include "../../core/safetensors.h"
#include "../data/idx_files.h"
#include "../support/parity.h"
#include "program_runner.h"

namespace tg {
namespace {

using testing::metric;
using testing::metric_text;
using testing::Outcome;
using testing::run;
using testing::ScratchDir;
using testing::slurp;
using testing::train_losses;

TEST(MnistTrain, TrainsBothModelsReproduciblyWithRecordedLosses) {
  ScratchDir data;
  testing::write_mnist(data, 300, 100);
  struct Case {
    std::string flags;
    std::vector<double> recorded;  // train loss per epoch, from a run of this build
  };
  const std::vector<Case> cases{
      {"--model mlp --epochs 3 --batch 32", {1.96935, 0.626158, 0.189797}},
      {"--model cnn --epochs 2 --batch 50 --optimizer momentum --clip-norm 1", {2.28126, 1.81345}},
      {"--model mlp --epochs 2 --batch 64 --optimizer adamw --schedule onecycle",
       {2.24331, 1.68363}},
  };
  for (const Case& c : cases) {
    const std::string flags = c.flags + " --device cpu --seed 3 --data " + data.path() +
                              " --metrics " + data.file("metrics");
    const Outcome first = run(data, flags);
    ASSERT_EQ(first.exit_code, 0) << c.flags << "\n" << first.out << first.err;
    const std::vector<std::string> losses = train_losses(slurp(data.file("metrics")));
    ASSERT_EQ(losses.size(), c.recorded.size()) << c.flags;
    for (size_t e = 0; e < losses.size(); ++e) {
      EXPECT_NEAR(std::stod(losses[e]), c.recorded[e], 5e-3 * c.recorded[e])
          << c.flags << ", epoch " << e + 1;
    }
    const std::string last_line = first.out.substr(first.out.rfind('{'));
    EXPECT_NE(last_line.find("\"test_accuracy\": "), std::string::npos) << last_line;
    EXPECT_NE(last_line.find("\"device\": \"cpu\""), std::string::npos) << last_line;
    EXPECT_NE(last_line.find("\"seed\": 3"), std::string::npos) << last_line;
    run(data, flags);
    EXPECT_EQ(train_losses(slurp(data.file("metrics"))), losses) << c.flags << ": a rerun differs";
    run(data, flags + " --threads 1");
    EXPECT_EQ(train_losses(slurp(data.file("metrics"))), losses)
        << c.flags << ": one thread differs";
    // Subnormals flushed to zero: the same losses within the recorded tolerance.
    const Outcome flushed = run(data, flags + " --flush-denormal");
    ASSERT_EQ(flushed.exit_code, 0) << flushed.err;
    const std::vector<std::string> flushed_losses = train_losses(slurp(data.file("metrics")));
    ASSERT_EQ(flushed_losses.size(), c.recorded.size()) << c.flags;
    for (size_t e = 0; e < flushed_losses.size(); ++e) {
      EXPECT_NEAR(std::stod(flushed_losses[e]), c.recorded[e], 5e-3 * c.recorded[e])
          << c.flags << " --flush-denormal, epoch " << e + 1;
    }
  }
}

TEST(MnistTrain, AResumedRunIsBitForBitTheUninterruptedOne) {
  ScratchDir data;
  testing::write_mnist(data, 300, 100);
  // The CNN has BatchNorm and dropout; Adam with clipping and a per-batch schedule.
  const std::string flags =
      "--model cnn --batch 50 --optimizer adam --clip-norm 0.5 "
      "--schedule onecycle --device cpu --seed 5 --data " +
      data.path();
  const SafetensorsContents a = testing::expect_resumed_run_is_the_straight_one(data, flags);
  ASSERT_FALSE(a.tensors.empty());
  // What the file holds, under the names the format promises.
  for (const char* name :
       {"model.0.weight", "model.1.num_batches_tracked", "optimizer.0.weight.exp_avg_sq",
        "optimizer.param_groups.0.step", "schedule.step", "generator.cpu", "progress.epoch"}) {
    EXPECT_TRUE(find_state(a.tensors, name).defined()) << name;
  }
  EXPECT_EQ(find_state(a.tensors, "progress.epoch").item<int64_t>(), 3);

  // A checkpoint that does not fit the flags: refused before anything is loaded (exit 2),
  // naming the file and every flag that differs. (The library's own checks behind it, the
  // optimizer's kind and the model's shapes: tests/train/trainer_test.cpp and
  // tests/layers/checkpoint_test.cpp.)
  const Outcome other = run(data, "--model cnn --optimizer sgd --epochs 4 --device cpu --data " +
                                      data.path() + " --resume " + data.file("b.st"));
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("--resume " + data.file("b.st") +
                           ": this run's flags differ from the checkpoint's"),
            std::string::npos)
      << other.err;
  EXPECT_NE(other.err.find("--optimizer sgd (the checkpoint's: adam)"), std::string::npos)
      << other.err;
  const Outcome mlp = run(data,
                          "--model mlp --epochs 4 --device cpu --schedule onecycle "
                          "--data " +
                              data.path() + " --resume " + data.file("b.st"));
  EXPECT_EQ(mlp.exit_code, 2);
  EXPECT_NE(mlp.err.find("--model mlp (the checkpoint's: cnn)"), std::string::npos) << mlp.err;
}

TEST(MnistTrain, AccumulatingKBatchesIsOneStepOfKTimesTheBatch) {
  ScratchDir data;
  testing::write_mnist(data, 300, 100);
  // No dropout: K forward passes draw other masks than one pass over the K·batch images.
  const std::string flags =
      "--model mlp --dropout 0 --epochs 2 --device cpu --seed 4 "
      "--clip-norm 5 --data " +
      data.path();
  ASSERT_EQ(run(data, flags + " --batch 60 --metrics " + data.file("big")).exit_code, 0);
  const Outcome r = run(data, flags + " --batch 20 --accumulate 3 --metrics " + data.file("acc"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* key : {"train_loss", "test_loss", "grad_norm"}) {
    const std::vector<double> big = metric(slurp(data.file("big")), key);
    const std::vector<double> acc = metric(slurp(data.file("acc")), key);
    ASSERT_EQ(big.size(), 2u) << key;
    ASSERT_EQ(acc.size(), 2u) << key;
    for (size_t e = 0; e < 2; ++e) EXPECT_NEAR(acc[e], big[e], 1e-4 * big[e]) << key << " " << e;
  }
  // Without accumulation the 20-image run takes 3x the steps: clearly another trajectory.
  ASSERT_EQ(run(data, flags + " --batch 20 --metrics " + data.file("small")).exit_code, 0);
  EXPECT_GT(std::fabs(metric(slurp(data.file("small")), "test_loss")[1] -
                      metric(slurp(data.file("big")), "test_loss")[1]),
            1e-3);
}

// The inputs are normalised with the data set's statistics (measured on these generated
// images, which are neither Fashion-MNIST nor MNIST) unless --norm-mean/--norm-std say
// otherwise; the schedule is cosine unless --schedule says otherwise.
TEST(MnistTrain, NormalizationAndScheduleDefaultsAndFlags) {
  ScratchDir data;
  testing::write_mnist(data, 300, 100);
  const std::string flags =
      "--model mlp --epochs 2 --device cpu --data " + data.path() + " --metrics " + data.file("m");
  const Outcome plain = run(data, flags);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(
      plain.out.find("inputs (pixel / 255 - 0.2658) / 0.1570 (measured on the training "
                     "images: neither Fashion-MNIST nor MNIST), learning-rate schedule cosine"),
      std::string::npos)
      << plain.out;
  EXPECT_NE(plain.out.find("\"schedule\": \"cosine\""), std::string::npos) << plain.out;
  const std::vector<double> lr = metric(slurp(data.file("m")), "lr");
  ASSERT_EQ(lr.size(), 2u);
  EXPECT_LT(lr[1], 1e-9);  // the rate after the last batch: the cosine has reached 0
  const std::vector<double> base = metric(slurp(data.file("m")), "test_loss");
  const Outcome other = run(data, flags + " --norm-mean 0.5 --norm-std 0.25");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(other.out.find("inputs (pixel / 255 - 0.5000) / 0.2500 (--norm-mean/--norm-std; the "
                           "training images measure 0.2658 / 0.1570)"),
            std::string::npos)
      << other.out;
  const std::vector<double> moved = metric(slurp(data.file("m")), "test_loss");
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_GT(std::fabs(moved[1] - base[1]), 1e-3) << "other statistics changed nothing";
  const Outcome constant = run(data, flags + " --schedule none");
  ASSERT_EQ(constant.exit_code, 0) << constant.err;
  EXPECT_NE(constant.out.find("learning-rate schedule none"), std::string::npos) << constant.out;
  EXPECT_EQ(metric(slurp(data.file("m")), "lr"), std::vector<double>(2, 1e-3));
}

TEST(MnistTrain, InitAugmentClipValueAndEarlyStopChangeTheRunAsTheySay) {
  ScratchDir data;
  testing::write_mnist(data, 300, 100);
  const std::string flags = "--model mlp --epochs 2 --batch 50 --device cpu --seed 2 --data " +
                            data.path() + " --metrics " + data.file("m");
  ASSERT_EQ(run(data, flags).exit_code, 0);
  const std::vector<double> base = metric(slurp(data.file("m")), "train_loss");
  const double unclipped = metric(slurp(data.file("m")), "grad_norm").back();
  for (const std::string extra : {"--init xavier", "--init kaiming", "--init orthogonal"}) {
    const Outcome r = run(data, flags + " " + extra);
    ASSERT_EQ(r.exit_code, 0) << extra << "\n" << r.err;
    const std::vector<double> other = metric(slurp(data.file("m")), "train_loss");
    ASSERT_EQ(other.size(), 2u) << extra;
    EXPECT_GT(std::fabs(other[0] - base[0]), 1e-3) << extra << " changed nothing";
  }
  // Every gradient element clamped to 1e-5: the last step's norm (measured after the
  // clamp) is at most 1e-5·sqrt(parameters), far below the unclipped one.
  const double bound = 1e-5 * std::sqrt(784.0 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
  ASSERT_EQ(run(data, flags + " --clip-value 0.00001").exit_code, 0);
  const double clipped = metric(slurp(data.file("m")), "grad_norm").back();
  EXPECT_LE(clipped, bound);
  EXPECT_GT(unclipped, 2 * bound);
  // A rate too small to move the weights: the test loss never improves after epoch 1.
  const Outcome stopped =
      run(data,
          "--model mlp --optimizer sgd --lr 1e-30 --epochs 6 --early-stop 2 --device cpu "
          "--data " +
              data.path());
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_NE(stopped.out.find("early stop after epoch 3: the test loss has not improved for 2 "
                             "epochs (best "),
            std::string::npos)
      << stopped.out;
  EXPECT_NE(stopped.out.find("\"epochs\": 3, \"early_stopped\": true"), std::string::npos)
      << stopped.out;
  // Interrupted after epoch 2 and resumed: the early-stop state comes back with the
  // checkpoint, so the run still stops after epoch 3.
  const std::string tiny =
      "--model mlp --optimizer sgd --lr 1e-30 --epochs 6 --early-stop 2 "
      "--device cpu --data " +
      data.path() + " --checkpoint " + data.file("es.st");
  ASSERT_EQ(run(data, tiny + " --stop-after 2").exit_code, 0);
  const Outcome resumed = run(data, tiny + " --resume " + data.file("es.st"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("early stop after epoch 3"), std::string::npos) << resumed.out;
  // --restore-best: a constant rate large enough to make the test loss worse after its best
  // epoch; the run ends with that epoch's weights, so its final test loss is the smallest one.
  const Outcome restored = run(data,
                               "--model mlp --optimizer adam --lr 0.3 --schedule none --epochs 6 "
                               "--restore-best --device cpu --metrics " +
                                   data.file("best.jsonl") + " --data " + data.path());
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  const std::vector<double> losses = metric(slurp(data.file("best.jsonl")), "test_loss");
  ASSERT_EQ(losses.size(), 6u);
  const auto best = std::min_element(losses.begin(), losses.end());
  ASSERT_NE(best, losses.end() - 1) << "the last epoch was the best: nothing to restore";
  EXPECT_NE(restored.out.find("restored the weights of epoch " +
                              std::to_string(best - losses.begin() + 1)),
            std::string::npos)
      << restored.out;
  const std::vector<double> final_loss = metric(restored.out, "test_loss");
  ASSERT_FALSE(final_loss.empty());
  EXPECT_NEAR(final_loss.back(), *best, 1e-5 * *best) << restored.out;
}

TEST(MnistTrain, BadFlagsExitWithCodeTwoNamingTheFlag) {
  ScratchDir data;
  testing::write_mnist(data, 20, 10);
  const std::string base = " --epochs 1 --data " + data.path();
  struct Case {
    std::string flags, expected;
  };
  std::vector<Case> cases{
      {"--optimizer adamax", "--optimizer: adamax not in {"},
      {"--model resnet", "--model: resnet not in {mlp,cnn}"},
      {"--lr -1", "--lr: must be in (0, inf), got -1"},
      {"--dropout 1", "--dropout: must be in [0, 1), got 1"},
      {"--batch 0", "--batch: Value 0 not in range"},
      {"--device tpu", "--device tpu: valid values are cpu, cuda, cuda:N, auto"},
      {"--data /nonexistent/dir", "--data: data directory /nonexistent/dir does not exist"},
      {"--epochs", "--epochs: 1 required"},
      {"--schedule linear", "--schedule: linear not in {"},
      {"--schedule step --warmup 2", "--warmup needs --schedule cosine"},
      {"--norm-std 0", "--norm-std: must be in (0, inf), got 0"},
      {"--init he", "--init: he not in {default,xavier,kaiming,orthogonal}"},
      {"--augment rotate", "--augment: rotate not in {none,crop,flip,both}"},
      {"--accumulate 0", "--accumulate: Value 0 not in range"},
      {"--clip-value -1", "--clip-value: must be in (0, inf), got -1"},
      {"--schedule cosine --warmup 1", "--warmup 1: must be below --epochs (1)"},
  };
  if (cuda_device_count() == 0) cases.push_back({"--device cuda", "--device cuda: "});
  for (const Case& c : cases) {
    const Outcome r =
        run(data, (c.flags.rfind("--data", 0) == 0 ? " --epochs 1 " : base + " ") + c.flags);
    EXPECT_EQ(r.exit_code, 2) << c.flags << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos)
        << c.flags << ": expected '" << c.expected << "' in: " << r.err;
  }
  EXPECT_EQ(run(data, "--help").exit_code, 0);
}

// --save-model writes the final weights; --init-from with --evaluate reads them back and
// gives the run's own test numbers.
TEST(MnistTrain, SavedWeightsEvaluateToTheRunsOwnNumbers) {
  ScratchDir data;
  testing::write_mnist(data, 300, 100);
  const std::string base = "--device cpu --data " + data.path();
  const Outcome trained =
      run(data, "--epochs 2 --batch 50 --save-model " + data.file("w.safetensors") + " " + base);
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const Outcome evaluated =
      run(data, "--evaluate --init-from " + data.file("w.safetensors") + " " + base);
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  for (const char* key : {"test_accuracy", "test_loss"}) {
    EXPECT_EQ(metric_text(evaluated.out, key), metric_text(trained.out, key)) << key;
  }
  EXPECT_NE(evaluated.out.find("\"top5_accuracy\": "), std::string::npos) << evaluated.out;
  const Outcome alone = run(data, "--evaluate " + base);
  EXPECT_EQ(alone.exit_code, 2);
  EXPECT_NE(alone.err.find("--evaluate requires --init-from"), std::string::npos) << alone.err;
}

TEST(MnistTrain, BadDataExitsWithCodeOneNamingTheFile) {
  ScratchDir data;
  testing::write_mnist(data, 20, 10);
  testing::write_gzip(data.file("train-labels-idx1-ubyte.gz"),
                      testing::idx_bytes({19}, std::string(19, '\1')));
  const Outcome r = run(data, "--epochs 1 --device cpu --data " + data.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("train-images-idx3-ubyte.gz holds 20 images but"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find('{'), std::string::npos) << "no summary after a failure";
}

}  // namespace
// examples/ensemble.cpp: every model's accuracy, the averaged predictions', EMA's and SWA's
// in its summary; a bad flag exits 2 naming it.
TEST(Ensemble, ReportsMembersAveragedPredictionsEmaAndSwa) {
  ScratchDir data;
  testing::write_mnist(data, 200, 50);
  const Outcome r = run(
      data, "--members 2 --epochs 2 --swa-from 1 --device cpu --data " + data.path(), TG_ENSEMBLE);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* key :
       {"members", "mean_member_accuracy", "ensemble_accuracy", "ema_accuracy", "swa_accuracy"}) {
    EXPECT_NE(r.out.find(std::string("\"") + key + "\": "), std::string::npos) << key << r.out;
  }
  EXPECT_NE(r.out.find("member 1 SWA (2 epoch ends)"), std::string::npos) << r.out;
  const double accuracy = metric(r.out, "ensemble_accuracy").at(0);
  EXPECT_GE(accuracy, 0.0);
  EXPECT_LE(accuracy, 1.0);
  const Outcome bad =
      run(data, "--epochs 2 --swa-from 3 --device cpu --data " + data.path(), TG_ENSEMBLE);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--swa-from 3 is past the last epoch"), std::string::npos) << bad.err;
}

// examples/hparam_search.cpp: a small grid, ranked by validation loss and written as CSV; a
// random search repeats itself from its seed.
TEST(HparamSearch, RanksAGridAndRepeatsARandomSearch) {
  ScratchDir data;
  testing::write_mnist(data, 300, 50);
  const std::string common = " --epochs 2 --patience 1 --val 60 --device cpu --data " + data.path();
  const Outcome grid = run(data,
                           "--search grid --lr 0.001,0.003 --weight-decay 0 --dropout 0.1 --csv " +
                               data.file("grid.csv") + common,
                           TG_HPARAM_SEARCH);
  ASSERT_EQ(grid.exit_code, 0) << grid.err;
  std::istringstream csv(slurp(data.file("grid.csv")));
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header, "rank,lr,weight_decay,dropout,val_loss,val_accuracy,best_epoch,epochs");
  std::vector<double> losses;
  while (std::getline(csv, line)) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 8u) << line;
    losses.push_back(std::stod(cells[4]));
  }
  ASSERT_EQ(losses.size(), 2u);
  EXPECT_LE(losses[0], losses[1]) << "ranked by validation loss";
  EXPECT_NE(grid.out.find("\"best_val_loss\": "), std::string::npos) << grid.out;
  const std::string random = "--search random --trials 2 --seed 5 --csv ";
  ASSERT_EQ(run(data, random + data.file("r1.csv") + common, TG_HPARAM_SEARCH).exit_code, 0);
  ASSERT_EQ(run(data, random + data.file("r2.csv") + common, TG_HPARAM_SEARCH).exit_code, 0);
  EXPECT_EQ(slurp(data.file("r1.csv")), slurp(data.file("r2.csv")));
  const Outcome bad = run(data, "--val 400" + common, TG_HPARAM_SEARCH);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--val"), std::string::npos) << bad.err;
  // Flags of the other kind of search are refused, not ignored.
  const Outcome mixed = run(data, "--search random --lr 0.1" + common, TG_HPARAM_SEARCH);
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("--lr lists grid values; --search random draws its own"),
            std::string::npos)
      << mixed.err;
  const Outcome trials = run(data, "--search grid --trials 3" + common, TG_HPARAM_SEARCH);
  EXPECT_EQ(trials.exit_code, 2);
  EXPECT_NE(trials.err.find("--trials counts the draws of --search random"), std::string::npos)
      << trials.err;
}

}  // namespace tg
