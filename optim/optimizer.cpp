// Optimizer: building the flat groups, zero_grad, clipping and the step.
#include "tamegrad/optim/optimizer.h"

#include <map>
#include <set>

#include "tamegrad/core/autograd.h"
#include "tamegrad/core/factory.h"

namespace tg::optim {

Optimizer::Optimizer(const std::vector<Tensor>& params, const std::vector<double>& state_buffers) {
  TG_CHECK(!params.empty(), "optimizer: no parameters given");
  std::map<std::pair<std::string, int>, std::vector<Tensor>> by_group;
  std::set<const void*> seen;  // the same tensor twice would be gathered and updated twice
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    TG_CHECK(p.defined() && p.is_leaf() && p.requires_grad() && is_floating(p.dtype()),
             "optimizer: parameter ", i, " must be a floating-point leaf that requires grad");
    TG_CHECK(p.numel() == 0 || seen.insert(p.raw_data_ptr()).second, "optimizer: parameter ", i,
             " (shape ", p.shape(), ") was given twice");
    by_group[{p.device().str(), static_cast<int>(p.dtype())}].push_back(p);
  }
  NoGradGuard no_grad;
  // Every buffer is allocated before any parameter moves, so a failed allocation leaves the
  // parameters as they were.
  std::vector<ParamGroup> groups;
  for (auto& [key, members] : by_group) {
    int64_t total = 0;
    for (const Tensor& p : members) total += p.numel();
    const TensorOptions options =
        TensorOptions(members.front().dtype()).device(members.front().device());
    ParamGroup group{members.front().device(),
                     members.front().dtype(),
                     empty({total}, options),
                     zeros({total}, options),
                     {},
                     members,
                     zeros({}, options.dtype(DType::Int64))};
    for (double initial : state_buffers) group.state.push_back(full({total}, initial, options));
    groups.push_back(std::move(group));
  }
  for (ParamGroup& group : groups) {
    int64_t offset = 0;
    for (const Tensor& p : group.members) {
      const int64_t n = p.numel();
      Tensor values = group.params.slice(0, offset, offset + n).view(p.shape());
      Tensor grad = group.grads.slice(0, offset, offset + n).view(p.shape());
      values.copy_(p.detach());
      if (p.grad().defined()) grad.copy_(p.grad());
      p.set_data_(values);
      p.set_grad(grad);
      offset += n;
    }
  }
  groups_ = std::move(groups);
}

void Optimizer::zero_grad() {
  NoGradGuard no_grad;
  for (ParamGroup& g : groups_) g.grads.fill_(0.0);
}

Tensor Optimizer::clip_grad_norm(double max_norm) {
  TG_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive, got ", max_norm);
  std::vector<Tensor> grads;
  for (const ParamGroup& g : groups_) {
    TG_CHECK(g.device == groups_.front().device, "clip_grad_norm: parameters on ", g.device,
             " and ", groups_.front().device, "; the global norm needs one device");
    grads.push_back(g.grads);
  }
  global_grad_norm_(grads, max_norm, clip_);  // reuses clip_'s buffers after the first call
  clip_pending_ = true;
  return clip_.norm;
}

Tensor Optimizer::grad_norm() {
  std::vector<Tensor> grads;
  for (const ParamGroup& g : groups_) grads.push_back(g.grads);
  global_grad_norm_(grads, 0.0, measure_);
  return measure_.norm;
}

void Optimizer::step() {
  NoGradGuard no_grad;
  const ClipState* control = clip_pending_ ? &clip_ : nullptr;
  for (ParamGroup& g : groups_) {
    update(g, control);
    advance_step_count_(g.step_count, control);
    g.params.bump_version();
  }
  last_skip_ = clip_pending_ ? clip_.skip : Tensor();
  clip_pending_ = false;
}

int64_t Optimizer::steps() const { return groups_.front().step_count.item<int64_t>(); }

bool Optimizer::last_step_skipped() const {
  return last_skip_.defined() && last_skip_.item<int64_t>() != 0;
}

}  // namespace tg::optim
