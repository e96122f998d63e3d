// Keras' TerminateOnNaN for the example programs, without a wait for the device per step
// (Note [non-finite loss]): each batch's loss is queued for the host through a readback ring
// (core/readback.h) and checked when it arrives: at once on the CPU, a batch or two later on
// a GPU, naming the batch it belongs to either way. The first non-finite loss ends the run
// with an error naming the epoch and batch, whether or not --monitor is on: a run that goes
// on trains on NaN weights to chance accuracy, and once exited 0 doing so.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <utility>

#include "../../core/readback.h"
#include "../../tamegrad.h"

namespace tg::examples {

class NonFiniteLossGuard {
 public:
  explicit NonFiniteLossGuard(const Device& device)
      : value_(zeros({}, TensorOptions(DType::Float64).device(device))), readback_(value_) {}

  // After the forward pass of `batch` (0-based) of `epoch`: queues its loss, then checks
  // every loss that has reached the host. Throws on the first that is not finite.
  void record(const Tensor& loss, int64_t epoch, int64_t batch, int64_t batches) {
    {
      NoGradGuard no_grad;
      value_.copy_(loss.detach());
    }
    readback_.start();
    queued_.push_back({epoch, batch});
    batches_ = batches;
    while (auto v = readback_.poll()) check(v->front());
  }
  // Checks every loss still in flight (waits for them: at the end of an epoch).
  void drain() {
    while (auto v = readback_.wait()) check(v->front());
  }

 private:
  void check(double loss) {
    const auto [epoch, batch] = queued_.front();
    queued_.pop_front();
    if (std::isfinite(loss)) return;
    throw std::runtime_error(
        std::string("the training loss became ") + (std::isnan(loss) ? "NaN" : "infinite") +
        " at epoch " + std::to_string(epoch) + ", batch " + std::to_string(batch + 1) + " of " +
        std::to_string(batches_) +
        "; training stopped there. A rate too large (--lr), inputs scaled badly (--norm-std) or "
        "exploding gradients (--clip-norm, --monitor) are the usual causes");
  }

  Tensor value_;  // () float64 on the training device: the loss of the batch last recorded
  Readback readback_;
  std::deque<std::pair<int64_t, int64_t>> queued_;  // (epoch, batch) of each loss in flight
  int64_t batches_ = 0;
};

}  // namespace tg::examples
