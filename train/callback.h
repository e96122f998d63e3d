// Callbacks: what a training run tells the code around it, and how that code steers it
// (Keras' callbacks). The Trainer (train/trainer.h) calls every registered callback, in
// the order they were added, at each point of a run:
//
//   on_train_begin                        (after a resume: on_resume first)
//     on_epoch_begin                      (state.epoch set)
//       on_batch_begin                    (state.batch set)
//         after_backward                  (state.loss: the batch's loss, on the device;
//                                          data-parallel: at a group's last batch, the
//                                          gradients already summed over the ranks)
//         after_step                      (the batch that ends an accumulation group)
//       on_batch_end                      (state.loss_sum: the epoch's running sum)
//     on_epoch_end                        (state.logs: train_loss, <val>_loss,
//                                          <val>_accuracy, grad_norm, lr, seconds,
//                                          images_per_second, and what callbacks add)
//   on_train_end
//
// A callback reads and writes the TrainState it is given: state.stop ends the run after the
// current epoch, state.stop_now after the current batch; logs written at on_epoch_end reach
// the callbacks after it. Nothing here waits for the device unless a callback reads a
// device value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/safetensors.h"
#include "../core/tensor.h"
#include "../foundation/config.h"
#include "../layers/module.h"
#include "../optim/optimizer.h"
#include "../optim/schedule.h"

TG_API_BEGIN

namespace tg::train {

// An epoch's results by name, in the order they were set (the metrics log keeps it).
// Values are numbers; a callback may add a raw JSON value (set_json: a list of alarms)
// that the JSON Lines log writes as is and other writers skip.
class Logs {
 public:
  void set(const std::string& name, double value);
  void set_json(const std::string& name, const std::string& json);
  bool has(const std::string& name) const;
  // The number under `name`; throws naming it and the logs there are when there is none.
  double get(const std::string& name) const;
  void clear() { entries_.clear(); }

  struct Entry {
    std::string name{};
    double value = 0;
    std::string json{};  // a raw JSON value instead of the number, when not empty
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  Entry* find(const std::string& name);
  std::vector<Entry> entries_;
};

struct TrainState {
  layers::Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  // The learning-rate schedule when a LrScheduler callback drives one (checkpoints keep
  // its counters).
  optim::LrSchedule* schedule = nullptr;
  Device device{};
  std::string validation_name = "val";  // the prefix of the validation logs
  int epoch = 0;                        // 1-based: the epoch being run, or the last one run
  int epochs = 0;                       // the last epoch of the run
  int64_t batch = 0;                    // 0-based, within the epoch
  int64_t batches = 0;                  // batches in this epoch
  int64_t batch_size = 0;               // images in a batch of this process
  int64_t steps_per_epoch = 0;
  int64_t step = 0;            // optimizer steps of this run (skipped ones too)
  int64_t images = 0;          // training images in an epoch, over every rank
  Tensor loss{};               // () the batch's mean loss, on the device
  Tensor loss_sum{};           // () the epoch's loss summed over its images so far, on the device
  std::string resumed_from{};  // the checkpoint Trainer::resume read ("" for a new run)
  bool primary = true;         // this process prints and writes files (rank 0)
  int world_size = 1;          // processes of a data-parallel run
  Logs logs{};                 // the epoch's results (on_epoch_end)
  // What a training checkpoint stores beside the weights: the run's configuration and what
  // callbacks need back on a resume (early stopping's best), by key.
  Metadata checkpoint_metadata{};
  // Set by a callback to end the run: after the current epoch, or (stop_now) after the
  // current batch; stop_reason says why ("early_stop", an alarm's kind, ...).
  bool stop = false;
  bool stop_now = false;
  std::string stop_reason{};

  // Sets key in checkpoint_metadata (replacing a value already there).
  void set_checkpoint_metadata(const std::string& key, const std::string& value);
};

class Callback {
 public:
  virtual ~Callback() = default;
  // Once, when added to a Trainer (before a resume): to register what the trainer keeps
  // (a LrScheduler's schedule).
  virtual void on_attach(TrainState&) {}
  virtual void on_train_begin(TrainState&) {}
  virtual void on_train_end(TrainState&) {}
  virtual void on_epoch_begin(TrainState&) {}
  virtual void on_epoch_end(TrainState&) {}
  virtual void on_batch_begin(TrainState&) {}
  virtual void on_batch_end(TrainState&) {}
  virtual void after_backward(TrainState&) {}
  virtual void after_step(TrainState&) {}
  // After Trainer::resume: the checkpoint's metadata, for what a callback saved there.
  virtual void on_resume(TrainState&, const Metadata&) {}
};

}  // namespace tg::train

TG_API_END
