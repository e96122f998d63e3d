// The autograd engine: recording nodes, and running them in reverse topological order.
#include "autograd.h"

#include <unordered_map>
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
bool grad_mode_enabled() { return grad_mode; }

namespace autograd {

std::vector<Tensor> Node::apply(const Tensor& grad_output) {
  TG_CHECK(fn_ != nullptr, "backward: ", name_,
           " was already run and its saved tensors freed; trying to backward through the "
           "graph a second time? Pass retain_graph=true to the first backward");
  return fn_(grad_output);
}

SavedTensor::SavedTensor(const Tensor& tensor)
    : tensor_(tensor.defined() ? tensor.detach() : Tensor()),
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
  auto node = std::make_shared<Node>(name, std::move(fn));
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

namespace {

void accumulate_into_leaf(const Tensor& leaf, const Tensor& grad) {
  TG_ASSERT(grad.shape() == leaf.shape(), "gradient of shape ", grad.shape(),
            " for a leaf of shape ", leaf.shape());
  const Tensor existing = leaf.grad();
  if (!existing.defined()) {
    // A fresh copy: the incoming gradient may alias the caller's grad_output or a
    // tensor another node still reads.
    leaf.set_grad(grad.to(leaf.dtype()).clone());
  } else {
    Tensor target = existing;
    add_(target, grad);
  }
}

void add_pending(std::unordered_map<Node*, Tensor>& pending, Node* node, const Tensor& grad) {
  auto found = pending.find(node);
  if (found == pending.end()) {
    pending.emplace(node, grad);
  } else {
    found->second = add(found->second, grad);
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  TG_CHECK(root.requires_grad(), "backward: the tensor (shape ", root.shape(),
           ") does not require grad and has no grad_fn");
  Tensor grad = grad_output;
  if (!grad.defined()) {
    TG_CHECK(root.numel() == 1,
             "backward: grad_output can be left out only for a one-element "
             "output, not shape ",
             root.shape());
    grad = ones(root.shape(), TensorOptions(root.dtype()).device(root.device()));
  }
  TG_CHECK(grad.shape() == root.shape() && grad.device() == root.device() &&
               grad.dtype() == root.dtype(),
           "backward: grad_output (", grad.dtype(), " ", grad.shape(), " on ", grad.device(),
           ") does not match the output (", root.dtype(), " ", root.shape(), " on ", root.device(),
           ")");
  NoGradGuard no_grad;
  if (root.is_leaf()) {
    accumulate_into_leaf(root, grad);
    return;
  }
  // Count, for every reachable node, how many edges point at it.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack{root.grad_fn().get()};
  dependencies[root.grad_fn().get()] = 0;
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& edge : node->next_edges()) {
      if (!edge.node) continue;
      if (dependencies.emplace(edge.node.get(), 0).second) stack.push_back(edge.node.get());
      ++dependencies[edge.node.get()];
    }
  }
  // Run each node once all its consumers have delivered their gradient.
  std::unordered_map<Node*, Tensor> pending{{root.grad_fn().get(), grad}};
  std::vector<Node*> ready{root.grad_fn().get()};
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    std::vector<Tensor> input_grads;
    auto found = pending.find(node);
    if (found != pending.end()) {
      input_grads = node->apply(found->second);
      pending.erase(found);
      if (!retain_graph) node->release();
      TG_ASSERT(input_grads.size() == node->next_edges().size(), node->name(), " returned ",
                input_grads.size(), " gradients for ", node->next_edges().size(), " inputs");
    }
    for (size_t i = 0; i < node->next_edges().size(); ++i) {
      const Edge& edge = node->next_edges()[i];
      const bool has_grad = i < input_grads.size() && input_grads[i].defined();
      if (edge.node) {
        if (has_grad) add_pending(pending, edge.node.get(), input_grads[i]);
        if (--dependencies[edge.node.get()] == 0) ready.push_back(edge.node.get());
      } else if (edge.leaf.defined() && has_grad) {
        accumulate_into_leaf(edge.leaf, input_grads[i]);
      }
    }
  }
}

}  // namespace autograd
}  // namespace tg
