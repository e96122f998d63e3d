// --monitor in the example programs: the gradient telemetry and monitor of optim/ around a
// training loop. after_step() records the step (nothing waits) and handles the records that
// have reached the host: each new alarm is printed on stderr at once and kept for the
// metrics file. Shared by mnist_train and grad_explosion.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "../../optim/monitor.h"
#include "../../optim/telemetry.h"
#include "progress.h"

namespace tg::examples {

class GradientWatch {
 public:
  // With print off, alarms are kept but not printed (the ranks of a distributed run other
  // than 0).
  GradientWatch(const char* program, const optim::Optimizer& opt, const NamedTensors& names,
                const optim::MonitorOptions& options, bool print = true)
      : program_(program), print_(print), telemetry_(opt, names), monitor_(options) {}

  // After optimizer.step(): records this step's gradients and update.
  void after_step(int64_t step) {
    telemetry_.record(step);
    while (auto stats = telemetry_.poll()) take(*stats);
  }
  // Takes every record still in flight (waits for them; at the end of an epoch).
  void drain() {
    while (auto stats = telemetry_.wait()) take(*stats);
  }
  bool stop_requested() const { return monitor_.stop_requested(); }
  // The kind of the first alarm whose action is stop, or "" when none.
  std::string stopped_by() const {
    for (const optim::Alarm& a : monitor_.alarms()) {
      if (a.action == optim::AlarmAction::Stop) return optim::alarm_kind_name(a.kind);
    }
    return "";
  }
  size_t alarm_count() const { return monitor_.alarms().size(); }
  // The alarms raised since the last call, as a JSON array; forgets them.
  std::string take_alarms_json() {
    std::string out = "[";
    for (size_t i = 0; i < unreported_.size(); ++i) {
      const optim::Alarm& a = unreported_[i];
      out += (i ? ", " : "") + json_object({{"step", std::to_string(a.step)},
                                            {"kind", json_string(optim::alarm_kind_name(a.kind))},
                                            {"tensor", json_string(a.tensor)},
                                            {"value", json_number(a.value)},
                                            {"threshold", json_number(a.threshold)},
                                            {"action", json_string(alarm_action_name(a.action))}});
    }
    unreported_.clear();
    return out + "]";
  }
  // Every record taken so far, when keep_records(true) was asked.
  void keep_records(bool on) { keep_ = on; }
  const std::vector<optim::GradientStats>& records() const { return records_; }
  const std::vector<optim::Alarm>& alarms() const { return monitor_.alarms(); }

 private:
  void take(const optim::GradientStats& stats) {
    for (const optim::Alarm& a : monitor_.observe(stats)) {
      if (print_) std::fprintf(stderr, "%s: alarm: %s\n", program_, a.message.c_str());
      unreported_.push_back(a);
    }
    if (keep_) records_.push_back(stats);
  }

  const char* program_;
  bool print_;
  optim::GradientTelemetry telemetry_;
  optim::GradientMonitor monitor_;
  std::vector<optim::Alarm> unreported_;
  bool keep_ = false;
  std::vector<optim::GradientStats> records_;
};

}  // namespace tg::examples
