#include "mnist_recipe.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "../data/mnist.h"
#include "common/flags.h"
#include "mnist_models.h"

namespace tg::examples {

namespace {

double default_lr(const std::string& optimizer) {
  if (optimizer == "sgd" || optimizer == "momentum" || optimizer == "nesterov") return 0.05;
  if (optimizer == "adagrad") return 1e-2;
  return 1e-3;  // adam, adamw, rmsprop
}

}  // namespace

double resolved_lr(const Flags& f) { return f.lr > 0 ? f.lr : default_lr(f.optimizer); }

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
  const double lr = resolved_lr(f);
  if (f.optimizer == "adamw") {
    if (f.l2 > 0) {
      throw FlagError(
          "--l2 with --optimizer adamw: AdamW's decay is decoupled (--weight-decay); "
          "use --optimizer adam for a coupled L2 penalty");
    }
    optim::AdamWParams h;
    h.lr = lr;
    h.weight_decay = decay;
    h.l1_penalty = f.l1;
    return std::make_unique<optim::AdamW>(params, h);
  }
  if (f.optimizer == "adam") {
    optim::AdamParams h;
    h.lr = lr;
    h.regularization = reg;
    return std::make_unique<optim::Adam>(params, h);
  }
  if (f.optimizer == "rmsprop") {
    optim::RMSpropParams h;
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
  optim::SGDParams h;
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
  if (f.warmup > 0 && f.schedule != "cosine") throw FlagError("--warmup needs --schedule cosine");
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
  return nullptr;
}

// --init: PyTorch's defaults, or one scheme for every Linear and Conv2d weight (biases 0).
void initialize(layers::Module& model, const std::string& scheme) {
  if (scheme == "default") return;
  NoGradGuard no_grad;
  for (const auto& [name, p] : model.named_parameters()) {
    if (p.dim() < 2) {
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0)
        layers::init::zeros_(p);
      continue;  // BatchNorm's γ stays 1
    }
    if (scheme == "xavier") layers::init::xavier_uniform_(p);
    if (scheme == "kaiming") {
      layers::init::kaiming_normal_(p, 0, layers::init::FanMode::FanIn,
                                    layers::init::Nonlinearity::ReLU);
    }
    if (scheme == "orthogonal") {
      layers::init::orthogonal_(p, layers::init::calculate_gain(layers::init::Nonlinearity::ReLU));
    }
  }
}

int parse_flags(int argc, char** argv, Flags& f) {
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
      ->check(positive_number());
  app.add_option("--epochs", f.epochs, "passes over the training set")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--batch", f.batch, "batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--clip-norm", f.clip_norm, "clip the global gradient norm to this [default: off]")
      ->check(positive_number());
  app.add_option("--clip-value", f.clip_value,
                 "clamp every gradient element to [-v, v] (before --clip-norm) [default: off]")
      ->check(positive_number());
  app.add_option("--init", f.init,
                 "default (PyTorch's) | xavier (uniform) | kaiming (normal, fan_in, relu) | "
                 "orthogonal (gain of relu); biases 0 unless default")
      ->check(CLI::IsMember({"default", "xavier", "kaiming", "orthogonal"}))
      ->capture_default_str();
  app.add_option("--early-stop", f.early_stop,
                 "stop when the test loss has not improved for this many epochs [default: off]")
      ->check(CLI::PositiveNumber);
  app.add_option("--min-delta", f.min_delta,
                 "an improvement of the test loss must exceed this (with --early-stop)")
      ->check(non_negative_number())
      ->capture_default_str();
  app.add_flag("--restore-best", f.restore_best,
               "end with the weights of the epoch with the best test loss (evaluated again)");
  app.add_option("--accumulate", f.accumulate,
                 "accumulate gradients over this many batches per optimizer step (one step of "
                 "K x --batch images)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--weight-decay", f.weight_decay,
                 "decoupled in adamw, coupled L2 elsewhere [default: 0.01 for adamw, else 0]")
      ->check(non_negative_number());
  app.add_option("--l1", f.l1, "coupled L1 penalty")
      ->check(non_negative_number())
      ->capture_default_str();
  app.add_option("--l2", f.l2, "coupled L2 penalty")
      ->check(non_negative_number())
      ->capture_default_str();
  app.add_option("--dropout", f.dropout,
                 "dropout probability in [0, 1) [default: mlp 0.2, cnn 0.5]")
      ->check(finite_number(0, 1, false, /*hi_open=*/true));
  app.add_option("--norm-mean", f.norm_mean,
                 "inputs are (pixel / 255 - mean) / std [default: the data set's, recognised "
                 "from its training images: Fashion-MNIST 0.2860, MNIST 0.1307, others "
                 "their measured mean]")
      ->check(non_negative_number());
  app.add_option("--norm-std", f.norm_std,
                 "[default: the data set's: Fashion-MNIST 0.3530, MNIST 0.3081, others their "
                 "measured std]")
      ->check(positive_number());
  app.add_option("--schedule", f.schedule,
                 "none (constant --lr) | step (x0.1 every epochs/3) | cosine (per batch, from "
                 "--lr to 0 at the last batch) | onecycle (per batch, peak --lr) | plateau (x0.3 "
                 "after 1 epoch without test-loss gain)")
      ->check(CLI::IsMember({"none", "step", "cosine", "onecycle", "plateau"}))
      ->capture_default_str();
  app.add_option("--warmup", f.warmup, "epochs of linear warm-up before the cosine schedule")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--metrics", f.metrics, "write one JSON object per epoch to this file")
      ->check(non_empty());
  app.add_option("--augment", f.augment,
                 "training-set augmentation on the training device: crop (random shift by up "
                 "to 2 pixels, zeros fill in), flip (horizontal, for Fashion-MNIST, not "
                 "digits), both")
      ->check(CLI::IsMember({"none", "crop", "flip", "both"}))
      ->capture_default_str();
  app.add_flag("--distributed", f.distributed,
               "data-parallel training over the processes that mpirun started (mpirun -np N "
               "mnist_train --distributed ...): --batch images per process, gradients summed "
               "over MPI (CPU) or NCCL (GPU, one per process); rank 0 prints and writes files");
  app.add_flag("--sync-bn", f.sync_bn,
               "with --distributed, average the BatchNorm running statistics over the "
               "processes before each evaluation (they stay local otherwise)");
  app.add_option("--dist-timeout", f.dist_timeout,
                 "with --distributed, seconds an MPI collective may wait for the other "
                 "processes before the run ends with an error")
      ->check(positive_number())
      ->capture_default_str();
  app.add_flag("--monitor", f.monitor,
               "measure every tensor's gradient, weight and update norms each step and raise "
               "alarms (non-finite: stops the run; explosion, vanishing, dead units: logged), "
               "printed on stderr and written to --metrics");
  app.add_option("--max-grad-norm", f.max_grad_norm,
                 "with --monitor, an explosion alarm when the global gradient norm exceeds "
                 "this [default: off]")
      ->check(positive_number());
  app.add_option("--tensorboard", f.tensorboard,
                 "write each epoch's metrics as TensorBoard scalars into this directory")
      ->check(non_empty());
  app.add_option("--checkpoint", f.checkpoint,
                 "after every epoch, save the whole training state to this safetensors file "
                 "(atomically: an interrupted save keeps the previous one)")
      ->check(non_empty());
  app.add_option("--stop-after", f.stop_after,
                 "stop after this epoch as if interrupted (schedules still span --epochs); "
                 "with --checkpoint, a later --resume continues the run")
      ->check(CLI::PositiveNumber);
  app.add_option("--resume", f.resume,
                 "continue from a --checkpoint file, with the same flags (a flag that shapes "
                 "the run and differs from the checkpoint's is refused, naming both values); "
                 "--epochs counts the epochs already done and may grow only with --schedule "
                 "none or plateau, whose rates do not depend on it")
      ->check(non_empty());
  add_run_flags(app, f, "seed of the model, the shuffling and dropout");
  // Flags that mean nothing without another are refused rather than ignored.
  app.get_option("--max-grad-norm")->needs("--monitor");
  app.get_option("--sync-bn")->needs("--distributed");
  app.get_option("--dist-timeout")->needs("--distributed");
  app.get_option("--min-delta")->needs("--early-stop");
  return parse_command_line(app, argc, argv, "mnist_train");
}

void add_run_flags(CLI::App& app, Flags& f, const char* seed_help, const char* limit_help) {
  app.add_option("--data", f.data,
                 "directory of the IDX files [default: $TG_DATA, else data/mnist when it holds "
                 "MNIST, else /usr/share/datasets/fashion-mnist]")
      ->check(non_empty());
  app.add_option("--limit", f.limit, std::string(limit_help) + " (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--seed", f.seed, seed_help)->check(unsigned_64())->capture_default_str();
  app.add_option("--threads", f.threads, "OpenMP threads on the CPU [default: OpenMP's]")
      ->check(thread_count());
  app.add_option("--device", f.device, "cpu | cuda | cuda:N | auto (a GPU when present)")
      ->capture_default_str();
}

int parse_command_line(CLI::App& app, int argc, char** argv, const char* program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  }
  return -1;
}

MnistLoaders make_loaders(const Flags& f, const Device& device, uint64_t seed, int64_t shard_rank,
                          int64_t shard_count) {
  std::string dir;
  try {
    dir = data::find_mnist_dir(f.data);
  } catch (const Error& e) {
    throw FlagError(std::string("--data: ") + e.what());
  }
  data::MnistSplit train_set = data::load_mnist(dir, true);
  const data::MnistSplit test_set = data::load_mnist(dir, false);
  // Decided from the whole training set's pixels (before --limit), never from the name.
  const data::DatasetIdentity dataset = data::identify_dataset(train_set.images);
  if (f.limit > 0 && f.limit < train_set.images.size(0)) {
    train_set.images = train_set.images.slice(0, 0, f.limit);
    train_set.labels = train_set.labels.slice(0, 0, f.limit);
  }
  data::LoaderOptions train_options;
  train_options.mean = f.norm_mean >= 0 ? f.norm_mean : dataset.stats.mean;
  train_options.std = f.norm_std > 0 ? f.norm_std : dataset.stats.std;
  train_options.batch_size = f.batch;
  train_options.seed = seed;
  train_options.device = device;
  // On a GPU the data set lives there: batches are gathered and normalised on the device.
  train_options.resident = device.is_cuda();
  train_options.crop_pad = f.augment == "crop" || f.augment == "both" ? 2 : 0;
  train_options.flip = f.augment == "flip" || f.augment == "both";
  data::LoaderOptions test_options = train_options;
  train_options.shard_rank = shard_rank;
  train_options.shard_count = shard_count;
  test_options.batch_size = 1000;
  test_options.shuffle = false;
  test_options.crop_pad = 0;
  test_options.flip = false;
  MnistLoaders loaders;
  loaders.train =
      std::make_unique<data::DataLoader>(train_set.images, train_set.labels, train_options);
  loaders.test = std::make_unique<data::DataLoader>(test_set.images, test_set.labels, test_options);
  loaders.dataset = dataset.name;
  loaders.inputs = {train_options.mean, train_options.std};
  char measured[64];
  std::snprintf(measured, sizeof measured, "%.4f / %.4f", dataset.measured.mean,
                dataset.measured.std);
  if (f.norm_mean >= 0 || f.norm_std > 0) {
    loaders.inputs_from =
        std::string("--norm-mean/--norm-std; the training images measure ") + measured;
  } else if (dataset.name == "other") {
    loaders.inputs_from = "measured on the training images: neither Fashion-MNIST nor MNIST";
  } else {
    loaders.inputs_from = dataset.name + "'s published statistics, recognised from the training " +
                          "images (" + measured + ")";
  }
  return loaders;
}

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

int run_reporting_errors(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const FlagError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

std::shared_ptr<layers::Module> make_model(const Flags& f) {
  if (f.model == "cnn") return mnist_cnn(f.dropout >= 0 ? f.dropout : 0.5);
  return mnist_mlp(f.dropout >= 0 ? f.dropout : 0.2);
}

void train_epoch(layers::Module& model, optim::Optimizer& opt, data::DataLoader& loader, int epoch,
                 const std::function<void()>& after_step) {
  loader.start_epoch(epoch);
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const data::Batch batch = loader.batch(b);
    opt.zero_grad();
    cross_entropy(model(batch.x), batch.y).backward();
    opt.step();
    if (after_step) after_step();
  }
}

}  // namespace tg::examples
