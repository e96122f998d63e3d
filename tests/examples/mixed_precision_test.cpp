// mnist_train --precision (the Trainer's autocast and loss scaler: core/autocast.h,
// optim/loss_scaler.h): bfloat16 and float16 runs on the real data set within half a point of
// float32's accuracy, the loss scale in the metrics, a float16 run resumed bit for bit (the
// scaler's state travels in the checkpoint), and the flags' refusals.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <string>
#include <vector>

#include "../../core/safetensors.h"
#include "../data/idx_files.h"
#include "../support/parity.h"
#include "program_runner.h"

namespace tg {
namespace {

using testing::metric;
using testing::Outcome;
using testing::run;
using testing::ScratchDir;
using testing::slurp;
using testing::train_losses;

double accuracy_of(const Outcome& r) {
  const size_t at = r.out.rfind("\"test_accuracy\": ");
  return at == std::string::npos ? NAN : std::stod(r.out.substr(at + 17));
}

TEST(MnistTrainPrecision, Bf16AndFp16LandWithinHalfAPointOfFp32) {
  const std::string data = "/usr/share/datasets/fashion-mnist";
  struct stat st {};
  if (stat(data.c_str(), &st) != 0) {
    GTEST_SKIP() << data << " is not installed (Debian's dataset-fashion-mnist; the set-up "
                 << "installs it)";
  }
  ScratchDir dir;
  const std::string flags = "--model mlp --epochs 2 --device cpu --seed 7 --data " + data;
  const Outcome fp32 = run(dir, flags);
  ASSERT_EQ(fp32.exit_code, 0) << fp32.err;
  for (const char* precision : {"bf16", "fp16"}) {
    const Outcome low = run(dir, flags + " --precision " + precision);
    ASSERT_EQ(low.exit_code, 0) << low.err;
    EXPECT_NEAR(accuracy_of(low), accuracy_of(fp32), 0.005)
        << precision << ": " << accuracy_of(low) << " against float32's " << accuracy_of(fp32);
    EXPECT_NE(low.out.find(std::string("\"precision\": \"") + precision + "\""), std::string::npos);
  }
}

TEST(MnistTrainPrecision, Fp16ScalesTheLossAndResumesBitForBit) {
  ScratchDir data;
  testing::write_mnist(data, 300, 100);
  const std::string flags =
      "--model cnn --batch 50 --optimizer adam --clip-norm 1 --precision "
      "fp16 --monitor --device cpu --seed 5 --data " +
      data.path();
  // The scaler's state is in the checkpoint, and a resumed run goes on exactly.
  const SafetensorsContents a = testing::expect_resumed_run_is_the_straight_one(data, flags);
  ASSERT_FALSE(a.tensors.empty());
  EXPECT_TRUE(find_state(a.tensors, "optimizer.loss_scaler.scale").defined());
  const std::string metrics = slurp(data.file("a.jsonl"));
  const std::vector<double> scales = metric(metrics, "loss_scale");
  ASSERT_EQ(scales.size(), 3u) << metrics;
  EXPECT_GE(scales[0], 1.0);
  EXPECT_EQ(metric(metrics, "skipped_steps").size(), 3u);
  EXPECT_EQ(testing::metric_text(metrics, "alarms"), (std::vector<std::string>{"[]", "[]", "[]"}))
      << "the monitor raised alarms";
  // Resuming it at another precision is refused, naming the flag.
  const Outcome other = run(data,
                            "--model cnn --batch 50 --optimizer adam --clip-norm 1 "
                            "--device cpu --seed 5 --epochs 3 --data " +
                                data.path() + " --resume " + data.file("b.st"));
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("--precision"), std::string::npos) << other.err;
}

TEST(MnistTrainPrecision, UnknownPrecisionsAreRefused) {
  ScratchDir dir;
  const Outcome r = run(dir, "--precision fp8 --epochs 1");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--precision"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tg
