// ProgressBar: the epoch's progress line, redrawn in place on a terminal (at most ~5 times a
// second: each redraw reads the running loss, which waits for the device) and nothing in
// between elsewhere; at each epoch's end one plain line with the epoch's logs:
//   epoch 3/10: train loss 0.3120, val loss 0.3410, val accuracy 0.8790, grad norm 1.21,
//   2.0 s (29810 images/s)
// (the validation parts when the run has validation logs). Rank 0 only.
#pragma once

#include <chrono>

#include "../foundation/config.h"
#include "callback.h"

TG_API_BEGIN

namespace tg::train {

class ProgressBar : public Callback {
 public:
  ProgressBar();
  void on_epoch_begin(TrainState& state) override;
  void on_batch_end(TrainState& state) override;
  void on_epoch_end(TrainState& state) override;

 private:
  double seconds() const;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  double last_draw_ = -1;
};

}  // namespace tg::train

TG_API_END
