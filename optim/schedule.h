// Learning-rate schedules (PyTorch's torch.optim.lr_scheduler, same formulas and
// defaults). A schedule owns nothing but its counters: it reads each parameter group's
// learning rate once at construction (the group's base) and sets every group's rate from
// its own base on each step(), as PyTorch's schedulers do. Step-based schedules count
// calls to step(): once per epoch or once per batch, as the caller decides.
//   StepLR          base · γ^⌊t / step_size⌋
//   MultiStepLR     base · γ^(milestones ≤ t)
//   ExponentialLR   base · γ^t
//   CosineAnnealing η_min + (base - η_min)·(1 + cos(π·t / T_max)) / 2, after an optional
//                   linear warm-up over `warmup` steps from start_factor·base
//                   (= SequentialLR(LinearLR, CosineAnnealingLR) with T_max = total - warmup)
//   OneCycleLR      Smith & Topin 2017: cosine from max_lr/div_factor up to max_lr over
//                   pct_start of total_steps, then down to that / final_div_factor
//   ReduceLROnPlateau  multiplies by `factor` when a metric stops improving for
//                   `patience` epochs (mode, threshold, cooldown, min_lr)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../foundation/config.h"
#include "optimizer.h"

TG_API_BEGIN

namespace tg::optim {

// A schedule's counters, for checkpoints: restore with load_state.
struct ScheduleState {
  int64_t step = 0;
  std::vector<double> values;  // schedule-specific (ReduceLROnPlateau's best, counters, lr)
};

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  // Advances one step and sets the optimizer's learning rate.
  virtual void step();
  // The same for a schedule that reads a metric at each step (ReduceLROnPlateau); the others
  // ignore it. What a caller that drives any schedule calls (train::LrScheduler).
  virtual void step_on(double metric) {
    (void)metric;
    step();
  }
  double base_lr(size_t group = 0) const { return base_lrs_.at(group); }
  int64_t steps() const { return step_; }
  virtual ScheduleState state() const { return {step_, {}}; }
  virtual void load_state(const ScheduleState& state);
  // The first group's learning rate after `t` steps (t = 0: the start).
  double lr_at(int64_t t) const { return rate(t, base_lrs_.front()); }

 protected:
  explicit LrSchedule(Optimizer& optimizer);
  // The rate after `t` steps of a group whose base rate is `base`.
  virtual double rate(int64_t t, double base) const = 0;
  // Sets every group's rate for the current step.
  virtual void apply();
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t step_ = 0;
};

class StepLR : public LrSchedule {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  double rate(int64_t t, double base) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

class MultiStepLR : public LrSchedule {
 public:
  // milestones strictly increasing and positive
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

 protected:
  double rate(int64_t t, double base) const override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

class ExponentialLR : public LrSchedule {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  double rate(int64_t t, double base) const override;

 private:
  double gamma_;
};

class CosineAnnealingLR : public LrSchedule {
 public:
  // total_steps includes the warm-up; after total_steps the rate stays at eta_min.
  CosineAnnealingLR(Optimizer& optimizer, int64_t total_steps, double eta_min = 0,
                    int64_t warmup = 0, double start_factor = 1.0 / 3.0);

 protected:
  double rate(int64_t t, double base) const override;

 private:
  int64_t total_, warmup_;
  double eta_min_, start_factor_;
};

struct OneCycleOptions {
  double pct_start = 0.3;
  double div_factor = 25;
  double final_div_factor = 1e4;
};

class OneCycleLR : public LrSchedule {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps,
             const OneCycleOptions& options = {});

 protected:
  double rate(int64_t t, double base) const override;

 private:
  double max_lr_;
  int64_t total_;
  OneCycleOptions options_;
};

struct PlateauOptions {
  bool maximize = false;  // mode "max": a larger metric is better
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  bool relative_threshold = true;  // threshold_mode "rel" (else "abs")
  int64_t cooldown = 0;
  double min_lr = 0;
  double eps = 1e-8;  // changes smaller than this are not made
};

class ReduceLROnPlateau : public LrSchedule {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, const PlateauOptions& options = {});
  // Records this epoch's metric; reduces the rate after `patience` epochs without
  // improvement (waits for nothing on the device: the metric is a host value).
  void step(double metric);
  void step() override;  // throws: needs a metric
  void step_on(double metric) override { step(metric); }
  ScheduleState state() const override;
  void load_state(const ScheduleState& state) override;

 protected:
  double rate(int64_t t, double base) const override;  // group 0's current rate, whatever t
  void apply() override;

 private:
  bool better(double metric) const;
  PlateauOptions options_;
  double best_;
  std::vector<double> lrs_;  // each group's current rate
  int64_t bad_epochs_ = 0, cooldown_left_ = 0;
};

}  // namespace tg::optim

TG_API_END
