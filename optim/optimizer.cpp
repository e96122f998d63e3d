// Optimizer: building the flat groups, zero_grad, clipping, the step and state dicts.
#include "optimizer.h"

#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <type_traits>

#include "../core/autograd.h"
#include "../core/factory.h"

namespace tg::optim {

namespace {

std::string state_key(size_t param, const std::string& buffer) {
  return "state." + std::to_string(param) + "." + buffer;
}

std::string group_key(size_t group, const std::string& field) {
  return "param_groups." + std::to_string(group) + "." + field;
}

void check_unit_clip(const UnitClip& c) {
  TG_CHECK(
      c.agc_lambda >= 0 && std::isfinite(c.agc_lambda) && c.agc_eps > 0 && std::isfinite(c.agc_eps),
      "optimizer: unit_clip needs agc_lambda >= 0 (0: off) and agc_eps > 0, finite; got ",
      c.agc_lambda, " and ", c.agc_eps);
}

// The recorded history of a state dict, read on the host: counts whole and >= 0, norms
// finite and >= 0, the moments finite with var >= 0.
void check_history_state(const std::string& who, const NamedTensors& state) {
  const double seen = find_state(state, "clip_history.seen").to(DType::Float64).item<double>();
  const double mean = find_state(state, "clip_history.mean").to(DType::Float64).item<double>();
  const double var = find_state(state, "clip_history.var").to(DType::Float64).item<double>();
  TG_CHECK(seen >= 0 && seen == std::floor(seen), who,
           ": clip_history.seen must be a whole number >= 0, got ", seen);
  TG_CHECK(std::isfinite(mean) && std::isfinite(var) && var >= 0, who,
           ": clip_history.mean and var must be finite, var >= 0; got ", mean, " and ", var);
  const Tensor norms =
      find_state(state, "clip_history.norms").to(Device::cpu()).to(DType::Float64).contiguous();
  for (int64_t i = 0; i < norms.numel(); ++i) {
    const double v = norms.data_ptr<double>()[i];
    TG_CHECK(std::isfinite(v) && v >= 0, who, ": clip_history.norms[", i,
             "] must be a finite norm >= 0, got ", v);
  }
}

}  // namespace

Optimizer::Optimizer(const std::vector<std::vector<Tensor>>& groups,
                     const std::vector<std::vector<StateBuffer>>& layouts)
    : group_count_(groups.size()) {
  TG_ASSERT(groups.size() == layouts.size(), "a state layout per group");
  std::set<const void*> seen;  // the same tensor twice would be gathered and updated twice
  // (group, device, dtype) -> members, with their positions in the overall order.
  std::map<std::tuple<size_t, std::string, int>, std::vector<std::pair<Tensor, size_t>>> by_flat;
  size_t position = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t i = 0; i < groups[g].size(); ++i, ++position) {
      const Tensor& p = groups[g][i];
      TG_CHECK(p.defined() && p.is_leaf() && p.requires_grad() && is_floating(p.dtype()),
               "optimizer: parameter ", i, " of group ", g,
               " must be a floating-point leaf that requires grad");
      TG_CHECK(p.numel() == 0 || seen.insert(p.raw_data_ptr()).second, "optimizer: parameter ", i,
               " of group ", g, " (shape ", p.shape(), ") was given twice");
      by_flat[{g, p.device().str(), static_cast<int>(p.dtype())}].emplace_back(p, position);
    }
  }
  TG_CHECK(position > 0, "optimizer: no parameters given");
  param_count_ = position;
  for (const auto& layout : layouts) {
    std::vector<std::string> names;
    for (const StateBuffer& b : layout) names.push_back(b.name);
    state_names_.push_back(names);
  }
  NoGradGuard no_grad;
  // Every buffer is allocated before any parameter moves, so a failed allocation leaves the
  // parameters as they were.
  std::vector<FlatGroup> flat;
  for (auto& [key, members] : by_flat) {
    const Tensor& first = members.front().first;
    int64_t total = 0;
    for (const auto& member : members) total += member.first.numel();
    const TensorOptions options = TensorOptions(first.dtype()).device(first.device());
    FlatGroup group;
    group.group = std::get<0>(key);
    group.device = first.device();
    group.dtype = first.dtype();
    group.params = empty({total}, options);
    group.grads = zeros({total}, options);
    group.step_count = zeros({}, options.dtype(DType::Int64));
    for (const auto& [p, pos] : members) {
      group.members.push_back(p);
      group.positions.push_back(pos);
    }
    for (const StateBuffer& b : layouts[group.group]) {
      group.state.push_back(full({total}, b.initial, options));
    }
    flat.push_back(std::move(group));
  }
  for (FlatGroup& group : flat) {
    int64_t offset = 0;
    std::vector<int64_t> unit_starts{0};
    for (const Tensor& p : group.members) {
      const int64_t n = p.numel();
      // Units of adaptive clipping (kernels/agc.h): rows over dims 1.. of a weight, the
      // whole of a vector or scalar.
      const int64_t units = n == 0 ? 0 : (p.dim() >= 2 ? p.size(0) : 1);
      for (int64_t u = 1; u <= units; ++u) unit_starts.push_back(offset + u * (n / units));
      Tensor values = group.params.slice(0, offset, offset + n).view(p.shape());
      Tensor grad = group.grads.slice(0, offset, offset + n).view(p.shape());
      values.copy_(p.detach());
      if (p.grad().defined()) grad.copy_(p.grad());
      p.set_data_(values);
      p.set_grad(grad);
      group.value_slices.push_back(values);
      group.grad_slices.push_back(grad);
      offset += n;
    }
    group.unit_starts = from_vector(unit_starts).to(group.device);
  }
  flat_ = std::move(flat);
}

// Note [parameters leave the flat buffer]: a step updates the flat buffers, so it reaches
// a parameter only while the parameter is a view of them, and reads its gradient only while
// .grad is a view of the gradient buffer. Three ordinary habits break that: Module::to after
// the optimizer was built (the parameter is re-pointed to new storage of another dtype or
// device), a second optimizer over the same parameters (re-pointed into that optimizer's
// buffer), and code that replaces or clears .grad (set_grad; the next backward then makes a
// fresh tensor). Pointer identity tells each apart on the host, with nothing read from the
// device: a parameter that left is refused, naming it (following it would mean moving the
// optimizer's state behind the user's back); a gradient that left is taken back: copied into
// its slice (a device copy, no wait) or, when there is none, its slice zeroed, and .grad
// pointed at the slice again.
void Optimizer::check_members(const char* op, bool fresh_grads) {
  NoGradGuard no_grad;
  for (FlatGroup& g : flat_) {
    for (size_t m = 0; m < g.members.size(); ++m) {
      const Tensor& p = g.members[m];
      const Tensor& slice = g.value_slices[m];
      const bool moved = p.dtype() != slice.dtype() || p.device() != slice.device();
      TG_CHECK(!moved, name(), ".", op, ": parameter ", g.positions[m], " (group ", g.group,
               ", shape ", p.shape(), ") left this optimizer's flat buffer, so a step would not ",
               "reach it: it is now ", p.dtype(), " on ", p.device(), ", the buffer ",
               slice.dtype(), " on ", slice.device(), ". It was moved or converted after the ",
               "optimizer was built (Module::to?); build the optimizer after moving the model");
      TG_CHECK(p.is_alias_of(slice), name(), ".", op, ": parameter ", g.positions[m], " (group ",
               g.group, ", shape ", p.shape(), ") left this optimizer's flat buffer, so a step ",
               "would not reach it: it was re-pointed into other storage, by a second optimizer ",
               "built over the same parameters (only the one built last updates them) or by ",
               "set_data_");
      const Tensor grad = p.grad();
      Tensor& grad_slice = g.grad_slices[m];
      if (grad.defined() && grad.is_alias_of(grad_slice)) continue;
      if (!fresh_grads) {
        if (grad.defined()) {
          grad_slice.copy_(grad);
        } else {
          grad_slice.fill_(0.0);
        }
      }
      p.set_grad(grad_slice);
    }
  }
}

void Optimizer::zero_grad() {
  check_members("zero_grad", /*fresh_grads=*/true);
  NoGradGuard no_grad;
  for (FlatGroup& g : flat_) g.grads.fill_(0.0);
}

StepStats Optimizer::step() {
  check_members("step", false);
  NoGradGuard no_grad;
  StepStats stats;
  if (!clip_pending_ && measure_ && loss_scale_ == nullptr) {
    // Measured only: the update does not read it, so a non-finite norm skips nothing.
    grad_norm();
    if (!not_skipped_.defined() || not_skipped_.device() != flat_.front().device) {
      not_skipped_ = zeros({}, TensorOptions(DType::UInt8).device(flat_.front().device));
    }
    stats = {measure_state_.norm, measure_state_.scale, not_skipped_};
  }
  clip_units();
  if (loss_scale_ != nullptr && !clip_pending_) {
    // Note [loss scaling]: the norm finds non-finite gradients, whose step is skipped.
    mark_loss_scale(clip_);
    global_grad_norm_(all_grads("step"), 0.0, clip_);
    clip_pending_ = true;
  }
  mark_loss_scale(clip_);  // after an unscale_ since the norm, nothing is left to divide out
  const ClipState* control = clip_pending_ ? &clip_ : nullptr;
  if (control != nullptr) stats = {clip_.norm, clip_.scale, clip_.skip};
  for (FlatGroup& g : flat_) {
    update(g, control);
    advance_step_count_(g.step_count, control);
    g.params.bump_version();
  }
  last_skip_ = clip_pending_ ? clip_.skip : Tensor();
  clip_pending_ = false;
  if (loss_scale_ != nullptr) {
    update_loss_scale_(*loss_scale_, clip_.skip);
    loss_scale_->last_unscaled = loss_scale_->unscaled;
    loss_scale_->unscaled = false;
  }
  return stats;
}

StepStats::Values StepStats::read() const {
  Values v{std::nan(""), 1.0, false};
  if (grad_norm.defined()) v.grad_norm = grad_norm.to(DType::Float64).item<double>();
  if (clip_coef.defined()) v.clip_coef = clip_coef.to(DType::Float64).item<double>();
  if (skipped.defined()) v.skipped = skipped.item<uint8_t>() != 0;
  return v;
}

int64_t Optimizer::steps() const { return flat_.front().step_count.item<int64_t>(); }

bool Optimizer::last_step_skipped() const {
  return last_skip_.defined() && last_skip_.item<uint8_t>() != 0;
}

void Optimizer::set_lr(double lr) {
  for (size_t g = 0; g < group_count_; ++g) set_lr(g, lr);
}

NamedTensors Optimizer::state_dict() const {
  // Per parameter position: its views into each state buffer.
  std::vector<NamedTensors> per_param(param_count_);
  std::vector<Tensor> group_steps(group_count_);
  for (const FlatGroup& flat : flat_) {
    const std::vector<std::string>& names = state_names_[flat.group];
    int64_t offset = 0;
    for (size_t m = 0; m < flat.members.size(); ++m) {
      const Tensor& p = flat.members[m];
      for (size_t b = 0; b < names.size(); ++b) {
        per_param[flat.positions[m]].emplace_back(
            state_key(flat.positions[m], names[b]),
            flat.state[b].slice(0, offset, offset + p.numel()).view(p.shape()));
      }
      offset += p.numel();
    }
    if (!group_steps[flat.group].defined()) group_steps[flat.group] = flat.step_count;
  }
  NamedTensors out;
  for (const NamedTensors& entries : per_param)
    out.insert(out.end(), entries.begin(), entries.end());
  for (size_t g = 0; g < group_count_; ++g) {
    // A group without parameters has taken no step.
    out.emplace_back(group_key(g, "step"),
                     group_steps[g].defined() ? group_steps[g] : zeros({}, DType::Int64));
    for (const auto& [field, value] : hyper_values(g)) {
      out.emplace_back(group_key(g, field), full({}, value, DType::Float64));
    }
  }
  if (history_on_) {
    out.emplace_back("clip_history.norms", history_.norms);
    out.emplace_back("clip_history.seen", history_.seen);
    out.emplace_back("clip_history.mean", history_.mean);
    out.emplace_back("clip_history.var", history_.var);
  }
  append_loss_scaler_state(out);
  return out;
}

void Optimizer::load_state_dict(const NamedTensors& given) {
  const NamedTensors own = state_dict();
  // A state dict from before adaptive clipping has neither of its fields: it was off.
  NamedTensors state = given;
  for (size_t g = 0; g < group_count_; ++g) {
    if (find_state(state, group_key(g, "agc_lambda")).defined() ||
        find_state(state, group_key(g, "agc_eps")).defined() ||
        !find_state(state, group_key(g, "lr")).defined())
      continue;
    const UnitClip off;
    state.emplace_back(group_key(g, "agc_lambda"), full({}, off.agc_lambda, DType::Float64));
    state.emplace_back(group_key(g, "agc_eps"), full({}, off.agc_eps, DType::Float64));
  }
  // Strict, so pairs[i] is own[i]'s.
  const auto pairs = match_state(name(), own, state);
  // Every value is checked before anything changes.
  std::vector<std::vector<double>> values(group_count_);
  for (size_t g = 0; g < group_count_; ++g) {
    const double step = find_state(state, group_key(g, "step")).to(DType::Float64).item<double>();
    TG_CHECK(step >= 0 && step == std::floor(step), name(), ": param_groups.", g,
             ".step must be a whole number >= 0, got ", step);
    for (const auto& [field, ignored] : hyper_values(g)) {
      values[g].push_back(find_state(state, group_key(g, field)).to(DType::Float64).item<double>());
    }
    check_hyper_values(g, values[g]);
  }
  if (history_on_) check_history_state(name(), state);
  check_loss_scaler_state(state);
  NoGradGuard no_grad;
  for (size_t i = 0; i < own.size(); ++i) {
    const std::string& key = own[i].first;
    if (key.rfind("state.", 0) == 0 || key.rfind("clip_history.", 0) == 0 ||
        key.rfind("loss_scaler.", 0) == 0)
      Tensor(pairs[i].first).copy_(pairs[i].second);
  }
  // A group's step count lives in each of its flat groups.
  for (FlatGroup& flat : flat_) {
    flat.step_count.copy_(find_state(state, group_key(flat.group, "step")));
  }
  for (size_t g = 0; g < group_count_; ++g) set_hyper_values(g, values[g]);
}

// ---- OptimizerWith ----

template <typename Hyper>
OptimizerWith<Hyper>::OptimizerWith(const std::vector<ParamGroup<Hyper>>& groups, Check check,
                                    Layout layout)
    : Optimizer(
          [&] {
            TG_CHECK(!groups.empty(), "optimizer: no parameter groups given");
            std::vector<std::vector<Tensor>> params;
            for (const ParamGroup<Hyper>& g : groups) {
              check(g.hyper);
              check_unit_clip(g.hyper.unit_clip);
              params.push_back(g.params);
            }
            return params;
          }(),
          [&] {
            std::vector<std::vector<StateBuffer>> layouts;
            for (const ParamGroup<Hyper>& g : groups) layouts.push_back(layout(g.hyper));
            return layouts;
          }()),
      check_(check),
      layout_(layout) {
  for (const ParamGroup<Hyper>& g : groups) hypers_.push_back(g.hyper);
}

template <typename Hyper>
void OptimizerWith<Hyper>::set_lr(size_t group, double lr) {
  TG_CHECK(group < hypers_.size(), name(), ": no parameter group ", group, " (there are ",
           hypers_.size(), ")");
  TG_CHECK(lr >= 0 && std::isfinite(lr), name(), ": a learning rate must be finite and >= 0, got ",
           lr);
  hypers_[group].lr = lr;
}

template <typename Hyper>
std::vector<std::pair<std::string, double>> OptimizerWith<Hyper>::hyper_values(size_t group) const {
  std::vector<std::pair<std::string, double>> out;
  Hyper h = hypers_.at(group);
  for_each_field(h, [&](const char* field, auto& value) {
    out.emplace_back(field, static_cast<double>(value));
  });
  return out;
}

template <typename Hyper>
Hyper OptimizerWith<Hyper>::with_values(size_t group, const std::vector<double>& values) const {
  Hyper h = hypers_.at(group);
  size_t i = 0;
  for_each_field(h, [&](const char* field, auto& value) {
    using Field = std::decay_t<decltype(value)>;
    const double v = values.at(i++);
    if constexpr (std::is_same_v<Field, bool>) {
      TG_CHECK(v == 0 || v == 1, name(), ": param_groups.", group, ".", field,
               " is a flag, 0 or 1, got ", v);
      value = v != 0;
    } else {
      value = v;
    }
  });
  return h;
}

template <typename Hyper>
void OptimizerWith<Hyper>::check_hyper_values(size_t group,
                                              const std::vector<double>& values) const {
  const Hyper h = with_values(group, values);
  check_(h);
  check_unit_clip(h.unit_clip);
  std::string now, then;
  for (const StateBuffer& b : layout_(hypers_[group])) now += " " + b.name;
  for (const StateBuffer& b : layout_(h)) then += " " + b.name;
  TG_CHECK(now == then, name(), ": param_groups.", group, " would change the state buffers from [",
           now, " ] to [", then, " ]; build the optimizer with the options it was saved with");
}

template <typename Hyper>
void OptimizerWith<Hyper>::set_hyper_values(size_t group, const std::vector<double>& values) {
  hypers_.at(group) = with_values(group, values);
}

template class OptimizerWith<AdamParams>;
template class OptimizerWith<SGDParams>;
template class OptimizerWith<AdagradParams>;
template class OptimizerWith<RMSpropParams>;

}  // namespace tg::optim
