// Module's registry: names, traversal, device moves, state dicts and the summary.
#include "module.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "../core/autograd.h"
#include "../core/factory.h"
#include "../core/state_dict.h"

namespace tg::layers {

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

}  // namespace

void Module::check_new_name(const std::string& name) const {
  TG_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name_,
           ": a registered name must be non-empty and contain no '.', got '", name, "'");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  TG_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), type_name_, ": the name '",
           name, "' is registered twice");
}

void Module::register_parameter(const std::string& name, Tensor* member) {
  check_new_name(name);
  TG_CHECK(member != nullptr && member->defined(), type_name_, ": register_parameter('", name,
           "') was given an undefined tensor; create the tensor before registering it");
  parameters_.emplace_back(name, member);
}

void Module::register_buffer(const std::string& name, Tensor* member) {
  check_new_name(name);
  TG_CHECK(member != nullptr && member->defined(), type_name_, ": register_buffer('", name,
           "') was given an undefined tensor; create the tensor before registering it");
  buffers_.emplace_back(name, member);
}

void Module::register_module(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name);
  TG_CHECK(child != nullptr, type_name_, ": child '", name, "' is null");
  children_.emplace_back(name, std::move(child));
}

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (const auto& [name, member] : params ? parameters_ : buffers_)
    out.emplace_back(join(prefix, name), *member);
  for (const auto& [name, child] : children_) child->collect(join(prefix, name), params, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers()) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

int64_t Module::parameter_count() const {
  int64_t total = 0;
  for (const Tensor& p : parameters()) total += p.numel();
  return total;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

template <typename Convert>
void Module::convert_all(Convert convert) {
  NoGradGuard no_grad;
  // Every new tensor is made before any member changes, so a failure changes nothing.
  // A tensor already of the wanted device and dtype stays as it is. A converted one is
  // re-pointed in place (Tensor::set_data_, PyTorch's `param.data = ...`): every handle to
  // it sees the change, and an optimizer built on it notices at its next step that the
  // parameter left its flat buffer (Note [parameters leave the flat buffer],
  // optim/optimizer.cpp) instead of updating the old tensor in silence.
  std::vector<std::pair<Tensor*, Tensor>> replaced;
  for (auto* list : {&parameters_, &buffers_}) {
    for (auto& [name, member] : *list) {
      const Tensor converted = convert(*member);
      if (!converted.is_alias_of(*member) || converted.dtype() != member->dtype())
        replaced.emplace_back(member, converted.detach());
    }
  }
  for (auto& [member, value] : replaced) member->set_data_(value);
  for (auto& [name, child] : children_) child->convert_all(convert);
}

Module& Module::to(const Device& device) {
  convert_all([&](const Tensor& t) { return t.device() == device ? t : t.to(device); });
  return *this;
}

Module& Module::to(DType dtype) {
  TG_CHECK(is_floating(dtype), type_name_, ".to: parameters need a floating-point dtype, got ",
           dtype_name(dtype));
  // Integer buffers (a step counter) keep their dtype, as in PyTorch.
  convert_all([&](const Tensor& t) { return is_floating(t.dtype()) ? t.to(dtype) : t; });
  return *this;
}

void Module::zero_grad() {
  NoGradGuard no_grad;
  // In place, so a gradient that is a view of an optimizer's flat buffer stays one and the
  // next backward accumulates where the optimizer reads (PyTorch's set_to_none=False).
  for (Tensor& p : parameters()) {
    Tensor grad = p.grad();
    if (grad.defined()) grad.fill_(0.0);
  }
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  for (auto& entry : named_buffers()) out.push_back(entry);
  return out;
}

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  const auto pairs = match_state(type_name_, state_dict(), state, strict);
  NoGradGuard no_grad;
  for (const auto& [target, value] : pairs) Tensor(target).copy_(value);
}

namespace {

// The output shape of every module called through operator() during summary()'s run.
thread_local std::map<const Module*, Shape>* summary_shapes = nullptr;

}  // namespace

namespace {

// Registers `hook` in `hooks`; the handle empties it (operator() skips empty ones).
template <typename Hook>
HookHandle add_hook(std::vector<std::shared_ptr<Hook>>& hooks, Hook hook) {
  TG_CHECK(hook != nullptr, "Module: the hook is empty");
  auto shared = std::make_shared<Hook>(std::move(hook));
  hooks.push_back(shared);
  return HookHandle([weak = std::weak_ptr<Hook>(shared)] {
    if (auto found = weak.lock()) *found = nullptr;
  });
}

// A new handle on x's data whose backward is `fn`: how a module's backward hooks see the
// gradients at its input and output (PyTorch's BackwardHookFunction).
Tensor hook_identity(const Tensor& x, std::function<Tensor(const Tensor&)> fn) {
  Tensor alias(x.storage(), x.shape(), x.strides(), x.offset(), x.dtype());
  return autograd::record(
      "BackwardHookFunctionBackward", alias, {x},
      [fn = std::move(fn)](const Tensor& g) { return std::vector<Tensor>{fn(g)}; });
}

// Sets a flag for its scope: the default forwards' guard against calling each other forever.
class FlagScope {
 public:
  explicit FlagScope(bool& flag) : flag_(flag) { flag_ = true; }
  ~FlagScope() { flag_ = false; }
  FlagScope(const FlagScope&) = delete;
  FlagScope& operator=(const FlagScope&) = delete;

 private:
  bool& flag_;
};

}  // namespace

Tensor Module::forward(const Tensor& x) {
  TG_CHECK(!in_default_forward_, type_name_,
           " implements neither forward(x) nor forward_many(inputs)");
  FlagScope scope(in_default_forward_);
  const std::vector<Tensor> out = forward_many(std::vector<Tensor>{x});
  TG_CHECK(out.size() == 1, type_name_, ": forward(x) asked for one output, forward_many gave ",
           out.size(), " (call forward_many)");
  return out[0];
}

std::vector<Tensor> Module::forward_many(const std::vector<Tensor>& inputs) {
  TG_CHECK(!in_default_forward_, type_name_,
           " implements neither forward(x) nor forward_many(inputs)");
  TG_CHECK(inputs.size() == 1, type_name_, " takes one input (it implements forward(x)), got ",
           inputs.size());
  FlagScope scope(in_default_forward_);
  return {forward(inputs[0])};
}

std::vector<Tensor> Module::operator()(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out = forward_many(inputs);
  if (summary_shapes != nullptr && !out.empty()) (*summary_shapes)[this] = out[0].shape();
  return out;
}

HookHandle Module::register_forward_pre_hook(ForwardPreHook hook) {
  return add_hook(forward_pre_hooks_, std::move(hook));
}
HookHandle Module::register_forward_hook(ForwardHook hook) {
  return add_hook(forward_hooks_, std::move(hook));
}
HookHandle Module::register_full_backward_hook(BackwardHook hook) {
  return add_hook(backward_hooks_, std::move(hook));
}

bool Module::plain_call() const {
  const auto active = [](const auto& hooks) {
    return std::any_of(hooks.begin(), hooks.end(), [](const auto& h) { return *h; });
  };
  return summary_shapes == nullptr && !active(forward_pre_hooks_) && !active(forward_hooks_) &&
         !active(backward_hooks_);
}

Tensor Module::operator()(const Tensor& input) {
  Tensor x = input;
  for (const auto& hook : forward_pre_hooks_) {
    if (!*hook) continue;
    const Tensor replaced = (*hook)(*this, x);
    if (replaced.defined()) x = replaced;
  }
  // Backward hooks: the output's gradient is kept when it arrives, then handed with the
  // input's gradient to the hooks (at once when the input needs none).
  const bool hook_backward =
      grad_mode_enabled() &&
      std::any_of(backward_hooks_.begin(), backward_hooks_.end(), [](const auto& h) { return *h; });
  auto grad_output = std::make_shared<Tensor>();
  const bool input_needs_grad = x.defined() && x.requires_grad();
  auto run_backward_hooks = [this](Tensor grad_input, const Tensor& grad_out) {
    for (const auto& hook : backward_hooks_) {
      if (!*hook) continue;
      const Tensor replaced = (*hook)(*this, grad_input, grad_out);
      if (!replaced.defined()) continue;
      TG_CHECK(
          grad_input.defined() && replaced.shape() == grad_input.shape() &&
              replaced.dtype() == grad_input.dtype() && replaced.device() == grad_input.device(),
          type_name_, ": a full backward hook returned a grad_input of ", replaced.dtype(), " ",
          replaced.shape(), " for ", grad_input.defined() ? dtype_name(grad_input.dtype()) : "no",
          " grad_input ", grad_input.defined() ? grad_input.shape() : Shape{});
      grad_input = replaced;
    }
    return grad_input;
  };
  if (hook_backward && input_needs_grad) {
    x = hook_identity(x, [grad_output, run_backward_hooks](const Tensor& g) {
      return run_backward_hooks(g, *grad_output);
    });
  }
  Tensor y = forward(x);
  for (const auto& hook : forward_hooks_) {
    if (!*hook) continue;
    const Tensor replaced = (*hook)(*this, x, y);
    if (replaced.defined()) y = replaced;
  }
  if (hook_backward && y.requires_grad()) {
    y = hook_identity(y, [grad_output, input_needs_grad, run_backward_hooks](const Tensor& g) {
      *grad_output = g;
      if (!input_needs_grad) run_backward_hooks(Tensor(), g);
      return g;
    });
  }
  if (summary_shapes != nullptr) (*summary_shapes)[this] = y.shape();
  return y;
}

void Module::add_row(const std::string& prefix, int depth, const std::string& shape,
                     std::vector<std::string>& rows) const {
  int64_t own = 0;
  for (const auto& [name, member] : parameters_) own += member->numel();
  const std::string label = std::string(2 * depth, ' ') + (prefix.empty() ? "" : prefix + ": ") +
                            type_name_ + "(" + extra_repr() + ")";
  char row[256];
  std::snprintf(row, sizeof row, "%-44s %-20s %12lld", label.c_str(), shape.c_str(),
                static_cast<long long>(own));
  rows.emplace_back(row);
}

void Module::describe_children(const std::string& prefix, int depth,
                               std::vector<std::string>& rows) const {
  for (const auto& [name, child] : children_) {
    child->describe(prefix.empty() ? name : prefix + "." + name, depth, rows);
  }
}

void Module::describe(const std::string& prefix, int depth, std::vector<std::string>& rows) const {
  std::string shape = "(not called)";
  if (summary_shapes != nullptr) {
    const auto found = summary_shapes->find(this);
    if (found != summary_shapes->end()) shape = to_string(found->second);
  }
  add_row(prefix, depth, shape, rows);
  describe_children(prefix, depth + 1, rows);
}

Tensor Module::summarize(const Tensor& x, const std::string& prefix, int depth,
                         std::vector<std::string>& rows) {
  Tensor y = forward(x);
  add_row(prefix, depth, to_string(y.shape()), rows);
  describe_children(prefix, depth + 1, rows);
  return y;
}

std::string Module::summary(const Shape& input_shape) {
  const std::vector<Tensor> params = parameters();
  TensorOptions options;
  if (!params.empty())
    options = TensorOptions(params.front().dtype()).device(params.front().device());
  // Eval mode for the trial run (no running-statistics update, no dropout draw), restored
  // afterwards even when the input does not fit the model.
  struct Restore {
    Module& module;
    bool training;
    ~Restore() { module.train(training); }
  } restore{*this, training_};
  eval();
  std::vector<std::string> rows;
  char header[256];
  std::snprintf(header, sizeof header, "%-44s %-20s %12s", "layer", "output shape", "parameters");
  rows.emplace_back(header);
  {
    NoGradGuard no_grad;
    char row[256];
    std::snprintf(row, sizeof row, "%-44s %-20s %12s", "input", to_string(input_shape).c_str(), "");
    rows.emplace_back(row);
    std::map<const Module*, Shape> shapes;
    struct Record {
      explicit Record(std::map<const Module*, Shape>* shapes) { summary_shapes = shapes; }
      ~Record() { summary_shapes = nullptr; }
    } record(&shapes);
    summarize(zeros(input_shape, options), "", 0, rows);
  }
  std::string out;
  for (const std::string& r : rows) out += r + "\n";
  char total[128];
  std::snprintf(total, sizeof total, "total parameters: %lld\n",
                static_cast<long long>(parameter_count()));
  return out + total;
}

}  // namespace tg::layers
