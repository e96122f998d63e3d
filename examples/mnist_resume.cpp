#include "mnist_resume.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tg::examples {

namespace {

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Why a new file cannot be made in `dir` ("" when it can): a probe file made and removed.
std::string cannot_write_in(const std::string& dir) {
  const std::string probe = dir + "/.tamegrad-write-probe." + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return "";
}

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

// A file the run will write: not a directory, in a directory that takes new files.
void check_file(const char* flag, const std::string& path) {
  if (path.empty()) return;
  if (is_directory(path))
    throw FlagError(std::string(flag) + " " + path + ": is a directory; give a file name");
  const std::string why = cannot_write_in(directory_of(path));
  if (!why.empty())
    throw FlagError(std::string(flag) + " " + path + ": cannot write in " + directory_of(path) +
                    " (" + why + ")");
}

std::string value_of(const Metadata& metadata, const std::string& key, bool* found) {
  for (const auto& [k, v] : metadata) {
    if (k == key) {
      *found = true;
      return v;
    }
  }
  *found = false;
  return "";
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

}  // namespace

void check_output_paths(const Flags& f) {
  check_file("--checkpoint", f.checkpoint);
  check_file("--metrics", f.metrics);
  if (!f.tensorboard.empty()) {
    if (exists(f.tensorboard) && !is_directory(f.tensorboard))
      throw FlagError("--tensorboard " + f.tensorboard + ": exists and is not a directory");
    const std::string dir =
        is_directory(f.tensorboard) ? f.tensorboard : directory_of(f.tensorboard);
    const std::string why = cannot_write_in(dir);
    if (!why.empty())
      throw FlagError("--tensorboard " + f.tensorboard + ": cannot write in " + dir + " (" + why +
                      ")");
  }
}

Metadata run_configuration(const Flags& f, const std::string& dataset,
                           const data::PixelStats& inputs, int world_size) {
  const double decay = f.weight_decay >= 0 ? f.weight_decay : (f.optimizer == "adamw" ? 0.01 : 0.0);
  const double dropout = f.dropout >= 0 ? f.dropout : (f.model == "cnn" ? 0.5 : 0.2);
  return {
      {"config.--model", f.model},
      {"config.--optimizer", f.optimizer},
      {"config.--lr", number(resolved_lr(f))},
      {"config.--batch", std::to_string(f.batch)},
      {"config.--limit", std::to_string(f.limit)},
      {"config.--epochs", std::to_string(f.epochs)},
      {"config.--seed", std::to_string(f.seed)},
      {"config.--dropout", number(dropout)},
      {"config.--schedule", f.schedule},
      {"config.--warmup", std::to_string(f.warmup)},
      {"config.--weight-decay", number(decay)},
      {"config.--l1", number(f.l1)},
      {"config.--l2", number(f.l2)},
      {"config.--clip-norm", number(f.clip_norm)},
      {"config.--clip-value", number(f.clip_value)},
      {"config.--clip", f.clip},
      {"config.--agc", f.agc > 0 ? number(f.agc) : "off"},
      {"config.--accumulate", std::to_string(f.accumulate)},
      {"config.--precision", f.precision == "fp32" ? "off" : f.precision},
      {"config.--loss-scaler",
       f.loss_scaler == "on" || (f.loss_scaler == "auto" && f.precision == "fp16") ? "on" : "off"},
      {"config.--augment", f.augment},
      {"config.--norm-mean", number(inputs.mean)},
      {"config.--norm-std", number(inputs.std)},
      {"config.--data (data set)", dataset},
      {"config.processes (--distributed)", std::to_string(world_size)}};
}

void check_resume_configuration(const std::string& path, const Metadata& saved, const Metadata& now,
                                const std::string& schedule) {
  std::string differences;
  bool any_saved = false;
  for (const auto& [key, value] : now) {
    bool found = false;
    const std::string before = value_of(saved, key, &found);
    any_saved = any_saved || found;
    const std::string flag = key.substr(7);  // after "config."
    // A flag added after the checkpoint was written is at its default there: "off".
    if (!found && value == "off") continue;
    if (!found) {
      differences += "\n  " + flag + ": not in the checkpoint";
      continue;
    }
    if (before == value) continue;
    if (flag == "--epochs" && (schedule == "none" || schedule == "plateau") &&
        std::strtoll(value.c_str(), nullptr, 10) > std::strtoll(before.c_str(), nullptr, 10)) {
      continue;  // more epochs of a schedule that does not depend on their number
    }
    differences += "\n  " + flag + " " + value + " (the checkpoint's: " + before + ")";
  }
  if (!any_saved)
    throw FlagError("--resume " + path +
                    ": the checkpoint holds no run configuration to check the flags against; "
                    "start a new run");
  if (!differences.empty())
    throw FlagError("--resume " + path +
                    ": this run's flags differ from the checkpoint's, so it would not continue "
                    "that run (--epochs may grow only with --schedule none or plateau):" +
                    differences);
}

}  // namespace tg::examples
