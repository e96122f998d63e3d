// mnist_train's recipe: its flags (Flags, parsed with CLI11 in mnist_flags.cpp, `--help`
// lists them with their defaults) and what they build: the device, the data loaders, the
// model with its initialisation, the optimizer, the learning-rate schedule and the
// Trainer's options. The training loop is the library's (train/trainer.h); every example
// program builds on these.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../data/dataloader.h"
#include "../data/mnist.h"
#include "../tamegrad.h"

namespace CLI {
class App;
}  // namespace CLI

namespace tg::examples {

struct Flags {
  std::string model = "mlp";
  std::string optimizer = "adam";
  double lr = -1;  // -1: the optimizer's default (see --help)
  int epochs = 10;
  int64_t batch = 128;
  std::string device = "auto";
  uint64_t seed = 0;
  int threads = 0;              // 0: OpenMP's default
  bool flush_denormal = false;  // subnormal floats as zero on the CPU (tg::set_flush_denormal)
  double clip_norm = 0;
  double clip_value = 0;
  std::string clip = "off";  // off | auto[:PERCENTILE] | zscore[:Z] (history_clip_of)
  double agc = 0;            // unit-wise adaptive clipping's lambda (0: off)
  std::string init = "default";
  int early_stop = 0;                // patience in epochs (0: off)
  double min_delta = 0;              // --early-stop's minimum improvement of the test loss
  bool restore_best = false;         // at the end, restore the weights of the best test loss
  int accumulate = 1;                // batches per optimizer step
  std::string precision = "fp32";    // fp32 | bf16 | fp16 (autocast, Note [autocast])
  std::string loss_scaler = "auto";  // auto (on for fp16) | on | off
  double weight_decay = -1;          // -1: 0.01 for adamw, else 0
  double l1 = 0, l2 = 0;
  double dropout = -1;    // -1: the model's default (mlp 0.2, cnn 0.5)
  int64_t limit = 0;      // 0: every training image
  double norm_mean = -1;  // -1: the data set's (data::identify_dataset)
  double norm_std = -1;
  std::string schedule = "cosine";
  int warmup = 0;  // epochs of linear warm-up (cosine)
  std::string metrics;
  std::string data;
  std::string checkpoint;        // written after every epoch
  std::string resume;            // a checkpoint to continue from
  std::string tensorboard;       // a directory for TensorBoard scalar logs
  std::string augment = "none";  // none | crop | flip | both
  int stop_after = 0;            // stop after this epoch, as if interrupted (0: never)
  bool distributed = false;      // data-parallel over the processes mpirun started
  bool sync_bn = false;          // --distributed: average BatchNorm statistics over ranks
  double dist_timeout = 300;     // --distributed: seconds a collective may wait
  double bucket_mb = 25;         // --distributed: gradient bucket size (0: whole buffers)
  bool monitor = false;          // gradient telemetry and alarms (optim/monitor.h)
  double max_grad_norm = 0;      // --monitor: explosion alarm above this global norm (0: off)
  std::string save_model;        // the final weights, a plain state dict
  std::string init_from;         // weights to start from
  std::string init_rename;       // from=to,... key prefixes of init_from renamed
  bool evaluate = false;         // evaluate init_from on the test set only
};

struct FlagError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses the command line into `f`. Returns -1 to go on, else the exit code: 0 after
// --help, 2 for a bad flag (the message, naming the flag and the valid values, printed).
// The training loader (--batch, --limit, --augment; shuffled from `seed`) and the test
// loader (batches of 1000, in order) of --data on `device`, resident there on a GPU.
struct MnistLoaders {
  std::unique_ptr<data::DataLoader> train, test;
  std::string dataset;      // "fashion-mnist", "mnist" or "other" (data::identify_dataset)
  data::PixelStats inputs;  // what the images were normalised with
  std::string inputs_from;  // where `inputs` came from, for the log
};
// With shard_count > 1 the training loader delivers rank shard_rank's share of each global
// batch (Note [loader shards], data/dataloader.h); the test loader is whole on every rank.
MnistLoaders make_loaders(const Flags& f, const Device& device, uint64_t seed,
                          int64_t shard_rank = 0, int64_t shard_count = 1);

// A test loss (mean cross-entropy) and accuracy.
struct Result {
  double loss = 0, accuracy = 0;
};

// The --model network (mnist_models.h) with --dropout (or the model's default), on the CPU.
std::shared_ptr<layers::Module> make_model(const Flags& f);

// Runs a program's body, mapping what it throws to exit codes as every example does: a
// FlagError (a bad flag, named in its message) gives 2, any other exception 1, each printed
// after "<program>: " on stderr.
int run_reporting_errors(const char* program, const std::function<int()>& body);

int parse_flags(int argc, char** argv, Flags& f);

// The flags every example program shares, each with one spelling and one check: --data,
// --limit (`limit_help` says what the first N images are used for), --seed (`seed_help`
// says what it seeds), --threads, --flush-denormal and --device.
void add_run_flags(CLI::App& app, Flags& f, const char* seed_help,
                   const char* limit_help = "train on the first N training images");
// What --threads and --flush-denormal ask of the CPU, for the calling thread and its team.
void apply_cpu_flags(const Flags& f);

// Parses the command line with `app` as every example does: returns -1 to go on, 0 after
// --help (printed), 2 for a bad flag (CLI11's message printed after "<program>: ").
int parse_command_line(CLI::App& app, int argc, char** argv, const char* program);

Device pick_device(const std::string& spec);
// --lr, or the optimizer's default when not given.
double resolved_lr(const Flags& f);
// --clip's rule: none for "off"; "auto[:P]" AutoClip's percentile P of the last 1000
// norms (default 10); "zscore[:Z]" the z-score rule (default 2.5). Throws FlagError naming
// what is wrong.
std::optional<optim::HistoryClipOptions> history_clip_of(const std::string& spec);
// --init on every Linear and Conv2d weight of `model`.
void initialize(layers::Module& model, const std::string& scheme);
std::unique_ptr<optim::Optimizer> make_optimizer(const Flags& f, const std::vector<Tensor>& params);
// `steps_per_epoch`: optimizer steps in an epoch (batches / --accumulate, rounded up).
std::unique_ptr<optim::LrSchedule> make_schedule(const Flags& f, optim::Optimizer& opt,
                                                 int64_t steps_per_epoch);
// The --schedule as a callback stepping at its timing (none: null).
std::shared_ptr<train::LrScheduler> make_scheduler(const Flags& f, optim::Optimizer& opt,
                                                   int64_t steps_per_epoch);

// The model (--model, --dropout, seeded by --seed, --init, moved to `device`, --init-from
// weights) and its optimizer (--optimizer, --lr, decay and penalties).
struct Setup {
  std::shared_ptr<layers::Module> model;
  std::unique_ptr<optim::Optimizer> opt;
};
Setup make_setup(const Flags& f, const Device& device);
// The Trainer's options from the flags (validation logs named "test").
train::TrainerOptions trainer_options(const Flags& f);
// --bucket-mb: DataParallel's buckets (0: each flat buffer whole, after backward).
distributed::DataParallelOptions data_parallel_options(const Flags& f);
// mnist_train's first lines: the run, the inputs' normalisation, the CPU backend.
void print_header(const Flags& f, const layers::Module& model, const optim::Optimizer& opt,
                  const MnistLoaders& loaders, const Device& device);
// --evaluate: the --init-from weights' test metrics as the summary line.
int report_evaluation(const Flags& f, layers::Module& model, data::DataLoader& test,
                      const Device& device);

}  // namespace tg::examples
