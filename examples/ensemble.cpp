// ensemble: model fusion on MNIST-format data. Trains K models of the same recipe from
// seeds seed, seed+1, ... and reports each one's test accuracy, the accuracy of their
// averaged predictions (layers::average_predictions), and, for the first member, of its
// exponential moving average (updated after every step) and of its stochastic weight
// average (taken at the end of each epoch from --swa-from on), both with BatchNorm
// statistics recomputed on training batches (layers::update_batch_norm). The last line of
// stdout is one JSON object.
//
//   ensemble [--model mlp|cnn] [--members K] [--epochs N] [--ema-decay D] [--swa-from E]
//            [--data DIR] [--limit N] [--seed S] [--threads N] [--device D]

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../tamegrad.h"
#include "common/flags.h"
#include "mnist_recipe.h"

namespace {

using namespace tg;
using tg::examples::Flags;
using tg::examples::Result;

struct Options {
  Flags recipe;  // model, epochs, data, limit, seed, threads, device (Adam, lr 1e-3, batch 128)
  int members = 3;
  double ema_decay = 0.999;
  int swa_from = 2;  // the first epoch whose end SWA averages
};

// The ensemble's test loss and accuracy: the mean of the members' softmax outputs.
Result evaluate_ensemble(const std::vector<std::shared_ptr<layers::Module>>& models,
                         data::DataLoader& loader) {
  std::vector<layers::Module*> members;
  for (const auto& m : models) {
    m->eval();
    members.push_back(m.get());
  }
  loader.start_epoch(0);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const data::Batch batch = loader.batch(b);
    const Tensor probs = layers::average_predictions(members, batch.x);
    loss_sum += nll_loss(log(probs), batch.y, Reduction::Sum).item<double>();
    const Tensor predicted = argmax(probs, 1).to(Device::cpu());
    const Tensor truth = batch.y.to(Device::cpu());
    for (int64_t i = 0; i < truth.numel(); ++i) {
      correct += predicted.data_ptr<int64_t>()[i] == truth.data_ptr<int64_t>()[i];
    }
  }
  for (const auto& m : models) m->train();
  const double n = static_cast<double>(loader.size());
  return {loss_sum / n, static_cast<double>(correct) / n};
}

// A fresh model holding `average`'s weights (and `source`'s buffers), with its BatchNorm
// statistics recomputed on up to 50 training batches.
Result evaluate_average(const Flags& f, const Device& device, const layers::Module& source,
                        const optim::AveragedWeights& average, data::DataLoader& train_loader,
                        data::DataLoader& test) {
  std::shared_ptr<layers::Module> model = tg::examples::make_model(f);
  model->to(device);
  train::WeightAveraging::apply(average, source, *model, train_loader);
  const train::ClassificationMetrics m = train::evaluate(*model, test);
  return {m.loss(), m.accuracy()};
}

int run(const Options& o) {
  const Flags& f = o.recipe;
  const Device device = tg::examples::pick_device(f.device);
  tg::examples::apply_cpu_flags(f);
  std::vector<std::shared_ptr<layers::Module>> models;
  std::vector<double> accuracies;
  std::shared_ptr<data::DataLoader> test_loader;
  std::string dataset;
  for (int k = 0; k < o.members; ++k) {
    const uint64_t seed = f.seed + static_cast<uint64_t>(k);
    tg::examples::MnistLoaders loaders = tg::examples::make_loaders(f, device, seed);
    test_loader = std::move(loaders.test);
    dataset = loaders.dataset;
    manual_seed(seed);
    std::shared_ptr<layers::Module> model = tg::examples::make_model(f);
    model->to(device);
    std::unique_ptr<optim::Optimizer> opt = tg::examples::make_optimizer(f, model->parameters());
    // The first member also keeps its EMA (every step) and SWA (epoch ends from --swa-from).
    train::TrainerOptions options;
    options.epochs = f.epochs;
    train::Trainer trainer(*model, *opt, train::cross_entropy_loss(), options);
    auto averages =
        std::make_shared<train::WeightAveraging>(train::AveragingOptions{o.ema_decay, o.swa_from});
    if (k == 0) trainer.add(averages);
    data::DataLoader& train_loader = *loaders.train;
    trainer.fit(train_loader);
    const train::ClassificationMetrics m = trainer.evaluate(*test_loader);
    const Result e{m.loss(), m.accuracy()};
    std::printf("member %d (seed %llu): test accuracy %.4f, test loss %.4f\n", k + 1,
                static_cast<unsigned long long>(seed), e.accuracy, e.loss);
    accuracies.push_back(e.accuracy);
    if (k == 0) {
      const Result ema_eval =
          evaluate_average(f, device, *model, *averages->ema(), train_loader, *test_loader);
      const Result swa_eval =
          evaluate_average(f, device, *model, *averages->swa(), train_loader, *test_loader);
      std::printf("member 1 EMA (decay %g): test accuracy %.4f\n", o.ema_decay, ema_eval.accuracy);
      std::printf("member 1 SWA (%lld epoch ends): test accuracy %.4f\n",
                  static_cast<long long>(averages->swa()->updates()), swa_eval.accuracy);
      accuracies.push_back(ema_eval.accuracy);
      accuracies.push_back(swa_eval.accuracy);
    }
    models.push_back(model);
  }
  double mean_member = 0;
  std::string member_list;
  for (int k = 0; k < o.members; ++k) {
    const double a = accuracies[k == 0 ? 0 : k + 2];
    mean_member += a / o.members;
    member_list += (k ? ", " : "") + train::json_number(a);
  }
  const Result together = evaluate_ensemble(models, *test_loader);
  std::printf("mean member: %.4f; averaged predictions of %d: %.4f (test loss %.4f)\n", mean_member,
              o.members, together.accuracy, together.loss);
  std::printf("%s\n",
              train::json_object({{"members", "[" + member_list + "]"},
                                  {"mean_member_accuracy", train::json_number(mean_member)},
                                  {"ensemble_accuracy", train::json_number(together.accuracy)},
                                  {"ema_accuracy", train::json_number(accuracies[1])},
                                  {"swa_accuracy", train::json_number(accuracies[2])},
                                  {"model", train::json_string(f.model)},
                                  {"epochs", std::to_string(f.epochs)},
                                  {"dataset", train::json_string(dataset)},
                                  {"device", train::json_string(device.str())}})
                  .c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  Options o;
  o.recipe.epochs = 3;
  CLI::App app{"Train K models and compare them with their ensemble, EMA and SWA."};
  app.add_option("--model", o.recipe.model, "mlp | cnn")
      ->check(CLI::IsMember({"mlp", "cnn"}))
      ->capture_default_str();
  app.add_option("--members", o.members, "models in the ensemble")
      ->check(CLI::Range(2, 32))
      ->capture_default_str();
  app.add_option("--epochs", o.recipe.epochs, "epochs per member")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--ema-decay", o.ema_decay, "decay of the moving average, in [0, 1)")
      ->check(tg::examples::finite_number(0, 1, false, /*hi_open=*/true))
      ->capture_default_str();
  app.add_option("--swa-from", o.swa_from, "first epoch whose end SWA averages")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  tg::examples::add_run_flags(app, o.recipe, "seed of the first member (member k: seed + k)");
  if (const int code = tg::examples::parse_command_line(app, argc, argv, "ensemble"); code >= 0)
    return code;
  return tg::examples::run_reporting_errors("ensemble", [&] {
    if (o.swa_from > o.recipe.epochs) {
      throw tg::examples::FlagError("--swa-from " + std::to_string(o.swa_from) +
                                    " is past the last epoch (--epochs " +
                                    std::to_string(o.recipe.epochs) + ")");
    }
    return run(o);
  });
}
