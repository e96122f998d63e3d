// Autograd: a dynamic tape.
//
// Each differentiable op that sees an input requiring grad (with grad mode on) records a
// Node: a backward function holding only what it needs, and one edge per input (to the
// input's own node, or to the leaf whose .grad it feeds). Tensor::backward() runs the
// nodes reachable from the root in reverse topological order and accumulates into each
// leaf's .grad in place (a defined .grad, e.g. a view into an optimizer's flat gradient
// buffer, is added to, never replaced).
//
// Saved tensors remember the storage version at save time; a backward that finds it
// changed (an in-place write after the forward) throws. Without retain_graph a node
// frees what it saved once used, and a second backward through it throws.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "../foundation/config.h"
#include "tensor.h"

TG_API_BEGIN

namespace tg {

// Disables graph recording in its scope (restores the previous mode on exit), per thread.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Enables graph recording in its scope, even inside a NoGradGuard (torch.enable_grad):
// for code that must differentiate whatever its caller's mode, such as a loss that takes
// autograd::grad of its input.
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

bool grad_mode_enabled();

namespace autograd {

// Gradients with respect to each input, in order; undefined where none flows.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

// Note [gradient sinks]
// A leaf's .grad that a backward may add its gradient into directly. Where Tensor::backward
// (not autograd::grad) brings an input's gradient to a leaf that has a .grad already (such as
// a view into an optimizer's flat gradient buffer), that the graph uses only there, and that
// has no gradient hooks (which could replace the gradient), the engine offers the leaf's
// .grad as that input's sink. A node that takes it adds its gradient into it (a product with
// beta = 1: Linear's dW = gᵀ·x) and marks it taken, instead of returning a fresh tensor that
// the engine then adds: no full-size temporary and no separate pass over the gradient, and
// the gradient is still in cache for the optimizer. The engine skips the accumulation for a
// taken sink and runs the leaf's post-accumulate hooks as before. A sink's values are the
// accumulation's: .grad + the gradient, computed in whatever order the node's kernel adds.
struct GradSinks {
  std::vector<Tensor> into;  // per input: the leaf's .grad to add into, or undefined
  std::vector<bool> taken;   // per input: set by the backward for each sink it added into
};
// A backward that may use sinks; for a taken sink it returns an undefined gradient.
using BackwardIntoFn =
    std::function<std::vector<Tensor>(const Tensor& grad_output, GradSinks& sinks)>;

struct Edge {
  std::shared_ptr<class Node> node;  // the input's producer, or
  Tensor leaf;                       // the leaf input whose .grad receives the gradient
};

class Node {
 public:
  Node(const char* name, BackwardFn fn) : name_(name), fn_(std::move(fn)) {}
  Node(const char* name, BackwardIntoFn fn) : name_(name), into_fn_(std::move(fn)) {}
  const char* name() const { return name_; }
  const std::vector<Edge>& next_edges() const { return edges_; }
  // Runs the backward function; throws when it was already released. `sinks` (one entry per
  // input, or empty) is only looked at by a node that takes sinks.
  std::vector<Tensor> apply(const Tensor& grad_output, GradSinks& sinks);
  std::vector<Tensor> apply(const Tensor& grad_output);
  // Whether the backward can add into sinks (Note [gradient sinks]).
  bool takes_sinks() const { return into_fn_ != nullptr; }
  // Frees the saved tensors (they live in the function's captures).
  void release() {
    fn_ = nullptr;
    into_fn_ = nullptr;
  }
  // Gradient hooks of the tensor this node made (Tensor::register_hook on a non-leaf), and
  // where a retained gradient goes (Tensor::retain_grad).
  void add_hook(std::shared_ptr<GradHook> hook) { hooks_.push_back(std::move(hook)); }
  const std::vector<std::shared_ptr<GradHook>>& hooks() const { return hooks_; }
  void set_retain(std::function<void(const Tensor&)> retain) { retain_ = std::move(retain); }
  const std::function<void(const Tensor&)>& retain() const { return retain_; }
  // Whether the backward is itself composed of recorded ops (Note [double backward]).
  bool composed() const { return composed_; }
  void set_composed() { composed_ = true; }

 private:
  friend Tensor record_node(std::shared_ptr<Node>, Tensor, const std::vector<Tensor>&);
  const char* name_;
  BackwardFn fn_;           // one of the two
  BackwardIntoFn into_fn_;  // (Note [gradient sinks])
  std::vector<Edge> edges_;
  std::vector<std::shared_ptr<GradHook>> hooks_;
  std::function<void(const Tensor&)> retain_;
  bool composed_ = false;
};

// A tensor saved for backward, with the storage version it had. A tensor that requires grad
// when saved (an op's input) is kept as it is, so a backward composed of ops can carry the
// graph through it (Note [double backward]); any other (an op's output, saved before the
// op records its node) as a detached alias, so a saved output does not keep its own node
// alive in a cycle.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& tensor);
  // The tensor, after checking that nothing wrote to it in place since it was saved.
  const Tensor& get(const char* node) const;

 private:
  Tensor tensor_;
  int64_t version_ = 0;
};

// When grad mode is on and an input requires grad, makes `output` a non-leaf that
// requires grad, produced by a node running `fn`. Returns output either way.
Tensor record(const char* name, Tensor output, const std::vector<Tensor>& inputs, BackwardFn fn);

// Note [double backward]: autograd::grad with create_graph runs the backward functions with
// grad mode on, so the ops they call record a graph of the gradient itself, which can be
// differentiated again (gradient penalties, Hessian-vector products). That works through a
// node whose backward is composed of recorded ops and reads its inputs as saved (attached);
// such a node is recorded with record_composed. A node whose backward runs a kernel of its
// own (conv2d, softmax, batch_norm, pooling, losses, ...) is refused by name when a
// create_graph run reaches it. Composed: add, sub, mul, div, maximum, minimum, where, the
// unary ops neg, exp, log, sqrt, abs, sign, pow, clamp, relu, leaky_relu, elu, selu,
// sigmoid, tanh, softplus (their derivatives composed of ops when grad mode is on, the
// fused kernel otherwise), matmul, linear, sum (and so mean and var), cat, the views
// (view/reshape, permute/transpose, unsqueeze, squeeze, expand), clone and to().
Tensor record_composed(const char* name, Tensor output, const std::vector<Tensor>& inputs,
                       BackwardFn fn);
// record_composed for a backward that may add into its inputs' sinks (Note [gradient
// sinks]); under autograd::grad it is offered none and returns every gradient.
Tensor record_composed_into(const char* name, Tensor output, const std::vector<Tensor>& inputs,
                            BackwardIntoFn fn);
// record / record_composed's common part: `node`'s edges from `inputs`, `output` its result.
Tensor record_node(std::shared_ptr<Node> node, Tensor output, const std::vector<Tensor>& inputs);

// Whether record() would record for these inputs.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Sums `grad` over the dimensions broadcasting expanded, back to `shape`.
Tensor sum_to(const Tensor& grad, const Shape& shape);

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph);

// The gradients of `outputs` with respect to each of `inputs` (torch.autograd.grad): sum
// over k of d outputs[k] / d input, each output weighted by grad_outputs[k] (which may be
// left out for one-element outputs). Leaves' .grad is left untouched and only the part of
// the graph that leads to an input runs; hooks on the inputs and on the tensors between run
// as in backward. An input that the outputs do not depend on is an error, or an undefined
// tensor with allow_unused. Without retain_graph (or create_graph) the graph is freed.
// With create_graph the gradients are recorded as a graph of their own, to differentiate
// again (Note [double backward]); a node on the way whose backward is not composed of
// recorded ops is an error that names it.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);

}  // namespace autograd
}  // namespace tg

TG_API_END
