// Training checkpoints: everything a run needs to continue bit for bit, in one safetensors
// file (core/safetensors.h, written atomically):
//   model.<name>                    the model's state dict (PyTorch's names)
//   optimizer.<param>.<buffer>      each parameter's optimizer state, under the
//                                   model's name for that parameter (exp_avg, ...)
//   optimizer.param_groups.<g>.*    each group's step count and hyperparameters
//   optimizer.clip_history.*        a history-based clip's recorded norms (if set)
//   optimizer.loss_scaler.*         a loss scaler's scale, growth tracker, skips and options (if
//   set) schedule.step, schedule.values  the learning-rate schedule's counters (if any)
//   generator.<device>              int64 [seed, offset] of each device's generator
//   progress.epoch                  epochs completed (the loader's order of epoch e
//                                   follows from its seed and e, Note [loader order])
// and metadata: format, format_version, tamegrad_version, optimizer, and the caller's (a
// run's configuration and what callbacks keep: TrainState::checkpoint_metadata).
// The optimizer must have been built from model.parameters(), in that order.
// ModelCheckpoint writes one after epochs; Trainer::resume reads one back.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "../core/safetensors.h"
#include "../foundation/config.h"
#include "../layers/module.h"
#include "../optim/optimizer.h"
#include "../optim/schedule.h"
#include "callback.h"

TG_API_BEGIN

namespace tg::train {

constexpr const char* kCheckpointFormat = "tamegrad-training-checkpoint";
constexpr const char* kCheckpointVersion = "2";  // 2: with the run configuration

void save_training_checkpoint(const std::string& path, const layers::Module& model,
                              const optim::Optimizer& optimizer, const optim::LrSchedule* schedule,
                              int64_t epochs_done, Metadata metadata);

// Loads a checkpoint of the same model and optimizer (and schedule, or none) into them
// and the generators; returns the epochs completed, and the file's metadata into
// `metadata` when given (the caller's own keys travel there). Throws naming the file and
// what differs, changing nothing, when it does not fit: an unexpected or missing entry
// (generator.cpu and the model's device's generator are required), a NaN or infinity in
// the model's or the optimizer's state, state that does not fit (named by the model's
// parameter names).
// `check`, when given, sees the file's metadata before anything else is compared or
// loaded (a run's configuration, to refuse another run's checkpoint by what differs).
int64_t load_training_checkpoint(const std::string& path, layers::Module& model,
                                 optim::Optimizer& optimizer, optim::LrSchedule* schedule,
                                 Metadata* metadata = nullptr,
                                 const std::function<void(const Metadata&)>& check = nullptr);

// Saves the training checkpoint after epochs (on rank 0 only), with the run's state and
// TrainState::checkpoint_metadata as metadata:
//   every `every` epochs (1: each) to `path`, the last one kept; or, with best_only, only
//   when the logged `monitor` (default "val_loss") improves on the best so far (lower is
//   better, or higher with maximize), to `path`: the best epoch's state.
struct CheckpointOptions {
  int every = 1;
  bool best_only = false;
  std::string monitor = "val_loss";
  bool maximize = false;
};

class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string path, CheckpointOptions options = {});
  void on_epoch_end(TrainState& state) override;
  int saved_epoch() const { return saved_epoch_; }  // the epoch last saved (0: none)
  double best() const { return best_; }

 private:
  std::string path_;
  CheckpointOptions options_;
  double best_;
  int saved_epoch_ = 0;
};

}  // namespace tg::train

TG_API_END
