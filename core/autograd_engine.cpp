// The autograd engine: running the recorded graph in reverse topological order, for
// Tensor::backward (gradients accumulated into the leaves) and autograd::grad (gradients of
// chosen inputs, first or higher order: Note [double backward] in autograd.h).
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd.h"
#include "factory.h"
#include "ops.h"
#include "tensor_impl.h"
#include "threads.h"

namespace tg {
namespace autograd {

// Reaches into a tensor's state for the engine: a leaf's identity and hooks.
struct TensorAccess {
  static const void* key(const Tensor& t) { return t.impl_.get(); }
  static const std::vector<std::shared_ptr<GradHook>>& hooks(const Tensor& t) {
    return t.impl_->hooks;
  }
  // Copied: a hook may register or remove hooks.
  static std::vector<std::shared_ptr<PostAccumulateGradHook>> post_hooks(const Tensor& t) {
    return t.impl_->post_accumulate_hooks;
  }
};

namespace {

// Runs the hooks in order; each may replace the gradient with one of the same kind.
Tensor run_hooks(const std::vector<std::shared_ptr<GradHook>>& hooks, Tensor grad) {
  for (const auto& hook : hooks) {
    if (!*hook) continue;  // removed
    Tensor replaced = (*hook)(grad);
    if (!replaced.defined()) continue;
    TG_CHECK(replaced.shape() == grad.shape() && replaced.dtype() == grad.dtype() &&
                 replaced.device() == grad.device(),
             "register_hook: a hook returned a gradient of ", replaced.dtype(), " ",
             replaced.shape(), " on ", replaced.device(), " for one of ", grad.dtype(), " ",
             grad.shape(), " on ", grad.device());
    grad = replaced;
  }
  return grad;
}

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

void add_into(Tensor& sum, const Tensor& grad) { sum = sum.defined() ? add(sum, grad) : grad; }

// One run of the graph below some roots. Without targets it is a backward: gradients
// accumulate into the leaves' .grad. With targets (autograd::grad) it only collects the
// gradient reaching each target, and runs only the nodes that lead to one.
class GraphTask {
 public:
  GraphTask(bool retain_graph, const std::vector<Tensor>* targets, bool create_graph = false)
      : retain_graph_(retain_graph || create_graph),
        create_graph_(create_graph),
        targets_(targets),
        captured_(targets != nullptr ? targets->size() : 0) {}

  void run(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads) {
    for (const Tensor& root : roots) {
      if (root.grad_fn()) count_dependencies(root.grad_fn().get());
    }
    if (targets_ != nullptr) mark_needed(roots);
    std::vector<Node*> ready;
    for (size_t i = 0; i < roots.size(); ++i) {
      if (roots[i].is_leaf()) {
        ++leaf_dependencies_[TensorAccess::key(roots[i])];
        deliver_to_leaf(roots[i], grads[i]);
      } else {
        add_into(pending_[roots[i].grad_fn().get()], grads[i]);
      }
    }
    for (const Tensor& root : roots) {
      Node* node = root.grad_fn().get();
      if (node != nullptr && dependencies_[node] == 0 && !queued_.count(node)) {
        queued_.insert(node);
        ready.push_back(node);
      }
    }
    while (!ready.empty()) {
      Node* node = ready.back();
      ready.pop_back();
      run_node(node, ready);
    }
  }

  // The gradient that reached each target (undefined where none did).
  std::vector<Tensor> take_captured() { return std::move(captured_); }

 private:
  void count_dependencies(Node* root) {
    if (!dependencies_.emplace(root, 0).second) return;
    std::vector<Node*> stack{root};
    while (!stack.empty()) {
      Node* node = stack.back();
      stack.pop_back();
      for (const Edge& edge : node->next_edges()) {
        if (edge.node) {
          if (dependencies_.emplace(edge.node.get(), 0).second) stack.push_back(edge.node.get());
          ++dependencies_[edge.node.get()];
        } else if (edge.leaf.defined()) {
          ++leaf_dependencies_[TensorAccess::key(edge.leaf)];
        }
      }
    }
  }

  int target_index_of_node(const Node* node) const {
    for (size_t i = 0; i < targets_->size(); ++i) {
      if ((*targets_)[i].grad_fn().get() == node) return static_cast<int>(i);
    }
    return -1;
  }
  bool is_target_leaf(const Tensor& leaf) const {
    for (const Tensor& t : *targets_) {
      if (t.is_same(leaf)) return true;
    }
    return false;
  }

  // A node is needed when a target lies at or below it: decided in one pass over the nodes
  // in post-order (every node after all the nodes below it).
  void mark_needed(const std::vector<Tensor>& roots) {
    std::vector<Node*> post;
    std::unordered_set<Node*> seen;
    std::vector<std::pair<Node*, size_t>> stack;  // a node and its next edge to visit
    for (const Tensor& root : roots) {
      Node* node = root.grad_fn().get();
      if (node != nullptr && seen.insert(node).second) stack.emplace_back(node, 0);
      while (!stack.empty()) {
        Node* top = stack.back().first;
        const size_t next = stack.back().second++;
        if (next == top->next_edges().size()) {
          post.push_back(top);
          stack.pop_back();
          continue;
        }
        Node* child = top->next_edges()[next].node.get();
        if (child != nullptr && seen.insert(child).second) stack.emplace_back(child, 0);
      }
    }
    for (Node* node : post) {
      if (target_index_of_node(node) >= 0 || children_needed(node)) needed_.insert(node);
    }
  }

  bool children_needed(const Node* node) const {
    for (const Edge& edge : node->next_edges()) {
      if ((edge.node && needed_.count(edge.node.get())) ||
          (edge.leaf.defined() && is_target_leaf(edge.leaf))) {
        return true;
      }
    }
    return false;
  }

  void run_node(Node* node, std::vector<Node*>& ready) {
    std::vector<Tensor> input_grads;
    GradSinks sinks;
    auto found = pending_.find(node);
    // autograd::grad skips, hooks included, what leads to no target.
    const bool wanted = targets_ == nullptr || needed_.count(node) > 0;
    if (found != pending_.end() && wanted) {
      Tensor grad = run_hooks(node->hooks(), found->second);
      pending_.erase(found);
      if (targets_ == nullptr) {
        if (node->retain()) node->retain()(grad);
      } else {
        for (size_t i = 0; i < targets_->size(); ++i) {
          if ((*targets_)[i].grad_fn().get() == node) captured_[i] = grad;
        }
      }
      if (targets_ == nullptr || children_needed(node)) {
        TG_CHECK(!create_graph_ || node->composed(),
                 "autograd::grad(create_graph=true): the "
                 "backward of ",
                 node->name(),
                 " runs a kernel of its own, not ops that can be "
                 "recorded, so a gradient through it cannot be differentiated again (Note "
                 "[double backward] in core/autograd.h lists the ops that can)");
        sinks = offered_sinks(*node);
        input_grads = node->apply(grad, sinks);
        if (!retain_graph_) node->release();
        TG_ASSERT(input_grads.size() == node->next_edges().size(), node->name(), " returned ",
                  input_grads.size(), " gradients for ", node->next_edges().size(), " inputs");
      }
    }
    for (size_t i = 0; i < node->next_edges().size(); ++i) {
      const Edge& edge = node->next_edges()[i];
      const Tensor grad = i < input_grads.size() ? input_grads[i] : Tensor();
      if (edge.node) {
        if (grad.defined()) add_into(pending_[edge.node.get()], grad);
        if (--dependencies_[edge.node.get()] == 0 && queued_.insert(edge.node.get()).second) {
          ready.push_back(edge.node.get());
        }
      } else if (edge.leaf.defined()) {
        const bool sunk = i < sinks.taken.size() && sinks.taken[i];
        deliver_to_leaf(edge.leaf, grad, sunk);
      }
    }
  }

  // The sinks a backward (not autograd::grad) offers `node` (Note [gradient sinks]): for each
  // input that is a leaf with a .grad, reached only from here, and without gradient hooks.
  GradSinks offered_sinks(const Node& node) {
    GradSinks sinks;
    if (targets_ != nullptr || !node.takes_sinks()) return sinks;
    const std::vector<Edge>& edges = node.next_edges();
    sinks.into.resize(edges.size());
    sinks.taken.assign(edges.size(), false);
    for (size_t i = 0; i < edges.size(); ++i) {
      const Tensor& leaf = edges[i].leaf;
      if (!leaf.defined()) continue;
      const void* key = TensorAccess::key(leaf);
      if (leaf_dependencies_[key] != 1 || leaf_pending_.count(key) > 0 || has_hooks(leaf)) continue;
      sinks.into[i] = leaf.grad();
    }
    return sinks;
  }

  static bool has_hooks(const Tensor& leaf) {
    for (const auto& hook : TensorAccess::hooks(leaf)) {
      if (*hook) return true;
    }
    return false;
  }

  // Sums a leaf's gradient over its uses; the last one runs its hooks and hands it on. With
  // `sunk` the node has already added this use's gradient into the leaf's .grad (its only use).
  void deliver_to_leaf(const Tensor& leaf, const Tensor& grad, bool sunk = false) {
    const void* key = TensorAccess::key(leaf);
    if (sunk) {
      TG_ASSERT(leaf_dependencies_[key] == 1 && !grad.defined(),
                "a sink taken for a leaf used more than once, or a gradient returned with it");
      leaf_dependencies_.erase(key);
      run_post_hooks(leaf);
      return;
    }
    Tensor& sum = leaf_pending_[key];
    if (grad.defined()) add_into(sum, grad);
    if (--leaf_dependencies_[key] > 0) return;
    const Tensor total = sum;
    leaf_pending_.erase(key);
    if (!total.defined()) return;
    const Tensor hooked = run_hooks(TensorAccess::hooks(leaf), total);
    if (targets_ == nullptr) {
      accumulate_into_leaf(leaf, hooked);
      run_post_hooks(leaf);
      return;
    }
    for (size_t i = 0; i < targets_->size(); ++i) {
      if ((*targets_)[i].is_same(leaf)) captured_[i] = hooked;
    }
  }

  static void run_post_hooks(const Tensor& leaf) {
    for (const auto& hook : TensorAccess::post_hooks(leaf)) {
      if (*hook) (*hook)(leaf);
    }
  }

  bool retain_graph_, create_graph_;
  const std::vector<Tensor>* targets_;
  std::unordered_map<Node*, int> dependencies_;
  std::unordered_map<const void*, int> leaf_dependencies_;
  std::unordered_set<Node*> needed_, queued_;
  std::unordered_map<Node*, Tensor> pending_;
  std::unordered_map<const void*, Tensor> leaf_pending_;
  std::vector<Tensor> captured_;
};

// grad_output, or ones for a one-element output; checked against the output.
Tensor seed_gradient(const char* op, const Tensor& output, const Tensor& grad_output) {
  TG_CHECK(output.defined() && output.requires_grad(), op, ": the tensor (shape ",
           output.defined() ? output.shape() : Shape{},
           ") does not require grad and has no grad_fn");
  if (!grad_output.defined()) {
    TG_CHECK(output.numel() == 1, op,
             ": grad_output can be left out only for a one-element output, not shape ",
             output.shape());
    return ones(output.shape(), TensorOptions(output.dtype()).device(output.device()));
  }
  TG_CHECK(grad_output.shape() == output.shape() && grad_output.device() == output.device() &&
               grad_output.dtype() == output.dtype(),
           op, ": grad_output (", grad_output.dtype(), " ", grad_output.shape(), " on ",
           grad_output.device(), ") does not match the output (", output.dtype(), " ",
           output.shape(), " on ", output.device(), ")");
  return grad_output;
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  adapt_threads_to_load();  // Note [threads under load]: once per step, before its work
  const Tensor grad = seed_gradient("backward", root, grad_output);
  NoGradGuard no_grad;
  GraphTask(retain_graph, nullptr).run({root}, {grad});
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph, bool allow_unused) {
  TG_CHECK(!outputs.empty(), "autograd::grad: no outputs given");
  TG_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
           "autograd::grad: ", grad_outputs.size(), " grad_outputs for ", outputs.size(),
           " outputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    TG_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "autograd::grad: input ", i,
             " (shape ", inputs[i].defined() ? inputs[i].shape() : Shape{},
             ") does not require grad");
  }
  std::vector<Tensor> seeds;
  for (size_t k = 0; k < outputs.size(); ++k) {
    seeds.push_back(seed_gradient("autograd::grad", outputs[k],
                                  grad_outputs.empty() ? Tensor() : grad_outputs[k]));
  }
  std::vector<Tensor> result;
  if (create_graph) {
    EnableGradGuard record_gradients;
    GraphTask task(retain_graph, &inputs, /*create_graph=*/true);
    task.run(outputs, seeds);
    result = task.take_captured();
  } else {
    NoGradGuard no_grad;
    GraphTask task(retain_graph, &inputs);
    task.run(outputs, seeds);
    result = task.take_captured();
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    TG_CHECK(allow_unused || result[i].defined(), "autograd::grad: input ", i, " (shape ",
             inputs[i].shape(),
             ") is not used in the graph of the outputs; pass allow_unused=true to get an "
             "undefined tensor for it");
    // A fresh tensor, as backward gives a leaf: the gradient may alias a grad_output.
    if (result[i].defined()) result[i] = result[i].clone();
  }
  return result;
}

}  // namespace autograd
}  // namespace tg
