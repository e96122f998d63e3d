#include "schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tg::optim {

namespace {

constexpr double kPi = 3.14159265358979323846;

double cosine(double from, double to, double fraction) {
  return to + (from - to) * (1.0 + std::cos(kPi * fraction)) / 2.0;
}

}  // namespace

LrSchedule::LrSchedule(Optimizer& optimizer) : optimizer_(optimizer) {
  for (size_t g = 0; g < optimizer.group_count(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

void LrSchedule::step() {
  ++step_;
  apply();
}

void LrSchedule::apply() {
  for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, rate(step_, base_lrs_[g]));
}

void LrSchedule::load_state(const ScheduleState& state) {
  TG_CHECK(state.step >= 0, "schedule: a saved step count must be >= 0, got ", state.step);
  TG_CHECK(state.values.empty(), "schedule: this schedule keeps no values beyond its step, got ",
           state.values.size());
  step_ = state.step;
  apply();
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LrSchedule(optimizer), step_size_(step_size), gamma_(gamma) {
  TG_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  TG_CHECK(gamma > 0, "StepLR: gamma must be positive, got ", gamma);
}

double StepLR::rate(int64_t t, double base) const {
  return base * std::pow(gamma_, static_cast<double>(t / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LrSchedule(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  TG_CHECK(!milestones_.empty(), "MultiStepLR: no milestones given");
  for (size_t i = 0; i < milestones_.size(); ++i) {
    TG_CHECK(milestones_[i] > 0 && (i == 0 || milestones_[i] > milestones_[i - 1]),
             "MultiStepLR: milestones must be positive and increasing, got ", milestones_);
  }
  TG_CHECK(gamma > 0, "MultiStepLR: gamma must be positive, got ", gamma);
}

double MultiStepLR::rate(int64_t t, double base) const {
  const auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), t) - milestones_.begin();
  return base * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LrSchedule(optimizer), gamma_(gamma) {
  TG_CHECK(gamma > 0, "ExponentialLR: gamma must be positive, got ", gamma);
}

double ExponentialLR::rate(int64_t t, double base) const {
  return base * std::pow(gamma_, static_cast<double>(t));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t total_steps, double eta_min,
                                     int64_t warmup, double start_factor)
    : LrSchedule(optimizer),
      total_(total_steps),
      warmup_(warmup),
      eta_min_(eta_min),
      start_factor_(start_factor) {
  TG_CHECK(total_steps > 0 && warmup >= 0 && warmup < total_steps,
           "CosineAnnealingLR: need total_steps > 0 and 0 <= warmup < total_steps, got "
           "total_steps ",
           total_steps, ", warmup ", warmup);
  TG_CHECK(eta_min >= 0 && start_factor > 0 && start_factor <= 1,
           "CosineAnnealingLR: need eta_min >= 0 and start_factor in (0, 1], got eta_min ", eta_min,
           ", start_factor ", start_factor);
  if (warmup > 0) apply();
}

double CosineAnnealingLR::rate(int64_t t, double base) const {
  if (t < warmup_) {
    const double factor = start_factor_ + (1.0 - start_factor_) * static_cast<double>(t) /
                                              static_cast<double>(warmup_);
    return base * factor;
  }
  const int64_t span = total_ - warmup_;
  const int64_t into = std::min(t - warmup_, span);
  return cosine(base, eta_min_, static_cast<double>(into) / static_cast<double>(span));
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps,
                       const OneCycleOptions& options)
    : LrSchedule(optimizer), max_lr_(max_lr), total_(total_steps), options_(options) {
  TG_CHECK(max_lr > 0 && total_steps > 1, "OneCycleLR: need max_lr > 0 and total_steps > 1, got ",
           max_lr, " and ", total_steps);
  TG_CHECK(options.pct_start > 0 && options.pct_start < 1 && options.div_factor > 0 &&
               options.final_div_factor > 0,
           "OneCycleLR: need pct_start in (0, 1) and positive div factors, got pct_start ",
           options.pct_start);
  // Every group starts from max_lr / div_factor (its base), as in PyTorch.
  for (double& base : base_lrs_) base = max_lr / options.div_factor;
  apply();
}

// PyTorch's two-phase schedule: phase 1 ends at step pct_start·total - 1, phase 2 at
// total - 1; within a phase the rate follows a cosine between its ends.
double OneCycleLR::rate(int64_t t, double) const {
  const double initial = max_lr_ / options_.div_factor;
  const double minimum = initial / options_.final_div_factor;
  const double up_end = options_.pct_start * static_cast<double>(total_) - 1.0;
  const double down_end = static_cast<double>(total_) - 1.0;
  const double step = static_cast<double>(std::min(t, total_ - 1));
  if (step <= up_end) return cosine(initial, max_lr_, step / up_end);
  return cosine(max_lr_, minimum, (step - up_end) / (down_end - up_end));
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, const PlateauOptions& options)
    : LrSchedule(optimizer),
      options_(options),
      best_(options.maximize ? -std::numeric_limits<double>::infinity()
                             : std::numeric_limits<double>::infinity()),
      lrs_(base_lrs_) {
  TG_CHECK(options.factor > 0 && options.factor < 1,
           "ReduceLROnPlateau: factor must be in (0, "
           "1), got ",
           options.factor);
  TG_CHECK(options.patience >= 0 && options.cooldown >= 0 && options.threshold >= 0 &&
               options.min_lr >= 0,
           "ReduceLROnPlateau: patience, cooldown, threshold and min_lr must be >= 0, got ",
           options.patience, ", ", options.cooldown, ", ", options.threshold, ", ", options.min_lr);
}

bool ReduceLROnPlateau::better(double metric) const {
  const double t = options_.threshold;
  if (options_.relative_threshold) {
    return options_.maximize ? metric > best_ * (1.0 + t) : metric < best_ * (1.0 - t);
  }
  return options_.maximize ? metric > best_ + t : metric < best_ - t;
}

void ReduceLROnPlateau::step(double metric) {
  ++step_;
  if (better(metric)) {
    best_ = metric;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;
  }
  if (bad_epochs_ > options_.patience) {
    for (double& lr : lrs_) {
      const double reduced = std::max(lr * options_.factor, options_.min_lr);
      if (lr - reduced > options_.eps) lr = reduced;
    }
    cooldown_left_ = options_.cooldown;
    bad_epochs_ = 0;
  }
  apply();
}

void ReduceLROnPlateau::step() {
  TG_CHECK(false, "ReduceLROnPlateau: step() needs the epoch's metric: call step(metric)");
}

double ReduceLROnPlateau::rate(int64_t, double) const { return lrs_.front(); }

void ReduceLROnPlateau::apply() {
  for (size_t g = 0; g < lrs_.size(); ++g) optimizer_.set_lr(g, lrs_[g]);
}

// best, bad epochs, cooldown left, then each group's rate.
ScheduleState ReduceLROnPlateau::state() const {
  ScheduleState state{
      step_, {best_, static_cast<double>(bad_epochs_), static_cast<double>(cooldown_left_)}};
  state.values.insert(state.values.end(), lrs_.begin(), lrs_.end());
  return state;
}

void ReduceLROnPlateau::load_state(const ScheduleState& state) {
  TG_CHECK(state.values.size() == 3 + lrs_.size(), "ReduceLROnPlateau: a saved state of ",
           lrs_.size(), " group(s) holds ", 3 + lrs_.size(), " values, got ", state.values.size());
  TG_CHECK(state.step >= 0, "ReduceLROnPlateau: a saved step count must be >= 0, got ", state.step);
  step_ = state.step;
  best_ = state.values[0];
  bad_epochs_ = static_cast<int64_t>(state.values[1]);
  cooldown_left_ = static_cast<int64_t>(state.values[2]);
  lrs_.assign(state.values.begin() + 3, state.values.end());
  apply();
}

}  // namespace tg::optim
