// TensorBoard scalar logs: one event file that TensorBoard (and its EventAccumulator)
// reads, written by our own code. The file is a sequence of TFRecords — uint64 length,
// masked CRC-32C of the length, the bytes, masked CRC-32C of the bytes (all little
// endian) — each holding one `Event` protocol buffer, encoded by hand: the first names
// the file version ("brain.Event:2"), each later one carries a wall time, a step and a
// Summary with one simple_value under a tag.
//
// The TensorBoard callback writes each epoch's numeric logs as scalars at step = epoch.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "../foundation/config.h"
#include "callback.h"

TG_API_BEGIN

namespace tg::train {

class EventWriter {
 public:
  // Creates DIR (one level) if needed and events.out.tfevents.<seconds>.<host> in it;
  // throws std::runtime_error naming the path when it cannot.
  explicit EventWriter(const std::string& dir);
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  void scalar(const std::string& tag, int64_t step, double value);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void record(const std::string& event);
  std::string path_;
  std::FILE* file_ = nullptr;
};

// CRC-32C (Castagnoli), as TFRecords use it; exposed for its known-answer test.
uint32_t crc32c(const void* data, size_t size);

class TensorBoard : public Callback {
 public:
  // The directory is made (one level) on the first epoch's end, on rank 0 only.
  explicit TensorBoard(std::string dir) : dir_(std::move(dir)) {}
  void on_epoch_end(TrainState& state) override;

 private:
  std::string dir_;
  std::unique_ptr<EventWriter> writer_;
};

}  // namespace tg::train

TG_API_END
