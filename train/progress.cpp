#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace tg::train {

ProgressBar::ProgressBar() : terminal_(isatty(STDOUT_FILENO) != 0) {}

double ProgressBar::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::on_epoch_begin(TrainState&) {
  start_ = std::chrono::steady_clock::now();
  last_draw_ = -1;
}

void ProgressBar::on_batch_end(TrainState& state) {
  if (!terminal_ || !state.primary) return;
  const long done = static_cast<long>(state.batch + 1), batches = static_cast<long>(state.batches);
  const double now = seconds();
  if (done != batches && now - last_draw_ < 0.2) return;
  last_draw_ = now;
  const double images = static_cast<double>(done * state.batch_size);
  const double loss = state.loss_sum.item<double>() / images;
  const int width = 30, filled = static_cast<int>(width * done / std::max(batches, 1L));
  const double eta = now * static_cast<double>(batches - done) / done;
  std::printf("\repoch %d/%d [%s%s] %ld/%ld loss %.4f %.0f img/s ETA %.0fs ", state.epoch,
              state.epochs, std::string(filled, '#').c_str(),
              std::string(width - filled, '.').c_str(), done, batches, loss,
              std::min<double>(images, state.images) / (now > 0 ? now : 1e-9), eta);
  std::fflush(stdout);
}

void ProgressBar::on_epoch_end(TrainState& state) {
  if (!state.primary) return;
  if (terminal_) std::printf("\r\033[K");
  const Logs& logs = state.logs;
  const std::string& v = state.validation_name;
  std::string validation;
  if (logs.has(v + "_loss") && logs.has(v + "_accuracy")) {
    char text[128];
    std::snprintf(text, sizeof text, ", %s loss %.4f, %s accuracy %.4f", v.c_str(),
                  logs.get(v + "_loss"), v.c_str(), logs.get(v + "_accuracy"));
    validation = text;
  }
  std::printf("epoch %d/%d: train loss %.4f%s, grad norm %.4g, %.1f s (%.0f images/s)\n",
              state.epoch, state.epochs, logs.get("train_loss"), validation.c_str(),
              logs.get("grad_norm"), logs.get("seconds"), logs.get("images_per_second"));
  std::fflush(stdout);
}

}  // namespace tg::train
