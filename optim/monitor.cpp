// GradientMonitor (optim/monitor.h).
#include "monitor.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "../foundation/error.h"

namespace tg::optim {

const char* alarm_kind_name(AlarmKind kind) {
  switch (kind) {
    case AlarmKind::NonFinite: return "non_finite";
    case AlarmKind::Explosion: return "explosion";
    case AlarmKind::Vanishing: return "vanishing";
    case AlarmKind::DeadUnits: return "dead_units";
    case AlarmKind::LossScale: return "loss_scale";
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
  TG_CHECK(o.window >= 1, "GradientMonitor: window must be at least 1, got ", o.window);
  TG_CHECK(o.min_history >= 1 && o.min_history <= o.window,
           "GradientMonitor: min_history must be in [1, window = ", o.window, "], got ",
           o.min_history);
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
  TG_CHECK(o.max_skipped_in_a_row >= 1,
           "GradientMonitor: max_skipped_in_a_row must be at least 1, got ",
           o.max_skipped_in_a_row);
  TG_CHECK(o.min_loss_scale >= 0,
           "GradientMonitor: min_loss_scale must be >= 0 (0: no bound), got ", o.min_loss_scale);
}

AlarmAction GradientMonitor::action_for(AlarmKind kind) const {
  switch (kind) {
    case AlarmKind::NonFinite: return options_.on_non_finite;
    case AlarmKind::Explosion: return options_.on_explosion;
    case AlarmKind::Vanishing: return options_.on_vanishing;
    case AlarmKind::DeadUnits: return options_.on_dead_units;
    case AlarmKind::LossScale: return options_.on_loss_scale;
  }
  return AlarmAction::Log;
}

void GradientMonitor::hold(AlarmKind kind, const std::string& key, const Finding& worst,
                           size_t tensors, size_t of, int64_t step, std::vector<Alarm>& raised) {
  const auto id = std::make_pair(static_cast<int>(kind), key);
  now_.insert(id);
  const AlarmAction action = action_for(kind);
  if (action == AlarmAction::SkipStep) skip_ = true;
  if (active_.count(id) != 0) return;  // still the same condition: raised already
  std::ostringstream line;
  line << "step " << step << ": " << alarm_kind_name(kind) << " in " << worst.tensor << ": "
       << worst.message;
  if (of > 0) line << " (" << tensors << " of " << of << " tensors)";
  line << " (action: " << alarm_action_name(action) << ")";
  raised.push_back({kind, step, worst.tensor, worst.value, worst.threshold, action, line.str()});
  if (action == AlarmAction::Stop) stop_ = true;
}

std::vector<Alarm> GradientMonitor::observe(const GradientStats& stats) {
  std::vector<Alarm> raised;
  now_.clear();
  skip_ = false;
  const MonitorOptions& o = options_;
  const size_t count = stats.tensors.size();
  // Per kind, every tensor that meets the condition; the alarm names the worst (highest
  // score) and counts the rest.
  std::vector<Finding> non_finite, jumps, vanishing, dead;

  for (const TensorStats& t : stats.tensors) {
    // A step the loss scaler skipped: only its weights count (Note [loss scaling]).
    if (stats.skipped) {
      if (!std::isfinite(t.weight_norm)) {
        non_finite.push_back({t.name, t.weight_norm, 0, static_cast<double>(non_finite.size()),
                              "non-finite weights"});
      }
      continue;
    }
    // Non-finite: the later in the parameter order (nearer the output), the worse.
    if (!std::isfinite(t.grad_norm) || !std::isfinite(t.weight_norm)) {
      const bool weights = !std::isfinite(t.weight_norm);
      non_finite.push_back({t.name, weights ? t.weight_norm : t.grad_norm, 0,
                            static_cast<double>(non_finite.size()),
                            weights ? "non-finite weights" : "non-finite gradient"});
      continue;
    }
    // Explosion: the gradient norm against the median of this tensor's recent ones.
    std::deque<double>& history = history_[t.name];
    if (static_cast<int>(history.size()) >= o.min_history) {
      const double typical = median(history);
      if (typical > 0 && t.grad_norm > o.jump_factor * typical) {
        jumps.push_back({t.name, t.grad_norm, o.jump_factor * typical, t.grad_norm / typical,
                         "gradient norm " + format(t.grad_norm) + " is " +
                             format(t.grad_norm / typical) + "x its recent median (" +
                             format(typical) + ")"});
      }
    }
    history.push_back(t.grad_norm);
    if (static_cast<int>(history.size()) > o.window) history.pop_front();
    // Dead units: 1-D tensors whose gradient is mostly exact zeros, for a while.
    if (t.dim == 1 && t.numel >= 2) {
      int& streak = zero_streak_[t.name];
      streak = t.zero_fraction >= o.dead_fraction ? streak + 1 : 0;
      if (streak >= o.dead_patience) {
        dead.push_back({t.name, t.zero_fraction, o.dead_fraction, t.zero_fraction,
                        format(100 * t.zero_fraction) + "% of its units passed no gradient for " +
                            std::to_string(streak) + " steps"});
      }
    }
  }

  // Vanishing: weight tensors against an absolute floor and against the last one.
  const TensorStats* last_weight = nullptr;
  for (const TensorStats& t : stats.tensors) {
    if (t.dim >= 2 && t.numel > 0) last_weight = &t;
  }
  for (const TensorStats& t : stats.tensors) {
    if (stats.skipped) break;
    if (t.dim < 2 || t.numel == 0 || &t == last_weight || !std::isfinite(t.grad_norm)) continue;
    if (t.grad_norm < o.vanishing_norm) {
      vanishing.push_back(
          {t.name, t.grad_norm, o.vanishing_norm, 1 / (t.grad_norm + 1e-300),
           "gradient norm " + format(t.grad_norm) + " is under " + format(o.vanishing_norm)});
    } else if (last_weight != nullptr && std::isfinite(last_weight->grad_norm) &&
               t.grad_norm < o.vanishing_ratio * last_weight->grad_norm) {
      const double ratio = t.grad_norm / last_weight->grad_norm;
      vanishing.push_back({t.name, ratio, o.vanishing_ratio, 1 / ratio,
                           "gradient norm " + format(t.grad_norm) + " is " + format(ratio) +
                               " of " + last_weight->name + "'s (" +
                               format(last_weight->grad_norm) + ")"});
    }
  }

  auto worst = [](const std::vector<Finding>& findings) {
    return *std::max_element(findings.begin(), findings.end(),
                             [](const Finding& a, const Finding& b) { return a.score < b.score; });
  };
  if (!non_finite.empty()) {
    Finding w = worst(non_finite);
    w.message += "; nearest the output";
    hold(AlarmKind::NonFinite, "", w, non_finite.size(), count, stats.step, raised);
  }
  if (!jumps.empty())
    hold(AlarmKind::Explosion, "", worst(jumps), jumps.size(), count, stats.step, raised);
  if (o.max_grad_norm > 0 && std::isfinite(stats.grad_norm) && stats.grad_norm > o.max_grad_norm) {
    hold(AlarmKind::Explosion, "(global)",
         {"(global)", stats.grad_norm, o.max_grad_norm, 0,
          "global gradient norm " + format(stats.grad_norm) + " is over the bound " +
              format(o.max_grad_norm)},
         0, 0, stats.step, raised);
  }
  if (!vanishing.empty())
    hold(AlarmKind::Vanishing, "", worst(vanishing), vanishing.size(), count, stats.step, raised);
  if (!dead.empty())
    hold(AlarmKind::DeadUnits, "", worst(dead), dead.size(), count, stats.step, raised);
  skipped_streak_ = stats.skipped ? skipped_streak_ + 1 : 0;
  if (skipped_streak_ >= o.max_skipped_in_a_row) {
    hold(AlarmKind::LossScale, "skipped",
         {"(loss scale)", static_cast<double>(skipped_streak_),
          static_cast<double>(o.max_skipped_in_a_row), 0,
          "the loss scaler skipped " + std::to_string(skipped_streak_) +
              " steps in a row (scale now " + format(stats.loss_scale) +
              "): the gradients overflow even at a small scale"},
         0, 0, stats.step, raised);
  }
  if (stats.loss_scale > 0 && stats.loss_scale < o.min_loss_scale) {
    hold(AlarmKind::LossScale, "scale",
         {"(loss scale)", stats.loss_scale, o.min_loss_scale, 0,
          "loss scale " + format(stats.loss_scale) + " is under min_loss_scale " +
              format(o.min_loss_scale)},
         0, 0, stats.step, raised);
  }

  active_ = now_;
  alarms_.insert(alarms_.end(), raised.begin(), raised.end());
  return raised;
}

}  // namespace tg::optim
