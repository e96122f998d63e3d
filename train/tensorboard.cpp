#include "tensorboard.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "../foundation/error.h"

namespace tg::train {

namespace {

// Table of the reflected Castagnoli polynomial 0x82F63B78.
struct Crc32cTable {
  uint32_t entry[256];
  Crc32cTable() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      entry[i] = c;
    }
  }
};

uint32_t masked_crc(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

// Protocol-buffer wire format: varints, tags (field << 3 | wire type), fixed widths.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void fixed(std::string& out, const void* bytes, size_t n) {
  out.append(static_cast<const char*>(bytes), n);  // little-endian hosts (x86, arm64)
}
void length_delimited(std::string& out, int field, const std::string& bytes) {
  varint(out, static_cast<uint64_t>(field) << 3 | 2);
  varint(out, bytes.size());
  out += bytes;
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// Event{wall_time = 1 (double), step = 2 (int64), file_version = 3 | summary = 5}.
std::string event_header(double wall_time, int64_t step) {
  std::string e;
  varint(e, 1 << 3 | 1);
  fixed(e, &wall_time, 8);
  if (step != 0) {
    varint(e, 2 << 3 | 0);
    varint(e, static_cast<uint64_t>(step));
  }
  return e;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  static const Crc32cTable table;
  uint32_t crc = 0xFFFFFFFFu;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) crc = table.entry[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

EventWriter::EventWriter(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    TG_THROW("TensorBoard log directory ", dir, ": cannot create it: ", std::strerror(errno));
  }
  char host[256] = "localhost";
  (void)::gethostname(host, sizeof host - 1);
  path_ = dir + "/events.out.tfevents." + std::to_string(static_cast<long long>(now_seconds())) +
          "." + host;
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) {
    TG_THROW("TensorBoard log: cannot write ", path_, ": ", std::strerror(errno));
  }
  std::string first = event_header(now_seconds(), 0);
  length_delimited(first, 3, "brain.Event:2");
  record(first);
  flush();
}

EventWriter::~EventWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void EventWriter::scalar(const std::string& tag, int64_t step, double value) {
  // Summary{value = 1: Value{tag = 1, simple_value = 2 (float)}}.
  std::string v;
  length_delimited(v, 1, tag);
  varint(v, 2 << 3 | 5);
  const float f = static_cast<float>(value);
  fixed(v, &f, 4);
  std::string summary;
  length_delimited(summary, 1, v);
  std::string e = event_header(now_seconds(), step);
  length_delimited(e, 5, summary);
  record(e);
}

void EventWriter::record(const std::string& event) {
  const uint64_t n = event.size();
  const uint32_t n_crc = masked_crc(&n, 8);
  const uint32_t data_crc = masked_crc(event.data(), event.size());
  std::string r;
  fixed(r, &n, 8);
  fixed(r, &n_crc, 4);
  r += event;
  fixed(r, &data_crc, 4);
  if (std::fwrite(r.data(), 1, r.size(), file_) != r.size()) {
    TG_THROW("TensorBoard log: cannot write ", path_, ": ", std::strerror(errno));
  }
}

void EventWriter::flush() { std::fflush(file_); }

void TensorBoard::on_epoch_end(TrainState& state) {
  if (!state.primary) return;
  if (!writer_) writer_ = std::make_unique<EventWriter>(dir_);
  for (const Logs::Entry& e : state.logs.entries()) {
    if (e.json.empty()) writer_->scalar(e.name, state.epoch, e.value);
  }
  writer_->flush();
}

}  // namespace tg::train
