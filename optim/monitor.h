// Gradient monitor: turns the telemetry's per-tensor numbers (optim/telemetry.h) into named
// alarms, per tensor (a layer's weight or bias), each with an action:
//   non_finite  a gradient or weight holding Inf/NaN; names, of the tensors hit on the
//               step it first happens, the one nearest the output (where backward starts:
//               the first to go bad, the others inherit it)
//   explosion   a tensor's gradient norm over jump_factor × the median of its last
//               `window` norms (once min_history are known), or the global norm over
//               max_grad_norm
//   vanishing   a weight tensor's (dim >= 2) gradient norm under vanishing_norm, or under
//               vanishing_ratio × the last weight tensor's (orders of magnitude below the
//               layer nearest the output)
//   dead_units  a 1-D tensor (a bias: a ReLU unit inactive over the whole batch passes no
//               gradient to it) with at least dead_fraction of its gradient entries exactly
//               0, for dead_patience records in a row
//   loss_scale  with a loss scaler (optim/loss_scaler.h): max_skipped_in_a_row skipped steps
//               in a row, or the scale under min_loss_scale: the gradients overflow even at
//               a small scale, so training makes no progress
// A step the loss scaler skipped is its normal way of handling an overflow, not a
// divergence: its gradients are not examined (its weights are).
// One alarm per kind and record: it names the worst tensor (nearest the output, largest
// jump, smallest ratio, most zeros) and counts the others. A condition raises its alarm
// when it starts and again only after it has cleared, so a long explosion is one line in
// the log, not thousands. Actions: Log; SkipStep (the loop
// should not apply this step: skip_requested(), for loops that read the record before
// step()); Stop (stop_requested() stays true: Keras' TerminateOnNaN).
//
// Tests: tests/unit/monitor_test.cpp (synthetic sequences; a healthy CNN raises nothing).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../foundation/config.h"
#include "telemetry.h"

TG_API_BEGIN

namespace tg::optim {

enum class AlarmKind { NonFinite, Explosion, Vanishing, DeadUnits, LossScale };
enum class AlarmAction { Log, SkipStep, Stop };
const char* alarm_kind_name(AlarmKind kind);  // "non_finite", "explosion", ...
const char* alarm_action_name(AlarmAction action);

struct Alarm {
  AlarmKind kind;
  int64_t step;
  std::string tensor;  // the tensor it concerns; "(global)" for the global norm
  double value;        // what was measured
  double threshold;    // what it was compared with
  AlarmAction action;
  std::string message;  // one line for the log
};

struct MonitorOptions {
  int window = 20;                // explosion: norms kept per tensor (>= 1)
  int min_history = 1;            // explosion: norms known before a tensor is tested (1..window)
  double jump_factor = 10;        // explosion: norm > jump_factor × the window's median (> 1)
  double max_grad_norm = 0;       // explosion: global norm above this (0: no bound)
  double vanishing_norm = 1e-8;   // vanishing: weight gradient norm under this (>= 0)
  double vanishing_ratio = 1e-4;  // vanishing: under this × the last weight tensor's (>= 0)
  double dead_fraction = 0.5;     // dead units: share of exactly-zero entries, in (0, 1]
  int dead_patience = 10;         // dead units: records in a row (>= 1)
  int max_skipped_in_a_row = 20;  // loss scale: skipped steps in a row (>= 1): 2^16 halved
                                  // 20 times is under 1
  double min_loss_scale = 1.0;    // loss scale: a scale under this (>= 0; 0: no bound)
  AlarmAction on_non_finite = AlarmAction::Stop;
  AlarmAction on_explosion = AlarmAction::Log;
  AlarmAction on_vanishing = AlarmAction::Log;
  AlarmAction on_dead_units = AlarmAction::Log;
  AlarmAction on_loss_scale = AlarmAction::Stop;
};

class GradientMonitor {
 public:
  // Throws naming the option when one is out of range.
  explicit GradientMonitor(const MonitorOptions& options = {});

  // Checks one record (records must come in step order); returns the alarms it raised.
  std::vector<Alarm> observe(const GradientStats& stats);
  // Whether an alarm with action Stop has been raised.
  bool stop_requested() const { return stop_; }
  // Whether a condition whose action is SkipStep holds in the last record.
  bool skip_requested() const { return skip_; }
  // Every alarm raised so far, in order.
  const std::vector<Alarm>& alarms() const { return alarms_; }

 private:
  AlarmAction action_for(AlarmKind kind) const;
  // A tensor that meets a condition; `score` orders them (the alarm names the highest).
  struct Finding {
    std::string tensor;
    double value, threshold, score;
    std::string message;
  };
  // Records that the condition (kind, key) holds on this record, `worst` being its worst
  // tensor of `tensors` out of `of`; raises its alarm when it did not hold on the last one.
  void hold(AlarmKind kind, const std::string& key, const Finding& worst, size_t tensors, size_t of,
            int64_t step, std::vector<Alarm>& raised);

  MonitorOptions options_;
  std::map<std::string, std::deque<double>> history_;   // per tensor: the last norms
  std::map<std::string, int> zero_streak_;              // per tensor: records over dead_fraction
  int skipped_streak_ = 0;                              // loss scaler: skipped records in a row
  std::set<std::pair<int, std::string>> active_, now_;  // conditions holding: last, this record
  std::vector<Alarm> alarms_;
  bool stop_ = false, skip_ = false;
};

}  // namespace tg::optim

TG_API_END
