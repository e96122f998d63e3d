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

bool grad_mode_enabled();

namespace autograd {

// Gradients with respect to each input, in order; undefined where none flows.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Edge {
  std::shared_ptr<class Node> node;  // the input's producer, or
  Tensor leaf;                       // the leaf input whose .grad receives the gradient
};

class Node {
 public:
  Node(const char* name, BackwardFn fn) : name_(name), fn_(std::move(fn)) {}
  const char* name() const { return name_; }
  const std::vector<Edge>& next_edges() const { return edges_; }
  // Runs the backward function; throws when it was already released.
  std::vector<Tensor> apply(const Tensor& grad_output);
  // Frees the saved tensors (they live in the function's captures).
  void release() { fn_ = nullptr; }

 private:
  friend Tensor record(const char*, Tensor, const std::vector<Tensor>&, BackwardFn);
  const char* name_;
  BackwardFn fn_;
  std::vector<Edge> edges_;
};

// A tensor saved for backward: a detached alias (so a saved output does not keep its own
// node alive in a cycle) and the storage version it had.
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

// Whether record() would record for these inputs.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Sums `grad` over the dimensions broadcasting expanded, back to `shape`.
Tensor sum_to(const Tensor& grad, const Shape& shape);

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph);

}  // namespace autograd
}  // namespace tg

TG_API_END
