// Gradient telemetry: for every parameter tensor of an optimizer, its gradient's L2 norm,
// its weights' L2 norm and the size of its last update relative to the weights, plus the
// same over all parameters, measured in one pass over the flat buffers (one launch per
// flat group on the GPU, one parallel loop on the CPU: kernels/param_stats.h) and read
// back without waiting (core/readback.h). record() queues a measurement and returns;
// poll() hands out measurements that have reached the host, oldest first.
//
//   optim::GradientTelemetry telemetry(optimizer, model.named_parameters());
//   for (...) {
//     optimizer.zero_grad(); loss = ...; loss.backward(); optimizer.step();
//     telemetry.record(step);              // this step's gradients and update
//     while (auto stats = telemetry.poll()) monitor.observe(*stats);   // optim/monitor.h
//   }
//
// Measured where record() is called: after step(), the update is that step's and the
// gradients are the ones it used (before clipping: the clip is folded into the update and
// leaves the gradient buffer alone). With a loss scaler (optim/loss_scaler.h) the gradient
// norms are of the unscaled gradients, and each record carries the scale the step's
// gradients carried and whether the scaler skipped the step. Tests: tests/unit/telemetry_test.cpp,
// tests/cuda/telemetry_parity_test.cpp; cost: bench/bench_train_step.cpp.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../core/ops/param_stats.h"
#include "../core/readback.h"
#include "../core/state_dict.h"
#include "../foundation/config.h"
#include "optimizer.h"

TG_API_BEGIN

namespace tg::optim {

struct TensorStats {
  std::string name;
  int64_t numel = 0;
  int dim = 0;
  double grad_norm = 0;      // ‖g‖₂; Inf or NaN when the gradient holds either
  double weight_norm = 0;    // ‖w‖₂
  double update_norm = 0;    // ‖w − w_prev‖₂: the change since the previous record
  double update_ratio = 0;   // update_norm / weight_norm (0 when both are 0)
  double zero_fraction = 0;  // share of gradient entries that are exactly 0
};

struct GradientStats {
  int64_t step = 0;                  // as given to record()
  std::vector<TensorStats> tensors;  // in the optimizer's parameter order
  double grad_norm = 0, weight_norm = 0, update_norm = 0, update_ratio = 0;  // all tensors
  // With a loss scaler (0 and false without): the scale this step's gradients carried,
  // whether the scaler skipped the step (its gradients were not finite), and its count of
  // skipped steps so far.
  double loss_scale = 0;
  bool skipped = false;
  int64_t skipped_steps = 0;
};

class GradientTelemetry {
 public:
  // `names`: parameter names (Module::named_parameters()), matched to the optimizer's
  // parameters by identity; unnamed ones are called "param<i>". The parameters must all
  // live on one device. The first record's update is measured from the weights now.
  explicit GradientTelemetry(const Optimizer& optimizer, const NamedTensors& names = {});

  // Queues one measurement of the current gradients and weights, labelled `step`.
  void record(int64_t step);
  // The oldest measurement that has reached the host and was not taken yet; never waits.
  std::optional<GradientStats> poll();
  // The oldest measurement not taken yet, waiting for it; nullopt when none is pending.
  std::optional<GradientStats> wait();
  size_t pending() const { return readback_->pending(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  struct Group {
    Tensor params, grads, previous, sums;
    ParamStatsLayout layout;
    std::vector<size_t> positions;  // each tensor's index in the parameter order
  };
  // A queued record: its label, whether a loss scaler was attached, and whether the
  // gradients carried its scale then.
  struct Pending {
    int64_t step;
    bool scaler, scaled;
  };
  std::optional<GradientStats> take(std::optional<std::vector<double>> sums);
  GradientStats convert(const std::vector<double>& sums, const Pending& record) const;

  std::vector<Group> groups_;
  std::vector<std::string> names_;
  std::vector<int> dims_;
  std::vector<int64_t> numels_;
  const Optimizer* optimizer_;
  Tensor sums_;        // every group's piece sums, one after another, then the scaler row
  Tensor scaler_row_;  // (kParamStatColumns,): step scale, skipped, skipped steps
  std::unique_ptr<Readback> readback_;
  std::deque<Pending> pending_;  // the records not taken yet
};

}  // namespace tg::optim

TG_API_END
