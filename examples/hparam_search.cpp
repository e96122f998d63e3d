// hparam_search: grid or random search over the learning rate, the weight decay and the
// dropout of mnist_train's recipe (AdamW by default), each trial trained with early
// stopping on a validation split held out from the training images (the last --val of
// them), so the test set is not used for choosing. Prints the trials ranked by their best
// validation loss, writes them as CSV (--csv), and ends with one JSON line naming the best.
// A random search draws its trials from --seed: the same seed, the same trials.
//
//   hparam_search [--search grid|random] [--lr L,L,..] [--weight-decay W,..] [--dropout D,..]
//                 [--trials N] [--epochs N] [--patience P] [--model mlp|cnn]
//                 [--optimizer O] [--val N] [--csv FILE] [--data DIR] [--limit N]
//                 [--seed S] [--threads N] [--device D]

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../data/mnist.h"
#include "../tamegrad.h"
#include "common/flags.h"
#include "mnist_recipe.h"

namespace {

using namespace tg;
using tg::examples::Flags;

struct Options {
  Flags recipe;  // model, optimizer, epochs, batch, data, limit, seed, threads, device
  std::string search = "grid";
  std::vector<double> lrs{1e-3, 3e-3}, weight_decays{0.0, 0.01}, dropouts{0.2};
  int trials = 8;  // random search
  int patience = 2;
  int64_t val = 5000;  // validation images held out from the end of the training set
  std::string csv;
};

struct Trial {
  double lr, weight_decay, dropout;
  double val_loss = 0, val_accuracy = 0;
  int best_epoch = 0, epochs = 0;
};

// The trials: every combination (grid), or --trials draws (random: lr and weight decay
// log-uniform in [1e-4, 1e-2] and [1e-5, 1e-1], dropout uniform in [0, 0.5]).
std::vector<Trial> plan(const Options& o) {
  std::vector<Trial> trials;
  if (o.search == "grid") {
    for (double lr : o.lrs) {
      for (double wd : o.weight_decays) {
        for (double p : o.dropouts) trials.push_back({lr, wd, p});
      }
    }
    return trials;
  }
  std::mt19937_64 rng(o.recipe.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int i = 0; i < o.trials; ++i) {
    const double lr = std::pow(10.0, -4.0 + 2.0 * unit(rng));
    const double wd = std::pow(10.0, -5.0 + 4.0 * unit(rng));
    const double dropout = 0.5 * unit(rng);
    trials.push_back({lr, wd, dropout});
  }
  return trials;
}

// Keeps a trial's numbers of its best epoch (early stopping's tracker says which it is).
struct BestEpoch : train::Callback {
  BestEpoch(Trial& t, const train::EarlyStopping& early) : t(t), early(early) {}
  void on_epoch_end(train::TrainState& state) override {
    t.epochs = state.epoch;
    if (early.tracker().best_epoch() != state.epoch) return;
    t.val_loss = state.logs.get("val_loss");
    t.val_accuracy = state.logs.get("val_accuracy");
    t.best_epoch = state.epoch;
  }
  Trial& t;
  const train::EarlyStopping& early;
};

// One trial: train with early stopping on the validation loss, keep the best epoch's numbers.
void run_trial(const Options& o, const Device& device, const data::MnistSplit& train_set,
               const data::MnistSplit& val_set, const data::PixelStats& inputs, Trial& t) {
  Flags f = o.recipe;
  f.lr = t.lr;
  f.weight_decay = t.weight_decay;
  f.dropout = t.dropout;
  data::LoaderOptions options;
  options.mean = inputs.mean;
  options.std = inputs.std;
  options.batch_size = f.batch;
  options.seed = f.seed;
  options.device = device;
  options.resident = device.is_cuda();
  data::DataLoader train_loader(train_set.images, train_set.labels, options);
  options.shuffle = false;
  options.batch_size = 1000;
  data::DataLoader val(val_set.images, val_set.labels, options);
  manual_seed(f.seed);
  std::shared_ptr<layers::Module> model = tg::examples::make_model(f);
  model->to(device);
  std::unique_ptr<optim::Optimizer> opt = tg::examples::make_optimizer(f, model->parameters());
  train::TrainerOptions run;
  run.epochs = f.epochs;
  run.validation_name = "val";
  train::Trainer trainer(*model, *opt, train::cross_entropy_loss(), run);
  auto early = std::make_shared<train::EarlyStopping>(
      train::EarlyStoppingOptions{"val_loss", o.patience, 0.0, false, ""});
  trainer.add(early).add(std::make_shared<BestEpoch>(t, *early));
  trainer.fit(train_loader, &val);
  if (t.best_epoch == 0) t.val_loss = std::nan("");  // never finite
}

int run(const Options& o) {
  const Device device = tg::examples::pick_device(o.recipe.device);
  tg::examples::apply_cpu_flags(o.recipe);
  std::string dir;
  try {
    dir = data::find_mnist_dir(o.recipe.data);
  } catch (const Error& e) {
    throw tg::examples::FlagError(std::string("--data: ") + e.what());
  }
  data::MnistSplit all = data::load_mnist(dir, true);
  const data::DatasetIdentity dataset = data::identify_dataset(all.images);
  int64_t n = all.images.size(0);
  if (o.recipe.limit > 0) n = std::min(n, o.recipe.limit);
  if (o.val >= n) {
    throw tg::examples::FlagError("--val " + std::to_string(o.val) +
                                  " leaves no training images of " + std::to_string(n));
  }
  const data::MnistSplit train_set{all.images.slice(0, 0, n - o.val),
                                   all.labels.slice(0, 0, n - o.val)};
  const data::MnistSplit val_set{all.images.slice(0, n - o.val, n),
                                 all.labels.slice(0, n - o.val, n)};
  std::vector<Trial> trials = plan(o);
  std::printf(
      "hparam_search: %s search, %zu trials, %s on %s, %lld training / %lld validation "
      "images, up to %d epochs, patience %d\n",
      o.search.c_str(), trials.size(), o.recipe.model.c_str(), dataset.name.c_str(),
      static_cast<long long>(n - o.val), static_cast<long long>(o.val), o.recipe.epochs,
      o.patience);
  for (size_t i = 0; i < trials.size(); ++i) {
    run_trial(o, device, train_set, val_set, dataset.stats, trials[i]);
    const Trial& t = trials[i];
    std::printf(
        "trial %zu: lr %.3g, weight decay %.3g, dropout %.3g: val loss %.4f, accuracy "
        "%.4f (epoch %d of %d)\n",
        i + 1, t.lr, t.weight_decay, t.dropout, t.val_loss, t.val_accuracy, t.best_epoch, t.epochs);
    std::fflush(stdout);
  }
  // Ranked by validation loss (NaN last); ties keep the planned order.
  std::stable_sort(trials.begin(), trials.end(), [](const Trial& a, const Trial& b) {
    if (std::isnan(a.val_loss) != std::isnan(b.val_loss)) return std::isnan(b.val_loss);
    return a.val_loss < b.val_loss;
  });
  std::printf("%4s %10s %12s %8s %9s %8s %6s %6s\n", "rank", "lr", "weight_decay", "dropout",
              "val_loss", "val_acc", "best", "epochs");
  std::string csv = "rank,lr,weight_decay,dropout,val_loss,val_accuracy,best_epoch,epochs\n";
  for (size_t i = 0; i < trials.size(); ++i) {
    const Trial& t = trials[i];
    std::printf("%4zu %10.3g %12.3g %8.3g %9.4f %8.4f %6d %6d\n", i + 1, t.lr, t.weight_decay,
                t.dropout, t.val_loss, t.val_accuracy, t.best_epoch, t.epochs);
    char row[256];
    std::snprintf(row, sizeof row, "%zu,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%d\n", i + 1, t.lr,
                  t.weight_decay, t.dropout, t.val_loss, t.val_accuracy, t.best_epoch, t.epochs);
    csv += row;
  }
  if (!o.csv.empty()) {
    std::ofstream out(o.csv);
    if (!(out << csv)) throw tg::examples::FlagError("--csv " + o.csv + ": cannot write it");
  }
  const Trial& best = trials.front();
  using train::json_number;
  std::printf("%s\n", train::json_object({{"best_lr", json_number(best.lr)},
                                          {"best_weight_decay", json_number(best.weight_decay)},
                                          {"best_dropout", json_number(best.dropout)},
                                          {"best_val_loss", json_number(best.val_loss)},
                                          {"best_val_accuracy", json_number(best.val_accuracy)},
                                          {"trials", std::to_string(trials.size())},
                                          {"search", train::json_string(o.search)}})
                          .c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  Options o;
  o.recipe.optimizer = "adamw";
  o.recipe.epochs = 5;
  CLI::App app{"Grid or random search over lr, weight decay and dropout, with early stopping."};
  app.add_option("--search", o.search, "grid | random")
      ->check(CLI::IsMember({"grid", "random"}))
      ->capture_default_str();
  app.add_option("--lr", o.lrs, "grid: learning rates")
      ->delimiter(',')
      ->check(tg::examples::positive_number());
  app.add_option("--weight-decay", o.weight_decays, "grid: weight decays")
      ->delimiter(',')
      ->check(tg::examples::non_negative_number());
  app.add_option("--dropout", o.dropouts, "grid: dropout probabilities")
      ->delimiter(',')
      ->check(tg::examples::finite_number(0, 0.99));
  app.add_option("--trials", o.trials, "random: trials")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--epochs", o.recipe.epochs, "most epochs per trial")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--patience", o.patience, "early stopping: epochs without improvement")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--model", o.recipe.model, "mlp | cnn")
      ->check(CLI::IsMember({"mlp", "cnn"}))
      ->capture_default_str();
  app.add_option("--optimizer", o.recipe.optimizer, "as mnist_train's")
      ->check(CLI::IsMember({"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}))
      ->capture_default_str();
  app.add_option("--batch", o.recipe.batch, "batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--val", o.val, "validation images held out from the end of the training set")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--csv", o.csv, "write the ranked trials here")->check(tg::examples::non_empty());
  tg::examples::add_run_flags(app, o.recipe,
                              "seed of the models, the shuffling and a random search",
                              "use the first N training images (before --val)");
  if (const int code = tg::examples::parse_command_line(app, argc, argv, "hparam_search");
      code >= 0)
    return code;
  // A grid's lists mean nothing to a random search, and --trials nothing to a grid: refused,
  // not ignored.
  for (const char* grid_flag : {"--lr", "--weight-decay", "--dropout"}) {
    if (o.search == "random" && app.count(grid_flag) > 0) {
      std::fprintf(stderr, "hparam_search: %s lists grid values; --search random draws its own\n",
                   grid_flag);
      return 2;
    }
  }
  if (o.search == "grid" && app.count("--trials") > 0) {
    std::fprintf(stderr,
                 "hparam_search: --trials counts the draws of --search random; a grid "
                 "runs every combination\n");
    return 2;
  }
  return tg::examples::run_reporting_errors("hparam_search", [&] { return run(o); });
}
