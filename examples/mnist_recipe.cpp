#include "mnist_recipe.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

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
    h.unit_clip.agc_lambda = f.agc;
    h.weight_decay = decay;
    h.l1_penalty = f.l1;
    return std::make_unique<optim::AdamW>(params, h);
  }
  if (f.optimizer == "adam") {
    optim::AdamParams h;
    h.lr = lr;
    h.unit_clip.agc_lambda = f.agc;
    h.regularization = reg;
    return std::make_unique<optim::Adam>(params, h);
  }
  if (f.optimizer == "rmsprop") {
    optim::RMSpropParams h;
    h.lr = lr;
    h.unit_clip.agc_lambda = f.agc;
    h.regularization = reg;
    return std::make_unique<optim::RMSprop>(params, h);
  }
  if (f.optimizer == "adagrad") {
    optim::AdagradParams h;
    h.lr = lr;
    h.unit_clip.agc_lambda = f.agc;
    h.regularization = reg;
    return std::make_unique<optim::Adagrad>(params, h);
  }
  optim::SGDParams h;
  h.lr = lr;
  h.unit_clip.agc_lambda = f.agc;
  h.regularization = reg;
  h.momentum = f.optimizer == "sgd" ? 0.0 : 0.9;
  h.nesterov = f.optimizer == "nesterov";
  return std::make_unique<optim::SGD>(params, h);
}

std::optional<optim::HistoryClipOptions> history_clip_of(const std::string& spec) {
  if (spec == "off") return std::nullopt;
  const size_t colon = spec.find(':');
  const std::string rule = spec.substr(0, colon);
  if (rule != "auto" && rule != "zscore")
    throw FlagError("must be off, auto[:PERCENTILE] or zscore[:Z], got '" + spec + "'");
  optim::HistoryClipOptions o;
  o.rule = rule == "auto" ? optim::HistoryRule::Percentile : optim::HistoryRule::ZScore;
  if (colon == std::string::npos) return o;
  const std::string text = spec.substr(colon + 1);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  const bool number = !text.empty() && end == text.c_str() + text.size() && std::isfinite(v);
  if (rule == "auto") {
    if (!number || v < 0 || v > 100)
      throw FlagError("auto:P takes a percentile P in [0, 100], got '" + text + "'");
    o.percentile = v;
  } else {
    if (!number || v <= 0) throw FlagError("zscore:Z takes Z > 0, got '" + text + "'");
    o.z = v;
  }
  return o;
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

// --schedule: step and plateau act once per epoch, cosine and onecycle once per step.
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

std::shared_ptr<train::LrScheduler> make_scheduler(const Flags& f, optim::Optimizer& opt,
                                                   int64_t steps_per_epoch) {
  std::unique_ptr<optim::LrSchedule> schedule = make_schedule(f, opt, steps_per_epoch);
  if (!schedule) return nullptr;
  const bool per_step = f.schedule == "cosine" || f.schedule == "onecycle";
  return std::make_shared<train::LrScheduler>(
      std::move(schedule),
      per_step ? train::ScheduleTiming::PerStep : train::ScheduleTiming::PerEpoch,
      f.schedule == "plateau" ? "test_loss" : "");
}

Setup make_setup(const Flags& f, const Device& device) {
  Setup s;
  manual_seed(f.seed);  // the model's initial values come from the CPU generator
  s.model = make_model(f);
  initialize(*s.model, f.init);
  s.model->to(device);
  if (!f.init_from.empty()) {
    train::WeightsOptions options;
    if (!f.init_rename.empty()) options.rename = train::parse_rename(f.init_rename);
    train::load_weights(*s.model, f.init_from, options);
  }
  s.opt = make_optimizer(f, s.model->parameters());
  return s;
}

train::TrainerOptions trainer_options(const Flags& f) {
  train::TrainerOptions o;
  o.epochs = f.epochs;
  o.accumulate = f.accumulate;
  o.clip_norm = f.clip_norm;
  o.clip_value = f.clip_value;
  o.clip_auto = history_clip_of(f.clip);
  o.sync_buffers = f.sync_bn;
  o.validation_name = "test";
  o.precision = f.precision == "bf16"   ? DType::BFloat16
                : f.precision == "fp16" ? DType::Float16
                                        : DType::Float32;
  if (f.loss_scaler == "on" || (f.loss_scaler == "auto" && f.precision == "fp16"))
    o.loss_scaler = optim::LossScalerOptions{};
  return o;
}

distributed::DataParallelOptions data_parallel_options(const Flags& f) {
  distributed::DataParallelOptions o;
  if (f.bucket_mb == 0) {
    o.bucket_bytes = o.first_bucket_bytes = INT64_MAX;
    o.overlap = false;
  } else {
    o.bucket_bytes = static_cast<int64_t>(f.bucket_mb * 1024 * 1024);
    o.bucket_bytes = std::max<int64_t>(o.bucket_bytes, 1);
    o.first_bucket_bytes = std::min(o.first_bucket_bytes, o.bucket_bytes);
  }
  return o;
}

void print_header(const Flags& f, const layers::Module& model, const optim::Optimizer& opt,
                  const MnistLoaders& loaders, const Device& device) {
  std::printf(
      "mnist_train: %s, %s (lr %g), %s on %s: %lld training / %lld test images, %lld "
      "parameters, %d OpenMP threads\n",
      f.model.c_str(), opt.name().c_str(), opt.lr(), loaders.dataset.c_str(), device.str().c_str(),
      static_cast<long long>(loaders.train->size()), static_cast<long long>(loaders.test->size()),
      static_cast<long long>(model.parameter_count()), get_num_threads());
  std::printf("mnist_train: inputs (pixel / 255 - %.4f) / %.4f (%s), learning-rate schedule %s\n",
              loaders.inputs.mean, loaders.inputs.std, loaders.inputs_from.c_str(),
              f.schedule.c_str());
  if (device.is_cpu())
    std::printf("mnist_train: CPU backend: %s\n", cpu_backend_description().c_str());
  std::fflush(stdout);
}

int report_evaluation(const Flags& f, layers::Module& model, data::DataLoader& test,
                      const Device& device) {
  const train::ClassificationMetrics m = train::evaluate(model, test);
  std::printf("%s\n", train::json_object({{"test_accuracy", train::json_number(m.accuracy())},
                                          {"test_loss", train::json_number(m.loss())},
                                          {"top5_accuracy", train::json_number(m.top_k_accuracy())},
                                          {"weights", train::json_string(f.init_from)},
                                          {"model", train::json_string(f.model)},
                                          {"device", train::json_string(device.str())}})
                          .c_str());
  return 0;
}

}  // namespace tg::examples
