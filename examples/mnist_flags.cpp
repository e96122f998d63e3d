// mnist_train's flags (mnist_recipe.h): parse_flags, the flags every example shares
// (add_run_flags), and the parsing every example does (parse_command_line).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "../core/denormal.h"
#include "../core/threads.h"
#include "common/flags.h"
#include "mnist_recipe.h"

namespace tg::examples {

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
  app.add_option("--clip", f.clip,
                 "clip the global norm to a threshold from its own history: auto[:P] (AutoClip: "
                 "the P-th percentile of the last 1000 norms, P default 10) | zscore[:Z] (norms "
                 "over Z standard deviations above their moving mean, Z default 2.5) | off")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              history_clip_of(text);
            } catch (const FlagError& e) {
              return e.what();
            }
            return "";
          },
          "off|auto[:P]|zscore[:Z]"))
      ->capture_default_str()
      ->excludes("--clip-norm");
  app.add_option("--agc", f.agc,
                 "adaptive gradient clipping, unit-wise (NFNets): each output unit's gradient "
                 "at most LAMBDA x its weights' norm, e.g. 0.01 [default: off]")
      ->check(positive_number())
      ->excludes("--clip-norm")
      ->excludes("--clip");
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
  app.add_option("--precision", f.precision,
                 "fp32 | bf16 | fp16: matrix products and convolutions in that precision "
                 "(autocast), everything else and the weights in float32")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}))
      ->capture_default_str();
  app.add_option("--loss-scaler", f.loss_scaler,
                 "auto (on with fp16) | on | off: scale the loss, skip steps whose gradients "
                 "overflow (PyTorch's GradScaler defaults)")
      ->check(CLI::IsMember({"auto", "on", "off"}))
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
  app.add_option("--bucket-mb", f.bucket_mb,
                 "with --distributed, gradients are summed in buckets of this many MiB, each "
                 "started as soon as backward has finished its gradients (the first bucket: "
                 "at most 1 MiB); 0 sums each flat buffer whole after backward")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
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
  app.add_option("--save-model", f.save_model,
                 "at the end, write the model's weights (a plain state dict, which PyTorch's "
                 "load_state_dict takes after safetensors.torch.load_file) to this file")
      ->check(non_empty());
  app.add_option("--init-from", f.init_from,
                 "start from the weights in this safetensors file (ours or PyTorch's; "
                 "--init-rename maps its keys)")
      ->check(non_empty());
  app.add_option("--init-rename", f.init_rename,
                 "from=to,...: the --init-from file's key prefixes renamed to the model's "
                 "(model.=: strips model.)");
  app.add_flag("--evaluate", f.evaluate,
               "evaluate the --init-from weights on the test set and print the summary; no "
               "training");
  add_run_flags(app, f, "seed of the model, the shuffling and dropout");
  // Flags that mean nothing without another are refused rather than ignored.
  app.get_option("--max-grad-norm")->needs("--monitor");
  app.get_option("--sync-bn")->needs("--distributed");
  app.get_option("--dist-timeout")->needs("--distributed");
  app.get_option("--bucket-mb")->needs("--distributed");
  app.get_option("--min-delta")->needs("--early-stop");
  app.get_option("--init-rename")->needs("--init-from");
  app.get_option("--evaluate")->needs("--init-from")->excludes("--resume");
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
  app.add_flag("--flush-denormal", f.flush_denormal,
               "on the CPU, treat subnormal floats as zero (torch.set_flush_denormal): faster late "
               "in training, results differ in tiny values");
  app.add_option("--device", f.device, "cpu | cuda | cuda:N | auto (a GPU when present)")
      ->capture_default_str();
}

void apply_cpu_flags(const Flags& f) {
  if (f.threads > 0) tg::set_num_threads(f.threads);
  if (f.flush_denormal) tg::set_flush_denormal(true);
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

}  // namespace tg::examples
