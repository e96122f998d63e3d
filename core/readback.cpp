// Readback (core/readback.h).
//
// Note [readback ring]
// A device-to-host copy into pageable memory makes the host wait; into pinned memory it is
// queued like a kernel, and an event recorded after it tells when it has landed. A copy
// needs its own pinned slot until it is taken, and the host may start the next one before
// the device reached the previous, so there is a ring of slots: start() takes the next
// free one (waiting for the oldest only when all are in flight, and moving its values to
// the host queue then, so nothing is lost), poll() moves every landed copy, oldest first,
// to the host queue and hands out its front. The ring is small (8 by default): a training
// loop that runs more than 8 steps ahead of its GPU is already waiting on it elsewhere.
#include "readback.h"

#include "../foundation/error.h"
#include "context.h"
#include "cuda_backend.h"

namespace tg {

Readback::Readback(const Tensor& source, int slots) : source_(source) {
  TG_CHECK(source.defined() && source.dtype() == DType::Float64 && source.is_contiguous(),
           "Readback: the source must be a contiguous float64 tensor, got ",
           source.defined() ? source.str() : std::string("an undefined tensor"));
  TG_CHECK(slots >= 1, "Readback: slots must be at least 1, got ", slots);
  if (!source.device().is_cuda()) return;
  const size_t bytes = static_cast<size_t>(source.numel()) * sizeof(double);
  try {
    for (int s = 0; s < slots; ++s) {
      Slot slot;
      slot.event = cuda_backend::create_event(source.device().index());
      slots_.push_back(slot);
      slots_.back().host = static_cast<double*>(cuda_backend::allocate_pinned(bytes));
    }
  } catch (...) {
    for (Slot& slot : slots_) {
      cuda_backend::free_pinned(slot.host);
      cuda_backend::destroy_event(slot.event);
    }
    throw;
  }
}

Readback::~Readback() {
  for (Slot& slot : slots_) {
    // A copy still in flight writes into the slot: let it land before the memory goes.
    try {
      cuda_backend::wait_event(slot.event);
    } catch (...) {
    }
    cuda_backend::free_pinned(slot.host);
    cuda_backend::destroy_event(slot.event);
  }
}

void Readback::start() {
  if (!source_.device().is_cuda()) {
    const double* values = source_.data_ptr<double>();
    arrived_.emplace_back(values, values + source_.numel());
    return;
  }
  const int device = source_.device().index();
  void* stream = context(source_.device()).stream();
  // Events cannot be recorded into (or queried during) a capture: the readback of a
  // captured step would fail inside CUDA or, replayed, never arrive.
  TG_CHECK(!cuda_backend::stream_capturing(device, stream), "Readback: cannot queue a copy while ",
           source_.device(),
           "'s stream is captured into a CUDA graph; record telemetry (and read values back) "
           "outside the captured step");
  if (in_flight_.size() == slots_.size()) collect(true);
  const size_t slot = next_slot_;
  next_slot_ = (next_slot_ + 1) % slots_.size();
  cuda_backend::copy_to_host_async(slots_[slot].host, source_.raw_data_ptr(),
                                   static_cast<size_t>(source_.numel()) * sizeof(double), device,
                                   stream);
  cuda_backend::record_event(device, slots_[slot].event, stream);
  in_flight_.push_back(slot);
}

// Moves landed copies, oldest first, to arrived_; with wait_for_oldest, waits for the
// oldest in flight first.
void Readback::collect(bool wait_for_oldest) {
  if (wait_for_oldest && !in_flight_.empty())
    cuda_backend::wait_event(slots_[in_flight_.front()].event);
  while (!in_flight_.empty() && cuda_backend::event_done(slots_[in_flight_.front()].event)) {
    const Slot& slot = slots_[in_flight_.front()];
    arrived_.emplace_back(slot.host, slot.host + source_.numel());
    in_flight_.pop_front();
  }
}

std::optional<std::vector<double>> Readback::poll() {
  collect(false);
  if (arrived_.empty()) return std::nullopt;
  std::vector<double> values = std::move(arrived_.front());
  arrived_.pop_front();
  return values;
}

std::optional<std::vector<double>> Readback::wait() {
  if (arrived_.empty()) collect(true);
  return poll();
}

}  // namespace tg
