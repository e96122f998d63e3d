// The README's "Training from your own program" example is this test's code: the lines
// between the markers, unindented, must be the README's block marked [readme trainer]
// (tests/scripts/readme_example_test.sh checks). It trains the MLP on a small generated
// MNIST-format data set with five callbacks and checks what they left behind.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "../../examples/mnist_models.h"
#include "../../tamegrad.h"
#include "../data/idx_files.h"

namespace tg {
namespace {

TEST(ReadmeTrainer, TrainsWithFiveCallbacks) {
  testing::ScratchDir scratch;
  testing::write_mnist(scratch, 600, 200);
  const std::string dir = scratch.path(), out = scratch.path();
  // [readme trainer begin]
  const tg::Device dev = tg::Device::cuda_if_available();
  tg::data::MnistSplit train_set = tg::data::load_mnist(dir, true);
  tg::data::MnistSplit test_set = tg::data::load_mnist(dir, false);
  const tg::data::PixelStats stats = tg::data::identify_dataset(train_set.images).stats;
  tg::data::LoaderOptions lo;
  lo.batch_size = 64;
  lo.mean = stats.mean;
  lo.std = stats.std;
  lo.device = dev;
  tg::data::DataLoader train_loader(train_set.images, train_set.labels, lo);
  lo.shuffle = false;
  tg::data::DataLoader test_loader(test_set.images, test_set.labels, lo);

  auto model = tg::examples::mnist_mlp(0.2);
  model->to(dev);
  tg::optim::AdamW opt(model->parameters());
  tg::train::TrainerOptions options;
  options.epochs = 4;
  options.clip_norm = 1.0;
  tg::train::Trainer trainer(*model, opt, tg::train::cross_entropy_loss(), options);
  auto early = std::make_shared<tg::train::EarlyStopping>(
      tg::train::EarlyStoppingOptions{"val_loss", 2, 0.0, /*restore_best=*/true, "example"});
  trainer.add(std::make_shared<tg::train::TerminateOnNonFinite>())
      .add(std::make_shared<tg::train::LrScheduler>(
          std::make_unique<tg::optim::CosineAnnealingLR>(opt, 4 * train_loader.batches()),
          tg::train::ScheduleTiming::PerStep))
      .add(std::make_shared<tg::train::ProgressBar>())
      .add(std::make_shared<tg::train::MetricsLog>(out + "/metrics.csv"))
      .add(early)
      .add(std::make_shared<tg::train::ModelCheckpoint>(out + "/last.safetensors"));
  trainer.fit(train_loader, &test_loader);

  const tg::train::ClassificationMetrics m = trainer.evaluate(test_loader);
  std::printf("test accuracy %.4f, top-5 %.4f\n", m.accuracy(), m.top_k_accuracy());
  tg::train::save_weights(*model, out + "/weights.safetensors");
  // [readme trainer end]
  EXPECT_GT(m.accuracy(), 0.3);
  std::ifstream csv(out + "/metrics.csv");
  int lines = 0;
  for (std::string line; std::getline(csv, line);) ++lines;
  EXPECT_EQ(lines, 1 + trainer.state().epoch);
  auto again = tg::examples::mnist_mlp(0.2);
  tg::train::load_weights(*again, out + "/weights.safetensors");
  EXPECT_EQ(load_safetensors(out + "/last.safetensors").tensors.size(),
            load_safetensors(out + "/last.safetensors").tensors.size());
}

}  // namespace
}  // namespace tg
