// Autograd's recording side: grad mode, nodes and saved tensors, record(), and tensor hooks.
// Running the graph (backward, autograd::grad) is core/autograd_engine.cpp.
#include "autograd.h"

#include <vector>

#include "factory.h"
#include "ops.h"
#include "tensor_impl.h"

namespace tg {

namespace {
thread_local bool grad_mode = true;
}

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }
EnableGradGuard::EnableGradGuard() : previous_(grad_mode) { grad_mode = true; }
EnableGradGuard::~EnableGradGuard() { grad_mode = previous_; }
bool grad_mode_enabled() { return grad_mode; }

namespace autograd {

std::vector<Tensor> Node::apply(const Tensor& grad_output, GradSinks& sinks) {
  TG_CHECK(fn_ != nullptr || into_fn_ != nullptr, "backward: ", name_,
           " was already run and its saved tensors freed; trying to backward through the "
           "graph a second time? Pass retain_graph=true to the first backward");
  return into_fn_ ? into_fn_(grad_output, sinks) : fn_(grad_output);
}

std::vector<Tensor> Node::apply(const Tensor& grad_output) {
  GradSinks none;
  return apply(grad_output, none);
}

SavedTensor::SavedTensor(const Tensor& tensor)
    : tensor_(!tensor.defined()        ? Tensor()
              : tensor.requires_grad() ? tensor
                                       : tensor.detach()),
      version_(tensor.defined() ? tensor.version() : 0) {}

const Tensor& SavedTensor::get(const char* node) const {
  TG_CHECK(!tensor_.defined() || tensor_.version() == version_, "backward: a tensor of shape ",
           tensor_.shape(), " saved by ", node,
           " was modified by an in-place operation after it was saved (version ", tensor_.version(),
           ", saved at ", version_, ")");
  return tensor_;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

Tensor record(const char* name, Tensor output, const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!any_requires_grad(inputs)) return output;
  return record_node(std::make_shared<Node>(name, std::move(fn)), std::move(output), inputs);
}

Tensor record_node(std::shared_ptr<Node> node, Tensor output, const std::vector<Tensor>& inputs) {
  node->edges_.reserve(inputs.size());
  for (const Tensor& input : inputs) {
    Edge edge;
    if (input.defined() && input.requires_grad()) {
      if (input.grad_fn()) {
        edge.node = input.grad_fn();
      } else {
        edge.leaf = input;
      }
    }
    node->edges_.push_back(std::move(edge));
  }
  output.impl_->requires_grad = true;
  output.impl_->grad_fn = std::move(node);
  return output;
}

Tensor record_composed(const char* name, Tensor output, const std::vector<Tensor>& inputs,
                       BackwardFn fn) {
  Tensor out = record(name, std::move(output), inputs, std::move(fn));
  if (out.grad_fn()) out.grad_fn()->set_composed();
  return out;
}

Tensor record_composed_into(const char* name, Tensor output, const std::vector<Tensor>& inputs,
                            BackwardIntoFn fn) {
  if (!any_requires_grad(inputs)) return output;
  auto node = std::make_shared<Node>(name, std::move(fn));
  node->set_composed();
  return record_node(std::move(node), std::move(output), inputs);
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  TG_ASSERT(lead >= 0, "sum_to: cannot reduce ", grad.shape(), " to ", shape);
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < grad.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && grad.size(d) != 1)) dims.push_back(d);
  }
  return sum(grad, dims, /*keepdim=*/true).reshape(shape);
}

}  // namespace autograd

HookHandle Tensor::register_hook(GradHook hook) const {
  const Impl& t = impl("register_hook");
  TG_CHECK(t.requires_grad, "register_hook: the tensor (shape ", t.shape,
           ") does not require grad, so no gradient would reach the hook");
  TG_CHECK(hook != nullptr, "register_hook: the hook is empty");
  auto shared = std::make_shared<GradHook>(std::move(hook));
  if (t.grad_fn) {
    t.grad_fn->add_hook(shared);
  } else {
    impl_->hooks.push_back(shared);
  }
  return HookHandle([weak = std::weak_ptr<GradHook>(shared)] {
    if (auto hook = weak.lock()) *hook = nullptr;
  });
}

HookHandle Tensor::register_post_accumulate_grad_hook(PostAccumulateGradHook hook) const {
  const Impl& t = impl("register_post_accumulate_grad_hook");
  TG_CHECK(t.requires_grad && !t.grad_fn, "register_post_accumulate_grad_hook: the tensor (shape ",
           t.shape, ") is not a leaf that requires grad, so nothing accumulates into its .grad");
  TG_CHECK(hook != nullptr, "register_post_accumulate_grad_hook: the hook is empty");
  auto shared = std::make_shared<PostAccumulateGradHook>(std::move(hook));
  impl_->post_accumulate_hooks.push_back(shared);
  return HookHandle([weak = std::weak_ptr<PostAccumulateGradHook>(shared)] {
    if (auto hook = weak.lock()) *hook = nullptr;
  });
}

void Tensor::retain_grad() const {
  const Impl& t = impl("retain_grad");
  TG_CHECK(t.requires_grad, "retain_grad: the tensor (shape ", t.shape,
           ") does not require grad, so it has no gradient to keep");
  if (!t.grad_fn || t.retains_grad) return;
  impl_->retains_grad = true;
  // A weak reference: the node must not keep the tensor it made alive (a cycle).
  std::weak_ptr<Impl> weak = impl_;
  t.grad_fn->set_retain([weak](const Tensor& grad) {
    auto self = weak.lock();
    if (!self) return;
    if (!self->grad.defined()) {
      self->grad = grad.clone();
    } else {
      add_(self->grad, grad);
    }
  });
}

bool Tensor::retains_grad() const { return impl("retains_grad").retains_grad; }

}  // namespace tg
