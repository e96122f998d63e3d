// Readback: a small float64 device buffer's values brought to the host without waiting
// for the device (pinned host memory and an event per copy, Note [readback ring]). The
// gradient telemetry (optim/telemetry.h) reads its sums this way, so a training step
// queues its statistics and goes on; they are taken a step or two later, when they have
// arrived. On the CPU a copy is made at once.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "../foundation/config.h"
#include "tensor.h"

TG_API_BEGIN

namespace tg {

class Readback {
 public:
  // `source`: a contiguous float64 tensor, read at every start(); `slots`: how many copies
  // may be in flight at once.
  explicit Readback(const Tensor& source, int slots = 8);
  ~Readback();
  Readback(const Readback&) = delete;
  Readback& operator=(const Readback&) = delete;

  // Queues a copy of the source's value after the work queued so far on its device.
  // When `slots` copies are still in flight (the host is that many starts ahead of the
  // device), first waits for the oldest: nothing is dropped.
  void start();
  // The oldest copy that has arrived and was not taken yet, in start order; nullopt when
  // none has arrived. Never waits.
  std::optional<std::vector<double>> poll();
  // The oldest copy not taken yet, waiting for it when it is in flight; nullopt when
  // every started copy was taken.
  std::optional<std::vector<double>> wait();
  // Copies started and not taken yet.
  size_t pending() const { return arrived_.size() + in_flight_.size(); }

 private:
  struct Slot {
    double* host = nullptr;  // pinned, source.numel() doubles
    void* event = nullptr;
  };
  void collect(bool wait_for_oldest);

  Tensor source_;
  std::vector<Slot> slots_;
  std::deque<size_t> in_flight_;  // slot indices, oldest first
  size_t next_slot_ = 0;
  std::deque<std::vector<double>> arrived_;
};

}  // namespace tg

TG_API_END
