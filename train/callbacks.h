// The training package's callbacks beyond the writers (progress.h, metrics_log.h,
// tensorboard.h, checkpoint.h): early stopping, learning-rate schedules, terminate on a
// non-finite loss, the gradient monitor, and weight averaging. Each is a small class of the
// Callback interface (callback.h), which a user's own callbacks implement the same way.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/readback.h"
#include "../data/dataloader.h"
#include "../foundation/config.h"
#include "../foundation/error.h"
#include "../optim/averaging.h"
#include "../optim/early_stopping.h"
#include "../optim/monitor.h"
#include "../optim/schedule.h"
#include "../optim/telemetry.h"
#include "callback.h"

TG_API_BEGIN

namespace tg::train {

// Keras' EarlyStopping on a logged metric (lower is better): stops the run after
// `patience` epochs without an improvement of more than min_delta (patience 0: never stops,
// only tracks the best, for restore_best and checkpoints); with restore_best, the best
// epoch's weights are put back at the end of the run (restored() says whether they were).
// The best value and epoch travel in checkpoints (early_stop_best_loss,
// early_stop_best_epoch), so a resumed run stops where the uninterrupted one would.
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  int patience = 0;
  double min_delta = 0;
  bool restore_best = false;
  std::string announce{};  // a program name: print "<announce>: early stop after ..." (""= quiet)
};

class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options);
  void on_epoch_end(TrainState& state) override;
  void on_train_end(TrainState& state) override;
  void on_resume(TrainState& state, const Metadata& saved) override;
  const optim::EarlyStopping& tracker() const { return early_; }
  bool stopped() const { return stopped_; }
  bool restored() const { return restored_; }

 private:
  EarlyStoppingOptions options_;
  optim::EarlyStopping early_;
  bool stopped_ = false, restored_ = false;
};

// A learning-rate schedule stepped at its own timing: after every optimizer step (cosine,
// one-cycle) or at each epoch's end (step, plateau). With `monitor`, the epoch's step
// passes that logged metric to the schedule (ReduceLROnPlateau's step_on). The trainer's
// checkpoints keep the schedule's counters.
enum class ScheduleTiming { PerStep, PerEpoch };

class LrScheduler : public Callback {
 public:
  LrScheduler(std::unique_ptr<optim::LrSchedule> schedule, ScheduleTiming timing,
              std::string monitor = "");
  void on_attach(TrainState& state) override;
  void after_step(TrainState& state) override;
  void on_epoch_end(TrainState& state) override;
  // The schedule's count must be the one the checkpoint's epochs make.
  void on_resume(TrainState& state, const Metadata& saved) override;
  optim::LrSchedule& schedule() { return *schedule_; }

 private:
  std::unique_ptr<optim::LrSchedule> schedule_;
  ScheduleTiming timing_;
  std::string monitor_;
};

// Thrown at the first non-finite training loss: the message names the epoch and the batch.
class NonFiniteLoss : public Error {
 public:
  using Error::Error;
};

// Note [non-finite loss]: Keras' TerminateOnNaN without a wait for the device per step.
// Each batch's loss is queued for the host through a readback ring (core/readback.h) and
// checked when it arrives: at once on the CPU, a batch or two later on a GPU, naming the
// batch it belongs to either way. The first non-finite loss throws NonFiniteLoss (a run
// that went on would train on NaN weights to chance accuracy, and once exited 0 doing so).
class TerminateOnNonFinite : public Callback {
 public:
  void on_train_begin(TrainState& state) override;
  void after_backward(TrainState& state) override;
  void on_epoch_end(TrainState& state) override;  // checks every loss still in flight

 private:
  void check(double loss, const TrainState& state);
  Tensor value_;  // () float64 on the training device: the loss last queued
  std::unique_ptr<Readback> readback_;
  std::deque<std::pair<int, int64_t>> queued_;  // (epoch, batch) of each loss in flight
};

// The gradient telemetry and monitor (optim/telemetry.h, optim/monitor.h) around a run:
// after every step the step's statistics are recorded (nothing waits) and those that have
// arrived are shown to the monitor; each new alarm is printed on stderr (on rank 0, after
// "<program>: alarm: ") and the epoch's alarms go to logs as "alarms" (a JSON list). An
// alarm whose action is stop ends the run: between batches when one process trains, at the
// epoch's end in a data-parallel run (every rank has then seen the same records).
class GradientMonitor : public Callback {
 public:
  GradientMonitor(std::string program, const optim::MonitorOptions& options = {},
                  bool keep_records = false);
  void on_train_begin(TrainState& state) override;
  void after_step(TrainState& state) override;
  void on_batch_end(TrainState& state) override;
  void on_epoch_end(TrainState& state) override;
  // Takes every record still in flight (waits for them).
  void drain();
  bool stop_requested() const { return monitor_.stop_requested(); }
  // The kind of the first alarm whose action is stop, or "" when none.
  std::string stopped_by() const;
  const std::vector<optim::Alarm>& alarms() const { return monitor_.alarms(); }
  const std::vector<optim::GradientStats>& records() const { return records_; }

 private:
  void take(const optim::GradientStats& stats);
  std::string alarms_json();
  std::string program_;
  bool print_ = true, keep_ = false;
  std::unique_ptr<optim::GradientTelemetry> telemetry_;
  optim::GradientMonitor monitor_;
  std::vector<optim::Alarm> unreported_;
  std::vector<optim::GradientStats> records_;
};

// EMA of the parameters after every step and/or SWA at each epoch's end from `swa_from`
// on (optim/averaging.h); apply() puts an average into another model of the same
// architecture and recomputes its BatchNorm statistics on training batches.
struct AveragingOptions {
  double ema_decay = 0;  // 0: no EMA
  int swa_from = 0;      // 0: no SWA
};

class WeightAveraging : public Callback {
 public:
  explicit WeightAveraging(const AveragingOptions& options);
  void on_train_begin(TrainState& state) override;
  void after_step(TrainState& state) override;
  void on_epoch_end(TrainState& state) override;
  const optim::AveragedWeights* ema() const { return ema_.get(); }
  const optim::AveragedWeights* swa() const { return swa_.get(); }
  // `into` gets `source`'s state, then `average`'s parameters, then BatchNorm statistics
  // recomputed over the first `batches` batches of `loader` (layers::update_batch_norm).
  static void apply(const optim::AveragedWeights& average, const layers::Module& source,
                    layers::Module& into, data::DataLoader& loader, int64_t batches = 50);

 private:
  AveragingOptions options_;
  std::unique_ptr<optim::AveragedWeights> ema_, swa_;
};

}  // namespace tg::train

TG_API_END
