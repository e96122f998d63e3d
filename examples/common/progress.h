// What the example programs share: a per-epoch progress line (redrawn in place on a
// terminal, one plain line per epoch elsewhere) and a small JSON object writer for
// metrics files and the final summary line.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace tg::examples {

// {"key": value, ...} from (key, already-formatted value) pairs, values written as given.
inline std::string json_object(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    out += (i ? ", \"" : "\"") + fields[i].first + "\": " + fields[i].second;
  }
  return out + "}";
}
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
// Non-finite values are written as null (JSON has no NaN or Infinity).
inline std::string json_number(double v, const char* format = "%.6g") {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

class Progress {
 public:
  Progress(int epoch, int epochs, long batches)
      : epoch_(epoch),
        epochs_(epochs),
        batches_(batches),
        terminal_(isatty(STDOUT_FILENO) != 0),
        start_(std::chrono::steady_clock::now()) {}

  // Whether a redraw is due (on a terminal, at most ~5 per second); the caller then reads
  // the loss (which waits for the device) and calls draw.
  bool due(long done) {
    if (!terminal_) return false;
    const double now = seconds();
    if (done != batches_ && now - last_draw_ < 0.2) return false;
    last_draw_ = now;
    return true;
  }
  void draw(long done, double loss, long images) const {
    const double s = seconds();
    const int width = 30, filled = static_cast<int>(width * done / (batches_ > 0 ? batches_ : 1));
    const double eta = done > 0 ? s * static_cast<double>(batches_ - done) / done : 0.0;
    std::printf("\repoch %d/%d [%s%s] %ld/%ld loss %.4f %.0f img/s ETA %.0fs ", epoch_, epochs_,
                std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done,
                batches_, loss, images / (s > 0 ? s : 1e-9), eta);
    std::fflush(stdout);
  }
  // Ends the epoch's line (the caller prints the epoch summary after it).
  void finish() const {
    if (terminal_) std::printf("\r\033[K");
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  int epoch_, epochs_;
  long batches_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  double last_draw_ = -1;
};

}  // namespace tg::examples
