// Training checkpoints for the example programs: everything a run needs to continue
// bit for bit, in one safetensors file (core/safetensors.h, written atomically):
//   model.<name>                    the model's state dict (PyTorch's names)
//   optimizer.<param>.<buffer>      each parameter's optimizer state, under the
//                                   model's name for that parameter (exp_avg, ...)
//   optimizer.param_groups.<g>.*    each group's step count and hyperparameters
//   schedule.step, schedule.values  the learning-rate schedule's counters (if any)
//   generator.<device>              int64 [seed, offset] of each device's generator
//   progress.epoch                  epochs completed (the loader's order of epoch e
//                                   follows from its seed and e, Note [loader order])
// and metadata: format, format_version, tamegrad_version, model, and the caller's (the
// run's configuration among them: Note [run configuration], examples/mnist_resume.h).
// The optimizer must have been built from model.parameters(), in that order.
#pragma once

#include <cstdint>
#include <string>

#include "../../tamegrad.h"

namespace tg::examples {

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
int64_t load_training_checkpoint(const std::string& path, layers::Module& model,
                                 optim::Optimizer& optimizer, optim::LrSchedule* schedule,
                                 Metadata* metadata = nullptr);

}  // namespace tg::examples
