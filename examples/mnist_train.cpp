// mnist_train: trains the MLP or the CNN of examples/mnist_models.h on an MNIST-format data
// set (Fashion-MNIST by default) and reports the test accuracy. `mnist_train --help` lists
// every flag with its default. The last line of stdout is one JSON object (the summary);
// --metrics FILE writes one JSON object per epoch.
//
// Exit codes: 0 trained; 1 the data or the run failed (the message says where); 2 a flag
// was wrong (the message names the flag and the valid values).
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "common/checkpoint.h"
#include "common/progress.h"
#include "mnist_models.h"
#include "tamegrad/data/dataloader.h"
#include "tamegrad/data/mnist.h"
#include "tamegrad/tamegrad.h"

namespace {

using namespace tg;
using tg::examples::json_number;
using tg::examples::json_string;

struct Flags {
  std::string model = "mlp";
  std::string optimizer = "adam";
  double lr = -1;  // -1: the optimizer's default (see --help)
  int epochs = 10;
  int64_t batch = 128;
  std::string device = "auto";
  uint64_t seed = 0;
  int threads = 0;  // 0: OpenMP's default
  double clip_norm = 0;
  double weight_decay = -1;  // -1: 0.01 for adamw, else 0
  double l1 = 0, l2 = 0;
  double dropout = -1;  // -1: the model's default (mlp 0.2, cnn 0.5)
  int64_t limit = 0;    // 0: every training image
  std::string schedule = "none";
  int warmup = 0;  // epochs of linear warm-up (cosine)
  std::string metrics;
  std::string data;
  std::string checkpoint;  // written after every epoch
  std::string resume;      // a checkpoint to continue from
  int stop_after = 0;      // stop after this epoch, as if interrupted (0: never)
};

struct FlagError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double default_lr(const std::string& optimizer) {
  if (optimizer == "sgd" || optimizer == "momentum" || optimizer == "nesterov") return 0.05;
  if (optimizer == "adagrad") return 1e-2;
  return 1e-3;  // adam, adamw, rmsprop
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Flags& f,
                                                 const std::vector<Tensor>& params) {
  optim::Regularization reg;
  reg.l1_penalty = f.l1;
  reg.l2_penalty = f.l2;
  // --weight-decay means what PyTorch's weight_decay means: decoupled in AdamW, the coupled
  // L2 penalty in every other optimizer.
  const double decay = f.weight_decay >= 0 ? f.weight_decay : (f.optimizer == "adamw" ? 0.01 : 0);
  if (f.optimizer == "adamw") {
    reg.decoupled_weight_decay = decay;
  } else {
    reg.l2_penalty += decay;
  }
  const double lr = f.lr > 0 ? f.lr : default_lr(f.optimizer);
  if (f.optimizer == "adam" || f.optimizer == "adamw") {
    optim::AdamParams h;
    h.lr = lr;
    h.regularization = reg;
    if (f.optimizer == "adamw") return std::make_unique<optim::AdamW>(params, h);
    return std::make_unique<optim::Adam>(params, h);
  }
  if (f.optimizer == "rmsprop") {
    optim::RmspropParams h;
    h.lr = lr;
    h.regularization = reg;
    return std::make_unique<optim::RMSprop>(params, h);
  }
  if (f.optimizer == "adagrad") {
    optim::AdagradParams h;
    h.lr = lr;
    h.regularization = reg;
    return std::make_unique<optim::Adagrad>(params, h);
  }
  optim::SgdParams h;
  h.lr = lr;
  h.regularization = reg;
  h.momentum = f.optimizer == "sgd" ? 0.0 : 0.9;
  h.nesterov = f.optimizer == "nesterov";
  return std::make_unique<optim::SGD>(params, h);
}

Device pick_device(const std::string& spec) {
  if (spec == "auto") return Device::cuda_if_available();
  Device device;
  try {
    device = Device(spec);
  } catch (const Error&) {
    throw FlagError("--device " + spec + ": valid values are cpu, cuda, cuda:N, auto");
  }
  if (device.is_cuda() && device.index() >= cuda_device_count()) {
    throw FlagError("--device " + spec + ": " +
                    (cuda_compiled()
                         ? std::to_string(cuda_device_count()) + " CUDA device(s) present"
                         : std::string("this build has no CUDA")) +
                    "; valid values: cpu, cuda[:N] with a GPU, auto");
  }
  return device;
}

// --schedule: step and plateau act once per epoch, cosine and onecycle once per batch.
std::unique_ptr<optim::LrSchedule> make_schedule(const Flags& f, optim::Optimizer& opt,
                                                 int64_t batches) {
  const int64_t total = static_cast<int64_t>(f.epochs) * batches;
  if (f.schedule == "step") return std::make_unique<optim::StepLR>(opt, std::max(1, f.epochs / 3));
  if (f.schedule == "cosine") {
    if (f.warmup >= f.epochs)
      throw FlagError("--warmup " + std::to_string(f.warmup) + ": must be below --epochs (" +
                      std::to_string(f.epochs) + ")");
    return std::make_unique<optim::CosineAnnealingLR>(opt, total, 0.0, f.warmup * batches);
  }
  if (f.schedule == "onecycle")
    return std::make_unique<optim::OneCycleLR>(opt, opt.lr(), total + 1);
  if (f.schedule == "plateau") {
    optim::PlateauOptions options;
    options.patience = 1;
    options.factor = 0.3;
    return std::make_unique<optim::ReduceLROnPlateau>(opt, options);
  }
  if (f.warmup > 0) throw FlagError("--warmup needs --schedule cosine");
  return nullptr;
}

struct Evaluation {
  double loss = 0, accuracy = 0;
};

Evaluation evaluate(layers::Module& model, data::DataLoader& loader) {
  NoGradGuard no_grad;
  model.eval();
  loader.start_epoch(0);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const data::Batch batch = loader.batch(b);
    const Tensor logits = model(batch.x);
    loss_sum += cross_entropy(logits, batch.y, Reduction::Sum).item<double>();
    const Tensor predicted = argmax(logits, 1).to(Device::cpu());
    const Tensor truth = batch.y.to(Device::cpu());
    const int64_t* p = predicted.data_ptr<int64_t>();
    const int64_t* t = truth.data_ptr<int64_t>();
    for (int64_t i = 0; i < truth.numel(); ++i) correct += p[i] == t[i];
  }
  model.train();
  const double n = static_cast<double>(loader.size());
  return {loss_sum / n, static_cast<double>(correct) / n};
}

int train(const Flags& f) {
  const Device device = pick_device(f.device);
  std::string dir;
  try {
    dir = data::find_mnist_dir(f.data);
  } catch (const Error& e) {
    throw FlagError(std::string("--data: ") + e.what());
  }
  if (f.threads > 0) omp_set_num_threads(f.threads);
  data::MnistSplit train_set = data::load_mnist(dir, true);
  const data::MnistSplit test_set = data::load_mnist(dir, false);
  if (f.limit > 0 && f.limit < train_set.images.size(0)) {
    train_set.images = train_set.images.slice(0, 0, f.limit);
    train_set.labels = train_set.labels.slice(0, 0, f.limit);
  }
  data::LoaderOptions train_options;
  train_options.batch_size = f.batch;
  train_options.seed = f.seed;
  train_options.device = device;
  data::DataLoader train_loader(train_set.images, train_set.labels, train_options);
  data::LoaderOptions test_options = train_options;
  test_options.batch_size = 1000;
  test_options.shuffle = false;
  data::DataLoader test_loader(test_set.images, test_set.labels, test_options);

  manual_seed(f.seed);  // the model's initial values come from the CPU generator
  std::shared_ptr<layers::Module> model =
      f.model == "cnn" ? std::shared_ptr<layers::Module>(
                             tg::examples::mnist_cnn(f.dropout >= 0 ? f.dropout : 0.5))
                       : tg::examples::mnist_mlp(f.dropout >= 0 ? f.dropout : 0.2);
  model->to(device);
  std::unique_ptr<optim::Optimizer> opt = make_optimizer(f, model->parameters());
  std::unique_ptr<optim::LrSchedule> schedule = make_schedule(f, *opt, train_loader.batches());
  const bool per_batch = f.schedule == "cosine" || f.schedule == "onecycle";
  const std::string dataset = data::dataset_name(dir);
  std::printf(
      "mnist_train: %s, %s (lr %g), %s on %s: %lld training / %lld test images, %lld "
      "parameters, %d OpenMP threads\n",
      f.model.c_str(), opt->name().c_str(), opt->lr(), dataset.c_str(), device.str().c_str(),
      static_cast<long long>(train_loader.size()), static_cast<long long>(test_loader.size()),
      static_cast<long long>(model->parameter_count()), omp_get_max_threads());

  int64_t epochs_done = 0;
  if (!f.resume.empty()) {
    epochs_done = tg::examples::load_training_checkpoint(f.resume, *model, *opt, schedule.get());
    std::printf("mnist_train: resumed from %s after epoch %lld\n", f.resume.c_str(),
                static_cast<long long>(epochs_done));
  }
  std::ofstream metrics;
  if (!f.metrics.empty()) {
    metrics.open(f.metrics);
    if (!metrics) throw FlagError("--metrics " + f.metrics + ": cannot open it for writing");
  }
  double train_seconds = 0;
  Evaluation last;
  if (epochs_done >= std::min(f.epochs, f.stop_after > 0 ? f.stop_after : f.epochs)) {
    last = evaluate(*model, test_loader);
  }
  const int last_epoch = f.stop_after > 0 ? std::min(f.stop_after, f.epochs) : f.epochs;
  for (int epoch = static_cast<int>(epochs_done) + 1; epoch <= last_epoch; ++epoch) {
    tg::examples::Progress progress(epoch, f.epochs, static_cast<long>(train_loader.batches()));
    train_loader.start_epoch(epoch);
    // The loss is summed on the device and read once per epoch (or per redraw): no wait for
    // the device inside a step.
    Tensor loss_sum = zeros({}, TensorOptions(DType::Float32).device(device));
    Tensor grad_norm;
    for (int64_t b = 0; b < train_loader.batches(); ++b) {
      const data::Batch batch = train_loader.batch(b);
      opt->zero_grad();
      const Tensor loss = cross_entropy((*model)(batch.x), batch.y);
      loss.backward();
      grad_norm = f.clip_norm > 0 ? opt->clip_grad_norm(f.clip_norm) : Tensor();
      if (b + 1 == train_loader.batches() && !grad_norm.defined()) grad_norm = opt->grad_norm();
      opt->step();
      if (per_batch) schedule->step();
      {
        NoGradGuard no_grad;
        loss_sum = add(loss_sum, mul(loss.detach(), static_cast<double>(batch.y.numel())));
      }
      if (progress.due(static_cast<long>(b + 1))) {
        const double images = static_cast<double>((b + 1) * f.batch);
        progress.draw(static_cast<long>(b + 1), loss_sum.item<double>() / images,
                      static_cast<long>(std::min<double>(images, train_loader.size())));
      }
    }
    const double train_loss = loss_sum.item<double>() / static_cast<double>(train_loader.size());
    const double seconds = progress.seconds();
    progress.finish();
    train_seconds += seconds;
    last = evaluate(*model, test_loader);
    const double norm = grad_norm.defined() ? grad_norm.item<double>() : 0.0;
    const double epoch_lr = opt->lr();
    if (f.schedule == "step") schedule->step();
    if (f.schedule == "plateau") static_cast<optim::ReduceLROnPlateau&>(*schedule).step(last.loss);
    std::printf(
        "epoch %d/%d: train loss %.4f, test loss %.4f, test accuracy %.4f, grad norm "
        "%.4g, %.1f s (%.0f images/s)\n",
        epoch, f.epochs, train_loss, last.loss, last.accuracy, norm, seconds,
        train_loader.size() / seconds);
    std::fflush(stdout);
    if (metrics) {
      metrics << tg::examples::json_object(
                     {{"epoch", std::to_string(epoch)},
                      {"train_loss", json_number(train_loss)},
                      {"test_loss", json_number(last.loss)},
                      {"test_accuracy", json_number(last.accuracy)},
                      {"grad_norm", json_number(norm)},
                      {"lr", json_number(epoch_lr)},
                      {"seconds", json_number(seconds)},
                      {"images_per_second", json_number(train_loader.size() / seconds)}})
              << "\n";
      metrics.flush();
    }
    if (!f.checkpoint.empty()) {
      tg::examples::save_training_checkpoint(
          f.checkpoint, *model, *opt, schedule.get(), epoch,
          {{"model", f.model}, {"schedule", f.schedule}, {"seed", std::to_string(f.seed)}});
    }
  }
  std::printf("%s\n",
              tg::examples::json_object({{"test_accuracy", json_number(last.accuracy)},
                                         {"test_loss", json_number(last.loss)},
                                         {"train_seconds", json_number(train_seconds, "%.2f")},
                                         {"epochs", std::to_string(f.epochs)},
                                         {"device", json_string(device.str())},
                                         {"model", json_string(f.model)},
                                         {"optimizer", json_string(f.optimizer)},
                                         {"dataset", json_string(dataset)},
                                         {"seed", std::to_string(f.seed)},
                                         {"threads", std::to_string(omp_get_max_threads())}})
                  .c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"Train an MLP or a CNN on MNIST-format data (Fashion-MNIST by default)."};
  app.add_option("--model", f.model, "mlp | cnn")
      ->check(CLI::IsMember({"mlp", "cnn"}))
      ->capture_default_str();
  app.add_option("--optimizer", f.optimizer,
                 "sgd | momentum | nesterov | adagrad | rmsprop | adam | adamw")
      ->check(CLI::IsMember({"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}))
      ->capture_default_str();
  app.add_option("--lr", f.lr,
                 "learning rate [default: 1e-3 for adam, adamw, rmsprop; 1e-2 for adagrad; "
                 "0.05 for sgd, momentum, nesterov]")
      ->check(CLI::PositiveNumber);
  app.add_option("--epochs", f.epochs, "passes over the training set")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--batch", f.batch, "batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--device", f.device, "cpu | cuda | cuda:N | auto (a GPU when present)")
      ->capture_default_str();
  app.add_option("--seed", f.seed, "seed of the model, the shuffling and dropout")
      ->capture_default_str();
  app.add_option("--threads", f.threads, "OpenMP threads on the CPU [default: OpenMP's]")
      ->check(CLI::PositiveNumber);
  app.add_option("--clip-norm", f.clip_norm, "clip the global gradient norm to this [default: off]")
      ->check(CLI::PositiveNumber);
  app.add_option("--weight-decay", f.weight_decay,
                 "decoupled in adamw, coupled L2 elsewhere [default: 0.01 for adamw, else 0]")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--l1", f.l1, "coupled L1 penalty")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--l2", f.l2, "coupled L2 penalty")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--dropout", f.dropout,
                 "dropout probability in [0, 1) [default: mlp 0.2, cnn 0.5]")
      ->check(CLI::Validator(
          [](std::string& s) {
            const double p = std::stod(s);
            return p >= 0 && p < 1 ? std::string() : "must be in [0, 1), got " + s;
          },
          "in [0, 1)"));
  app.add_option("--limit", f.limit, "train on the first N images only [default: all]")
      ->check(CLI::PositiveNumber);
  app.add_option("--schedule", f.schedule,
                 "none | step (x0.1 every epochs/3) | cosine (per batch, to 0) | onecycle (per "
                 "batch, peak --lr) | plateau (x0.3 after 1 epoch without test-loss gain)")
      ->check(CLI::IsMember({"none", "step", "cosine", "onecycle", "plateau"}))
      ->capture_default_str();
  app.add_option("--warmup", f.warmup, "epochs of linear warm-up before the cosine schedule")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--metrics", f.metrics, "write one JSON object per epoch to this file");
  app.add_option("--checkpoint", f.checkpoint,
                 "after every epoch, save the whole training state to this safetensors file "
                 "(atomically: an interrupted save keeps the previous one)");
  app.add_option("--stop-after", f.stop_after,
                 "stop after this epoch as if interrupted (schedules still span --epochs); "
                 "with --checkpoint, a later --resume continues the run")
      ->check(CLI::PositiveNumber);
  app.add_option("--resume", f.resume,
                 "continue from a --checkpoint file, with the same flags; --epochs counts "
                 "the epochs already done");
  app.add_option("--data", f.data,
                 "directory of the IDX files [default: $TG_DATA, else data/mnist when it holds "
                 "MNIST, else /usr/share/datasets/fashion-mnist]");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "mnist_train: %s\n", e.what());
    return 2;
  }
  try {
    return train(f);
  } catch (const FlagError& e) {
    std::fprintf(stderr, "mnist_train: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_train: %s\n", e.what());
    return 1;
  }
}
