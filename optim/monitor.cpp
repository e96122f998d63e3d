// GradientMonitor (optim/monitor.h).
#include "tamegrad/optim/monitor.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tamegrad/core/error.h"

namespace tg::optim {

const char* alarm_kind_name(AlarmKind kind) {
  switch (kind) {
    case AlarmKind::NonFinite: return "non_finite";
    case AlarmKind::Explosion: return "explosion";
    case AlarmKind::Vanishing: return "vanishing";
    case AlarmKind::DeadUnits: return "dead_units";
  }
  return "?";
}

const char* alarm_action_name(AlarmAction action) {
  switch (action) {
    case AlarmAction::Log: return "log";
    case AlarmAction::SkipStep: return "skip";
    case AlarmAction::Stop: return "stop";
  }
  return "?";
}

namespace {

double median(std::deque<double> values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  return values[mid];
}

std::string format(double value) {
  std::ostringstream os;
  os.precision(3);
  os << value;
  return os.str();
}

}  // namespace

GradientMonitor::GradientMonitor(const MonitorOptions& o) : options_(o) {
  TG_CHECK(o.window >= 2, "GradientMonitor: window must be at least 2, got ", o.window);
  TG_CHECK(o.jump_factor > 1, "GradientMonitor: jump_factor must be above 1, got ", o.jump_factor);
  TG_CHECK(o.max_grad_norm >= 0, "GradientMonitor: max_grad_norm must be >= 0 (0: no bound), got ",
           o.max_grad_norm);
  TG_CHECK(o.vanishing_norm >= 0, "GradientMonitor: vanishing_norm must be >= 0, got ",
           o.vanishing_norm);
  TG_CHECK(o.vanishing_ratio >= 0, "GradientMonitor: vanishing_ratio must be >= 0, got ",
           o.vanishing_ratio);
  TG_CHECK(o.dead_fraction > 0 && o.dead_fraction <= 1,
           "GradientMonitor: dead_fraction must be in (0, 1], got ", o.dead_fraction);
  TG_CHECK(o.dead_patience >= 1, "GradientMonitor: dead_patience must be at least 1, got ",
           o.dead_patience);
}

AlarmAction GradientMonitor::action_for(AlarmKind kind) const {
  switch (kind) {
    case AlarmKind::NonFinite: return options_.on_non_finite;
    case AlarmKind::Explosion: return options_.on_explosion;
    case AlarmKind::Vanishing: return options_.on_vanishing;
    case AlarmKind::DeadUnits: return options_.on_dead_units;
  }
  return AlarmAction::Log;
}

void GradientMonitor::hold(AlarmKind kind, const std::string& tensor, int64_t step, double value,
                           double threshold, const std::string& message,
                           std::vector<Alarm>& raised) {
  const auto key = std::make_pair(static_cast<int>(kind), tensor);
  now_.insert(key);
  const AlarmAction action = action_for(kind);
  if (action == AlarmAction::SkipStep) skip_ = true;
  if (active_.count(key) != 0) return;  // still the same condition: raised already
  std::ostringstream line;
  line << "step " << step << ": " << alarm_kind_name(kind) << " in " << tensor << ": " << message
       << " (action: " << alarm_action_name(action) << ")";
  raised.push_back({kind, step, tensor, value, threshold, action, line.str()});
  if (action == AlarmAction::Stop) stop_ = true;
}

std::vector<Alarm> GradientMonitor::observe(const GradientStats& stats) {
  std::vector<Alarm> raised;
  now_.clear();
  skip_ = false;
  const MonitorOptions& o = options_;

  // Non-finite: one alarm per record, naming the tensor nearest the output.
  int bad = 0;
  const TensorStats* nearest_output = nullptr;
  bool bad_weights = false;
  for (const TensorStats& t : stats.tensors) {
    const bool grad_bad = !std::isfinite(t.grad_norm), weight_bad = !std::isfinite(t.weight_norm);
    if (grad_bad || weight_bad) {
      ++bad;
      nearest_output = &t;
      bad_weights = bad_weights || weight_bad;
    }
  }
  if (nearest_output != nullptr) {
    std::ostringstream m;
    m << (bad_weights ? "non-finite weights or gradients" : "non-finite gradient") << " in " << bad
      << " of " << stats.tensors.size() << " tensors; nearest the output: " << nearest_output->name;
    hold(AlarmKind::NonFinite, nearest_output->name, stats.step, nearest_output->grad_norm, 0,
         m.str(), raised);
  }

  // Explosion: a jump over the tensor's recent median, or the global bound.
  for (const TensorStats& t : stats.tensors) {
    if (!std::isfinite(t.grad_norm)) continue;
    std::deque<double>& history = history_[t.name];
    if (static_cast<int>(history.size()) == o.window) {
      const double typical = median(history);
      if (typical > 0 && t.grad_norm > o.jump_factor * typical) {
        hold(AlarmKind::Explosion, t.name, stats.step, t.grad_norm, o.jump_factor * typical,
             "gradient norm " + format(t.grad_norm) + " is " + format(t.grad_norm / typical) +
                 "x its median of the last " + std::to_string(o.window) + " steps (" +
                 format(typical) + ")",
             raised);
      }
      history.pop_front();
    }
    history.push_back(t.grad_norm);
  }
  if (o.max_grad_norm > 0 && std::isfinite(stats.grad_norm) && stats.grad_norm > o.max_grad_norm) {
    hold(AlarmKind::Explosion, "(global)", stats.step, stats.grad_norm, o.max_grad_norm,
         "global gradient norm " + format(stats.grad_norm) + " is over the bound " +
             format(o.max_grad_norm),
         raised);
  }

  // Vanishing: weight tensors against an absolute floor and against the last one.
  const TensorStats* last_weight = nullptr;
  for (const TensorStats& t : stats.tensors) {
    if (t.dim >= 2 && t.numel > 0) last_weight = &t;
  }
  for (const TensorStats& t : stats.tensors) {
    if (t.dim < 2 || t.numel == 0 || &t == last_weight || !std::isfinite(t.grad_norm)) continue;
    if (t.grad_norm < o.vanishing_norm) {
      hold(AlarmKind::Vanishing, t.name, stats.step, t.grad_norm, o.vanishing_norm,
           "gradient norm " + format(t.grad_norm) + " is under " + format(o.vanishing_norm),
           raised);
    } else if (last_weight != nullptr && std::isfinite(last_weight->grad_norm) &&
               t.grad_norm < o.vanishing_ratio * last_weight->grad_norm) {
      const double ratio = t.grad_norm / last_weight->grad_norm;
      hold(AlarmKind::Vanishing, t.name, stats.step, ratio, o.vanishing_ratio,
           "gradient norm " + format(t.grad_norm) + " is " + format(ratio) + " of " +
               last_weight->name + "'s (" + format(last_weight->grad_norm) + ")",
           raised);
    }
  }

  // Dead units: 1-D tensors whose gradient is mostly exact zeros, for a while.
  for (const TensorStats& t : stats.tensors) {
    if (t.dim != 1 || t.numel < 2) continue;
    int& streak = zero_streak_[t.name];
    streak = t.zero_fraction >= o.dead_fraction ? streak + 1 : 0;
    if (streak >= o.dead_patience) {
      hold(AlarmKind::DeadUnits, t.name, stats.step, t.zero_fraction, o.dead_fraction,
           format(100 * t.zero_fraction) + "% of its units passed no gradient for " +
               std::to_string(streak) + " steps",
           raised);
    }
  }

  active_ = now_;
  alarms_.insert(alarms_.end(), raised.begin(), raised.end());
  return raised;
}

}  // namespace tg::optim
