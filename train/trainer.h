// Trainer: the training loop of the library (fit / evaluate / predict) over a Module, an
// optimizer, a loss and DataLoaders, on any device, with callbacks (train/callback.h).
//
// A step (Note [trainer step]): the gradients are zeroed at the first batch of an
// accumulation group of `accumulate` batches; each batch's loss is weighted by its share of
// the group's images (over every rank of a data-parallel run), so the group's summed
// gradient is the mean over its images, as one batch of them would give; at the group's
// last batch the gradients are reduced over the ranks (DataParallel), clipped by value,
// then by global norm, fixed or from the norms' history (folded into the update, on the
// device), and the optimizer steps (clipping unit-wise first where a group asks). With
// options.precision the forward runs under autocast; with options.loss_scaler the loss is
// scaled before backward and the step unscales, skipping a step whose gradients overflowed.
// The epoch's loss is summed on the device and read once, at the epoch's end; nothing else
// in a step waits for the device unless a callback reads a device value.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../core/ops/loss.h"
#include "../data/dataloader.h"
#include "../distributed/data_parallel.h"
#include "../foundation/config.h"
#include "../optim/loss_scaler.h"
#include "callback.h"
#include "metrics.h"

TG_API_BEGIN

namespace tg::train {

// The loss of a batch: model output, targets, and the reduction asked for (Mean when
// training, Sum when evaluating, so the mean over a data set is exact).
using LossFunction = std::function<Tensor(const Tensor& output, const Tensor& target, Reduction)>;
// cross_entropy on class indices.
LossFunction cross_entropy_loss();

struct TrainerOptions {
  int epochs = 1;
  int accumulate = 1;     // batches per optimizer step (>= 1)
  double clip_norm = 0;   // clip the global gradient norm to this (0: off)
  double clip_value = 0;  // clamp every gradient element to [-v, v] first (0: off)
  // Clip the global norm to a threshold from the run's own history instead (AutoClip's
  // percentile or a z-score: HistoryClipOptions); the Trainer sets it on the optimizer,
  // whose state (and so the training checkpoints) then holds the history.
  std::optional<optim::HistoryClipOptions> clip_auto{};
  // Measure the global gradient norm at the epoch's last step (one reduction) when no
  // clipping measures it: logs["grad_norm"].
  bool measure_grad_norm = true;
  // Data-parallel: average the buffers (BatchNorm statistics) over the ranks before each
  // evaluation (they stay local otherwise).
  bool sync_buffers = false;
  std::string validation_name = "val";  // logs "<name>_loss", "<name>_accuracy"
  // Mixed precision: the forward (model and loss) runs in an autocast scope of this dtype
  // (Note [autocast], core/autocast.h: DType::BFloat16 or DType::Float16; Float32: off).
  // The default step does both; a step function of one's own (set_step_function) is refused
  // with either set, since the Trainer could not know that it scales its loss (the step would
  // divide unscaled gradients by the scale): such a function opens its own autocast scope and
  // scales its loss with a LossScaler it attaches to the optimizer itself.
  DType precision = DType::Float32;
  // Loss scaling (optim/loss_scaler.h), float16's companion: the Trainer attaches a
  // LossScaler with these options to the optimizer (so its state is in the checkpoints)
  // and scales each batch's loss; logs "loss_scale" and "skipped_steps" after each epoch.
  std::optional<optim::LossScalerOptions> loss_scaler{};
};

// Runs one step's forward and backward of `batch` and returns its loss (mean over the
// batch, on the device): the default runs them eagerly; a whole-step CUDA graph replay can
// take its place (set_step_function). `weight` scales the loss before backward.
using StepFunction =
    std::function<Tensor(const data::Batch& batch, double weight, TrainState& state)>;

// Mean loss (`loss` with Reduction::Sum over each batch), accuracy and the rest of
// ClassificationMetrics of `model` over `loader`, in eval mode without gradients (the
// model's mode is put back). Reads each batch's outputs to the host.
ClassificationMetrics evaluate(layers::Module& model, data::DataLoader& loader,
                               const LossFunction& loss = cross_entropy_loss(), int top_k = 5);

class Trainer {
 public:
  Trainer(layers::Module& model, optim::Optimizer& optimizer,
          LossFunction loss = cross_entropy_loss(), const TrainerOptions& options = {});

  // Callbacks run in the order added.
  Trainer& add(std::shared_ptr<Callback> callback);
  // Gradients summed over the ranks of `parallel` before each step; the epoch's training
  // loss summed and the validation metrics taken from rank 0, so every rank decides alike.
  void set_data_parallel(distributed::DataParallel* parallel, int rank, int world_size);
  void set_step_function(StepFunction step);
  // The scaler options.loss_scaler made (null without), e.g. for a callback that reads it.
  const optim::LossScaler* loss_scaler() const { return scaler_ ? &*scaler_ : nullptr; }

  // Loads a training checkpoint (train/checkpoint.h) into the model, the optimizer, the
  // schedule of a LrScheduler callback added before, and the generators; fit then goes on
  // after the checkpoint's epoch over `train` (the loader fit will be given). `check`, when
  // given, sees the checkpoint's metadata first (to refuse a run of another configuration);
  // then the callbacks (on_resume). Returns the metadata.
  Metadata resume(const std::string& path, const data::DataLoader& train,
                  const std::function<void(const Metadata&)>& check = nullptr);

  // Trains epochs start_epoch()+1 .. options.epochs over `train`, evaluating on
  // `validation` (when given) after each epoch. Returns the final state.
  const TrainState& fit(data::DataLoader& train, data::DataLoader* validation = nullptr);
  // Mean loss, accuracy and the rest of ClassificationMetrics over `loader`, in eval mode
  // without gradients (the model's mode is put back).
  ClassificationMetrics evaluate(data::DataLoader& loader, int top_k = 5);
  // The model's outputs on every image of `loader`, in order, on the CPU.
  Tensor predict(data::DataLoader& loader);

  int start_epoch() const { return start_epoch_; }
  TrainState& state() { return state_; }
  double seconds() const { return train_seconds_; }  // training time of fit, evaluation excluded

 private:
  void for_each(void (Callback::*point)(TrainState&));
  void prepare(const data::DataLoader& train);
  // The epoch's batches; returns the last measured global gradient norm (or undefined).
  Tensor run_epoch(data::DataLoader& train);
  void end_epoch(data::DataLoader& train, data::DataLoader* validation, double seconds,
                 const Tensor& grad_norm);
  void finish_group(int64_t b, Tensor& grad_norm);

  layers::Module& model_;
  optim::Optimizer& optimizer_;
  LossFunction loss_;
  TrainerOptions options_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  distributed::DataParallel* parallel_ = nullptr;
  StepFunction step_;
  bool custom_step_ = false;  // set_step_function was called
  std::optional<optim::LossScaler> scaler_;
  TrainState state_;
  int start_epoch_ = 0;
  double train_seconds_ = 0;
};

}  // namespace tg::train

TG_API_END
