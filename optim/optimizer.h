// Optimizer: parameter groups over flat buffers, and the step that updates them.
//
// Parameters come in groups, each with its own hyperparameters (PyTorch's param_groups:
// e.g. no weight decay for biases and BatchNorm). At construction each group's parameters
// are gathered, per (device, dtype), into one contiguous buffer for the values, one for
// the gradients and one per state tensor (a FlatGroup); every parameter becomes a view into
// the value buffer (Tensor::set_data_) and its .grad a view into the gradient buffer, so
// backward accumulates straight into it. A step is then one kernel launch per flat group,
// the global norm one reduction, and no value travels to the host.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../core/ops/update.h"
#include "../core/state_dict.h"
#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::optim {

// A parameter group as the user gives it: its tensors and its own hyperparameters.
template <typename Hyper>
struct ParamGroup {
  std::vector<Tensor> params{};
  Hyper hyper{};
};

// The flat buffers of one parameter group on one (device, dtype).
struct FlatGroup {
  size_t group;  // the parameter group it belongs to
  Device device;
  DType dtype;
  Tensor params;                  // (numel,) flat values
  Tensor grads;                   // (numel,) flat gradients
  std::vector<Tensor> state;      // (numel,) each; names from the optimizer's state layout
  std::vector<Tensor> members;    // the parameters, views into `params`
  std::vector<size_t> positions;  // each member's index in the optimizer's parameter order
  Tensor step_count;              // () int64 on `device`: steps taken, skipped ones not counted
  // (units + 1,) int64 on `device`: where each unit of adaptive clipping starts in the
  // buffers (kernels/agc.h): one per output row of each member of 2 or more dims, one per
  // member of 0 or 1 dim; empty members have none.
  Tensor unit_starts;
  // Each member's slice of `params` and of `grads`, in its shape: what the member and its
  // .grad must stay views of (Note [parameters leave the flat buffer], optimizer.cpp).
  std::vector<Tensor> value_slices, grad_slices;
};

// What a step did, in device scalars that stay on the device until read
// (Note [step control], kernels/update_common.h).
struct StepStats {
  Tensor grad_norm;  // () float64: the global gradient norm; undefined when not measured
  Tensor clip_coef;  // () float64: the factor the gradients were scaled by (1: none)
  Tensor skipped;    // () uint8: 1 when the step was skipped for a non-finite norm

  struct Values {
    double grad_norm;  // NaN when not measured
    double clip_coef;
    bool skipped;
  };
  // Reads the three (waits for the device).
  Values read() const;
};

// A state buffer of an optimizer: its name in state dicts and its initial value.
struct StateBuffer {
  std::string name;
  double initial;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Zeroes every gradient buffer (one fill per flat group).
  //
  // zero_grad, clip_grad_norm, grad_norm and step first check, on the host, that every
  // parameter is still a view of its flat buffer (Note [parameters leave the flat buffer]):
  // a parameter moved or converted after the optimizer was built (Module::to), or re-pointed
  // by a second optimizer built over it, is refused with an error naming it; a gradient
  // that was replaced (set_grad) or cleared is taken back into the flat gradient buffer.
  void zero_grad();
  // Takes the global L2 norm of all gradients on the device and makes the next step()
  // scale them by min(1, max_norm / (norm + 1e-6)), folded into the update (no extra pass).
  // A non-finite norm makes that step leave parameters, state and step counts bitwise
  // unchanged. Returns the norm, a 0-d tensor on the device in the parameters' dtype
  // (float64 when groups mix dtypes; reading it waits for the device). The norm and the
  // coefficient are kept in float64 (Note [clip scalars], kernels/grad_norm.h).
  // The parameters must all live on one device.
  Tensor clip_grad_norm(double max_norm);
  // The global gradient norm without clipping.
  Tensor grad_norm();
  // Clamps every gradient element to [-value, value], in place, one pass per flat buffer
  // (PyTorch's clip_grad_value_). Before clip_grad_norm when both are used.
  void clip_grad_value(double value);
  // History-based clipping (HistoryClipOptions, foundation/hyperparams.h: AutoClip's
  // percentile of the recent norms, or a ZClip-style z-score): set_history_clip makes its
  // state on the parameters' device (a part of state_dict from then on: clip_history.*);
  // clip_grad_norm_auto then takes the global norm, records it, and makes the next step
  // scale the gradients by min(1, threshold / (norm + 1e-6)): two reductions and one
  // one-block launch, nothing read back. Returns the norm, as clip_grad_norm.
  void set_history_clip(const HistoryClipOptions& options);
  const HistoryClipOptions* history_clip() const {
    return history_on_ ? &history_options_ : nullptr;
  }
  Tensor clip_grad_norm_auto();
  // () float64 on the device: the threshold of the last clip_grad_norm_auto (+inf while a
  // ZScore rule warms up or lets the norm through).
  Tensor clip_threshold() const { return history_.threshold; }

  // With `on`, a step without clip_grad_norm measures the global gradient norm for its
  // statistics (one extra reduction); off by default.
  void measure_grad_norm(bool on) { measure_ = on; }

  // Clips unit-wise first where a group's unit_clip.agc_lambda > 0 (kernels/agc.h; not
  // together with a global-norm clip in the same step: AGC takes its place). Then updates
  // every flat group, and counts the step on the device (Note [device step
  // count], kernels/update_common.h): a step skipped for a non-finite norm is not counted.
  // Returns its statistics; nothing waits for the device.
  StepStats step();
  // Whether the last step was skipped for a non-finite gradient norm (waits for the device).
  bool last_step_skipped() const;
  // Steps taken, skipped ones not counted (reads the device count: waits for the device).
  int64_t steps() const;

  // Learning rates: lr() is the first group's, set_lr(lr) sets every group's.
  size_t group_count() const { return group_count_; }
  virtual double lr(size_t group) const = 0;
  virtual void set_lr(size_t group, double lr) = 0;
  double lr() const { return lr(0); }
  void set_lr(double lr);
  virtual std::string name() const = 0;

  // The state under PyTorch's structure, every entry a tensor:
  //   state.<i>.<buffer>        parameter i's state (exp_avg, momentum_buffer, ...), in the
  //                             parameters' order over all groups, sharing storage
  //   param_groups.<g>.step     () int64: steps taken by group g
  //   param_groups.<g>.<field>  () float64: each hyperparameter (lr, beta1, amsgrad, ...)
  //   clip_history.<buffer>     with set_history_clip: norms, seen, mean, var
  NamedTensors state_dict() const;
  // Loads a state_dict() of an optimizer of the same kind, parameter shapes and options
  // that shape its state (amsgrad, centered, momentum, a history clip's window). Strict:
  // any missing, unexpected or misshaped key, or a hyperparameter out of range, throws
  // naming each, and nothing is loaded. (A state dict written before adaptive clipping
  // existed, without agc_lambda and agc_eps, loads with it off.)
  void load_state_dict(const NamedTensors& state);

  const std::vector<FlatGroup>& flat_groups() const { return flat_; }

  // Loss scaling (Note [loss scaling], optim/loss_scaler.h): LossScaler's constructor attaches
  // its state; from then on the norms (clip_grad_norm, grad_norm, measured steps) are of the
  // unscaled gradients, every step takes the norm to find non-finite gradients (skipping the
  // step), the update divides the scale out, and the scaler is updated on the device after
  // the update. The state is saved in state_dict as loss_scaler.*. Null: no scaler.
  void attach_loss_scaler(std::shared_ptr<LossScaleState> state);
  const LossScaleState* loss_scale_state() const { return loss_scale_.get(); }
  // Divides every gradient by the loss scale in place (PyTorch's scaler.unscale_); the step
  // then leaves the scale alone. Clipping by value and unit-wise clipping call it first
  // themselves. Once per step; nothing waits for the device.
  void unscale_gradients();

 protected:
  // groups[g]: the parameters of group g; layouts[g]: its state buffers.
  Optimizer(const std::vector<std::vector<Tensor>>& groups,
            const std::vector<std::vector<StateBuffer>>& layouts);
  // One fused update of `flat`, whose per-step constants come from flat.step_count.
  virtual void update(FlatGroup& flat, const ClipState* control) = 0;
  // Group g's hyperparameters as (name, value); bools are 0 or 1.
  virtual std::vector<std::pair<std::string, double>> hyper_values(size_t group) const = 0;
  // Checks values for group g (names as hyper_values gives them) without keeping them:
  // throws when out of range or when they would change the state layout.
  virtual void check_hyper_values(size_t group, const std::vector<double>& values) const = 0;
  virtual void set_hyper_values(size_t group, const std::vector<double>& values) = 0;
  virtual UnitClip unit_clip(size_t group) const = 0;

 private:
  std::vector<FlatGroup> flat_;
  std::vector<std::vector<std::string>> state_names_;  // per group
  size_t group_count_ = 0;
  size_t param_count_ = 0;
  bool clip_pending_ = false;
  bool measure_ = false;
  ClipState clip_;           // device scalars of clip_grad_norm, allocated once
  ClipState measure_state_;  // the same for grad_norm and measured steps
  Tensor in_parameter_dtype(const Tensor& norm) const;
  // Note [parameters leave the flat buffer]; `fresh_grads`: the gradients are about to be
  // zeroed, so a replaced one need not be copied back.
  void check_members(const char* op, bool fresh_grads);
  Tensor not_skipped_;  // () uint8 zero: the skipped flag of an unclipped step
  Tensor last_skip_;
  bool history_on_ = false;
  HistoryClipOptions history_options_{};
  ClipHistory history_;
  std::vector<Tensor> all_grads(const char* op);  // every flat gradient buffer, checked
  void clip_units();
  std::shared_ptr<LossScaleState> loss_scale_;
  // Whether the gradients carry the loss scale now (a scaler attached, not unscaled).
  bool gradients_scaled() const { return loss_scale_ != nullptr && !loss_scale_->unscaled; }
  // The loss scale `state` is to read (Note [loss scaling]): the scaler's, or none.
  void mark_loss_scale(ClipState& state) const;
  void append_loss_scaler_state(NamedTensors& out) const;
  void check_loss_scaler_state(const NamedTensors& state) const;
};

// The optimizers' common part: a Hyper (AdamParams, SGDParams, ...) per group, checked by
// `Check`, with a state layout from `Layout`.
template <typename Hyper>
class OptimizerWith : public Optimizer {
 public:
  double lr(size_t group) const override { return hypers_.at(group).lr; }
  void set_lr(size_t group, double lr) override;
  using Optimizer::lr;
  using Optimizer::set_lr;
  const Hyper& hyper(size_t group = 0) const { return hypers_.at(group); }

 protected:
  using Check = void (*)(const Hyper&);
  using Layout = std::vector<StateBuffer> (*)(const Hyper&);
  OptimizerWith(const std::vector<ParamGroup<Hyper>>& groups, Check check, Layout layout);

  std::vector<std::pair<std::string, double>> hyper_values(size_t group) const override;
  void check_hyper_values(size_t group, const std::vector<double>& values) const override;
  void set_hyper_values(size_t group, const std::vector<double>& values) override;
  UnitClip unit_clip(size_t group) const override { return hypers_.at(group).unit_clip; }

  std::vector<Hyper> hypers_;

 private:
  Hyper with_values(size_t group, const std::vector<double>& values) const;
  Check check_;
  Layout layout_;
};

}  // namespace tg::optim

TG_API_END
