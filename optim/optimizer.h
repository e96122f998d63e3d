// Optimizer: flat parameter groups and the step that updates them.
//
// At construction the parameters are gathered, per (device, dtype), into one contiguous
// buffer for the values, one for the gradients and one per state tensor; every parameter
// becomes a view into the value buffer (Tensor::set_data_) and its .grad a view into the
// gradient buffer, so backward accumulates straight into it. A step is then one kernel
// launch per group, the global norm one reduction, and no value travels to the host.
#pragma once

#include <string>
#include <vector>

#include "tamegrad/config.h"
#include "tamegrad/core/ops/update.h"
#include "tamegrad/core/tensor.h"

TG_API_BEGIN

namespace tg::optim {

struct ParamGroup {
  Device device;
  DType dtype;
  Tensor params;              // (numel,) flat values
  Tensor grads;               // (numel,) flat gradients
  std::vector<Tensor> state;  // (numel,) each; meaning per optimizer
  std::vector<Tensor> members;
  Tensor step_count;  // () int64 on `device`: steps taken, skipped ones not counted
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Zeroes every gradient buffer (one fill per group).
  void zero_grad();
  // Takes the global L2 norm of all gradients on the device and makes the next step()
  // scale them by min(1, max_norm / (norm + 1e-6)), folded into the update (no extra pass).
  // A non-finite norm makes that step leave parameters and state bitwise unchanged.
  // Returns the norm, a 0-d float32 tensor on the device (reading it waits for the device);
  // the next call overwrites it in place.
  // The parameters must all live on one device.
  Tensor clip_grad_norm(double max_norm);
  // The global gradient norm without clipping.
  Tensor grad_norm();
  // Updates every group, then counts the step on the device (Note [device step count],
  // kernels/update_common.h): a step skipped for a non-finite norm is not counted.
  void step();
  // Whether the last step was skipped for a non-finite gradient norm (waits for the device).
  bool last_step_skipped() const;
  // Steps taken, skipped ones not counted (reads the device count: waits for the device).
  int64_t steps() const;

  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;
  virtual std::string name() const = 0;

  const std::vector<ParamGroup>& groups() const { return groups_; }

 protected:
  // `state_buffers[i]` is the initial value of state buffer i (e.g. AdaGrad's accumulator).
  Optimizer(const std::vector<Tensor>& params, const std::vector<double>& state_buffers);
  // One fused update of `group`, whose per-step constants come from group.step_count.
  virtual void update(ParamGroup& group, const ClipState* control) = 0;

 private:
  std::vector<ParamGroup> groups_;
  bool clip_pending_ = false;
  ClipState clip_;     // device scalars of clip_grad_norm, allocated once
  ClipState measure_;  // the same for grad_norm
  Tensor last_skip_;
};

}  // namespace tg::optim

TG_API_END
