// What mnist_train once accepted in silence (issue 25), each now refused with a message
// naming what was wrong: flags (exit 2), files it cannot write (exit 2, before training),
// a non-finite training loss (exit 1, naming the epoch and batch), and checkpoints that do
// not continue the run they are given for (exit 2 for another configuration, 1 for a file
// that is wrong).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../../core/factory.h"
#include "../../core/safetensors.h"
#include "../data/idx_files.h"
#include "program_runner.h"

namespace tg {
namespace {

using testing::Outcome;
using testing::run;
using testing::ScratchDir;

struct Case {
  std::string flags, expected;
};

void expect_refused(const ScratchDir& data, const std::vector<Case>& cases, int code) {
  for (const Case& c : cases) {
    const Outcome r = run(data, c.flags);
    EXPECT_EQ(r.exit_code, code) << c.flags << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos)
        << c.flags << ": expected '" << c.expected << "' in: " << r.err;
    EXPECT_EQ(r.out.find("\"test_accuracy\""), std::string::npos) << c.flags << ": trained";
  }
}

TEST(MnistTrainRefuses, FlagsThatOnceCrashedOrWereTakenWrongly) {
  ScratchDir data;
  testing::write_mnist(data, 20, 10);
  const std::string base = "--epochs 1 --device cpu --data " + data.path() + " ";
  std::vector<Case> cases{
      // once an uncaught exception from std::stod (abort)
      {base + "--dropout abc", "--dropout: must be a number, got 'abc'"},
      {base + "--dropout 1e999", "--dropout: must be a finite number, got 1e999"},
      // once a segmentation fault inside libgomp
      {base + "--threads 100000", "--threads: Value 100000 not in range 1 to 1024"},
      // once the default rate, the largest seed, a run from scratch and the default data
      {base + "--lr nan", "--lr: must be a finite number, got nan"},
      {base + "--clip-norm inf", "--clip-norm: must be a finite number, got inf"},
      {base + "--clip auto:150", "--clip: auto:P takes a percentile P in [0, 100], got '150'"},
      {base + "--clip zscore:-1", "--clip: zscore:Z takes Z > 0, got '-1'"},
      {base + "--clip 5", "--clip: must be off, auto[:PERCENTILE] or zscore[:Z], got '5'"},
      {base + "--clip auto --clip-norm 1", "--clip-norm excludes --clip"},
      {base + "--agc 0.01 --clip-norm 1", "--clip-norm excludes --agc"},
      {base + "--agc 0", "--agc: must be in (0, inf), got 0"},
      {base + "--seed -1", "--seed: must be a whole number >= 0, got '-1'"},
      {base + "--seed 99999999999999999999999", "--seed: must be at most 2^64 - 1"},
      {base + "--resume ''", "--resume: must not be empty"},
      {"--epochs 1 --device cpu --data ''", "--data: must not be empty"},
      // once ignored without a word
      {base + "--max-grad-norm 5", "--max-grad-norm requires --monitor"},
      {base + "--sync-bn", "--sync-bn requires --distributed"},
      {base + "--dist-timeout 9", "--dist-timeout requires --distributed"},
      {base + "--min-delta 0.1", "--min-delta requires --early-stop"},
      // once found only after the first epoch, or exit 1
      {base + "--checkpoint /nonexistent/ck.st",
       "--checkpoint /nonexistent/ck.st: cannot write in /nonexistent (No such file or directory)"},
      {base + "--checkpoint " + data.path(), "is a directory; give a file name"},
      {base + "--metrics /nonexistent/m.jsonl", "--metrics /nonexistent/m.jsonl: cannot write in"},
      {base + "--tensorboard " + data.file("train-labels-idx1-ubyte.gz"),
       "exists and is not a directory"},
  };
  expect_refused(data, cases, 2);
}

// Keras' TerminateOnNaN, with or without --monitor: the run once went on to chance accuracy
// and exit 0.
TEST(MnistTrainRefuses, ToGoOnAfterANonFiniteLoss) {
  ScratchDir data;
  testing::write_mnist(data, 300, 100);
  const std::string base = "--model mlp --epochs 2 --batch 50 --device cpu --data " + data.path();
  expect_refused(
      data,
      {{base + " --optimizer sgd --lr 1e30 --schedule none",
        "the training loss became NaN at epoch 1, batch 2 of 6; training stopped there"},
       {base + " --norm-std 1e-300", "the training loss became NaN at epoch 1, batch 1 of 6"}},
      1);
}

TEST(MnistTrainRefuses, DataWithoutImages) {
  ScratchDir data;
  testing::write_mnist(data, 20, 10);
  testing::write_gzip(data.file("t10k-images-idx3-ubyte.gz"), testing::idx_bytes({0, 28, 28}, ""));
  testing::write_gzip(data.file("t10k-labels-idx1-ubyte.gz"), testing::idx_bytes({0}, ""));
  expect_refused(data,
                 {{"--epochs 1 --device cpu --data " + data.path(),
                   "t10k-images-idx3-ubyte.gz: it holds no images (dimensions [0, 28, 28])"}},
                 1);
}

// A checkpoint after epoch 1 of 3, edited in the ways a resume once accepted in silence.
class Resume : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_mnist(data_, 300, 100);
    const Outcome r = run(data_, flags_ + " --stop-after 1 --checkpoint " + file_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    saved_ = load_safetensors(file_);
  }
  // Writes the checkpoint with `edit` applied to its tensors and metadata into a new file;
  // returns its path.
  std::string edited(const std::function<void(NamedTensors&, Metadata&)>& edit) {
    NamedTensors tensors = saved_.tensors;
    Metadata metadata = saved_.metadata;
    edit(tensors, metadata);
    const std::string path = data_.file("edited" + std::to_string(++edits_) + ".st");
    save_safetensors(path, tensors, metadata);
    return path;
  }
  static void replace(NamedTensors& tensors, const std::string& name, const Tensor& value) {
    for (auto& [key, t] : tensors) {
      if (key == name) t = value;
    }
  }

  ScratchDir data_;
  const std::string file_ = data_.file("ck.st");
  const std::string flags_ =
      "--model mlp --epochs 3 --batch 50 --seed 7 --lr 0.002 --device cpu --data " + data_.path();
  SafetensorsContents saved_;
  int edits_ = 0;
};

TEST_F(Resume, WithOtherFlagsIsRefusedNamingEachFlagAndBothValues) {
  const std::string resume = " --resume " + file_;
  const std::string others = "--model mlp --device cpu --data " + data_.path() + resume;
  expect_refused(
      data_,
      {{"--epochs 3 --batch 32 --seed 7 --lr 0.002 " + others, "--batch 32 (the checkpoint's: 50)"},
       {flags_ + " --limit 200" + resume, "--limit 200 (the checkpoint's: 0)"},
       {"--epochs 4 --batch 50 --seed 7 --lr 0.002 " + others, "--epochs 4 (the checkpoint's: 3)"},
       {"--epochs 3 --batch 50 --seed 8 --lr 0.002 " + others, "--seed 8 (the checkpoint's: 7)"},
       {"--epochs 3 --batch 50 --seed 7 " + others, "--lr 0.001 (the checkpoint's: 0.002)"},
       {flags_ + " --dropout 0.3" + resume,
        "--dropout 0.29999999999999999 (the "
        "checkpoint's: 0.20000000000000001)"},
       {flags_ + " --schedule step" + resume, "--schedule step (the checkpoint's: cosine)"},
       {flags_ + " --norm-mean 0.5" + resume, "--norm-mean 0.5 (the checkpoint's: "},
       {flags_ + " --accumulate 2 --clip-norm 1" + resume, "--clip-norm 1 (the checkpoint's: 0)"},
       {flags_ + " --clip auto:20" + resume, "--clip auto:20 (the checkpoint's: off)"},
       {flags_ + " --agc 0.02" + resume, "--agc 0.02 (the checkpoint's: off)"}},
      2);
  // Every difference at once.
  const Outcome both = run(data_, "--epochs 3 --batch 32 --seed 9 --lr 0.002 " + others);
  EXPECT_NE(both.err.find("--batch 32 (the checkpoint's: 50)\n  --seed 9 (the checkpoint's: 7)"),
            std::string::npos)
      << both.err;
  // The same flags continue.
  EXPECT_EQ(run(data_, flags_ + resume).exit_code, 0);
}

TEST_F(Resume, MoreEpochsOnlyWhereTheScheduleAllows) {
  const std::string constant = data_.file("constant.st");
  ASSERT_EQ(
      run(data_, flags_ + " --schedule none --stop-after 1 --checkpoint " + constant).exit_code, 0);
  const Outcome more = run(data_,
                           "--model mlp --epochs 5 --batch 50 --seed 7 --lr 0.002 "
                           "--schedule none --device cpu --data " +
                               data_.path() + " --resume " + constant);
  EXPECT_EQ(more.exit_code, 0) << more.err;
  EXPECT_NE(more.out.find("\"epochs\": 5"), std::string::npos) << more.out;
}

TEST_F(Resume, FromACheckpointThatIsWrongIsRefusedNamingTheEntry) {
  const std::string resume = flags_ + " --resume ";
  expect_refused(
      data_,
      {{resume + edited([](NamedTensors& t, Metadata&) {
          t.erase(std::remove_if(t.begin(), t.end(),
                                 [](const auto& e) { return e.first == "generator.cpu"; }),
                  t.end());
        }),
        "'generator.cpu' is missing; without it the run would not continue bit for bit"},
       {resume + edited([](NamedTensors& t, Metadata&) {
          replace(t, "schedule.step", full({}, 1e12, DType::Int64));
        }),
        "'schedule.step' is 1000000000000, but 1 epoch(s) of this schedule take 6"},
       {resume + edited([](NamedTensors& t, Metadata&) { t.emplace_back("junk", ones({2})); }),
        "unexpected tensor 'junk'"},
       {resume + edited([](NamedTensors& t, Metadata&) {
          replace(t, "progress.epoch", full({}, 4294967296.0, DType::Int64));
        }),
        "'progress.epoch' is 4294967296, past the run's 3 epochs"},
       {resume + edited([](NamedTensors& t, Metadata&) {
          replace(t, "model.1.weight", full({512, 784}, std::nan(""), DType::Float32));
        }),
        "non-finite values (NaN or infinity) in model.1.weight (401408 of 401408)"},
       {resume + edited([](NamedTensors& t, Metadata&) {
          replace(t, "optimizer.1.bias.exp_avg", zeros({3}));
        }),
        "the optimizer's state does not fit: "},
       {resume + edited([](NamedTensors&, Metadata& m) {
          for (auto& [k, v] : m) {
            if (k == "early_stop_best_loss") v = "abc";
          }
        }),
        "metadata 'early_stop_best_loss' must be a number, got 'abc'"},
       {resume + data_.path(), "is a directory; a safetensors file was expected"}},
      1);
  // The optimizer's own words, under the file's names instead of its internal positions.
  const Outcome r = run(data_, resume + edited([](NamedTensors& t, Metadata&) {
                                 replace(t, "optimizer.1.bias.exp_avg", zeros({3}));
                               }));
  EXPECT_NE(r.err.find("'optimizer.1.bias.exp_avg': shape [3] given, expected [512]"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("state."), std::string::npos) << r.err;
  // A FIFO is refused at once instead of blocking the open.
  ASSERT_EQ(::mkfifo(data_.file("fifo").c_str(), 0600), 0);
  const Outcome fifo = run(data_, resume + data_.file("fifo"));
  EXPECT_EQ(fifo.exit_code, 1);
  EXPECT_NE(fifo.err.find("is not a regular file"), std::string::npos) << fifo.err;
}

// Fashion-MNIST in a directory whose name says nothing is still normalised with its own
// statistics (it once got MNIST's).
TEST(MnistTrainNormalization, IsDecidedByTheDataNotTheDirectoryName) {
  const std::string installed = "/usr/share/datasets/fashion-mnist";
  struct stat info {};
  if (::stat(installed.c_str(), &info) != 0)
    GTEST_SKIP() << installed << " is not installed (Debian's dataset-fashion-mnist)";
  ScratchDir dir;
  ASSERT_EQ(::symlink(installed.c_str(), dir.file("digits").c_str()), 0);
  const Outcome r = run(dir, "--epochs 1 --limit 200 --device cpu --data " + dir.file("digits"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("inputs (pixel / 255 - 0.2860) / 0.3530 (fashion-mnist's published "
                       "statistics, recognised from the training images"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"dataset\": \"fashion-mnist\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tg
