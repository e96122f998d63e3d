// Early stopping (Keras' EarlyStopping, Prechelt 1998): watch a value per epoch (a
// validation loss: lower is better), stop after `patience` epochs without an improvement of
// more than `min_delta`, and optionally keep the best weights to restore them. Usable from
// any training loop; mnist_train --early-stop / --restore-best uses it.
//
// The snapshot is a copy of the tensors given (e.g. model.state_dict(): parameters and
// buffers), made on their device (no host copy); restoring copies it back into the
// tensors given then, in place, by name. optim/ knows nothing of layers/: a NamedTensors
// list is all it takes.
//
// Tests: tests/unit/early_stopping_test.cpp, tests/examples/mnist_train_test.cpp
#pragma once

#include <limits>

#include "../core/state_dict.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::optim {

struct EarlyStoppingOptions {
  int patience = 5;        // epochs without improvement before stopping (>= 1)
  double min_delta = 0.0;  // an improvement must lower the best by more than this (>= 0)
  bool keep_best = false;  // snapshot the state at each new best, for restore_best()
};

class EarlyStopping {
 public:
  explicit EarlyStopping(const EarlyStoppingOptions& options = {});

  // Records one epoch's value (lower is better; NaN never improves). On a new best it
  // resets the wait and, with keep_best, snapshots `state`. Returns true once the wait has
  // reached `patience` (and keeps returning true).
  bool update(double value, const NamedTensors& state = {});

  // Copies the best snapshot into `state` (matched by name, shape and dtype, strictly, as
  // Module::load_state_dict does). Returns false, changing nothing, when no snapshot exists
  // (keep_best off, or no finite value seen yet).
  bool restore_best(const NamedTensors& state) const;

  double best() const { return best_; }           // +inf before the first finite value
  int best_epoch() const { return best_epoch_; }  // 1-based; 0 before the first best
  int epochs() const { return epochs_; }          // values seen
  int wait() const { return epochs_ - best_epoch_; }
  bool should_stop() const { return stopped_; }

  // For resuming from a checkpoint: the progress as saved (the snapshot is not restored).
  void set_progress(double best, int best_epoch, int epochs);

 private:
  EarlyStoppingOptions options_;
  double best_ = std::numeric_limits<double>::infinity();
  int best_epoch_ = 0;
  int epochs_ = 0;
  bool stopped_ = false;
  NamedTensors snapshot_;
};

}  // namespace tg::optim

TG_API_END
