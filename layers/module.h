// Module: the base of every layer. It registers parameters, buffers and child modules by
// name, and from that registry answers what PyTorch's nn.Module answers: the parameters
// with dotted names (`features.0.weight`), training mode, moving to a device or dtype,
// state dicts and a printed summary.
//
// Note [registered members]: a layer keeps its tensors as members (Linear::weight) and
// registers a pointer to each, so `to(device)` can replace the member and every reader
// of the layer sees the new tensor. A module is therefore neither copied nor moved; it
// lives behind a std::shared_ptr (Sequential holds its children that way).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/state_dict.h"
#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::layers {

using tg::NamedTensors;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // One input, one output: what the layers implement, Sequential chains and summary() runs.
  // The default hands the input to forward_many, for a module that implements only that.
  virtual Tensor forward(const Tensor& x);
  // Several inputs, one or more outputs (PyTorch's forward(*args)): a module of two or more
  // inputs (an encoder taking tokens and a mask; a recurrent cell taking x and a state)
  // implements this one. The default passes exactly one input to forward(x). A module that
  // implements neither is an error at the call, naming it.
  virtual std::vector<Tensor> forward_many(const std::vector<Tensor>& inputs);
  // forward(x) with this module's hooks around it; call children this way in a forward so
  // that summary() sees their outputs and their hooks run.
  Tensor operator()(const Tensor& x);
  // forward_many: `model({tokens, mask})` reads as PyTorch's model(tokens, mask). The module
  // hooks below run on single-tensor calls only.
  std::vector<Tensor> operator()(const std::vector<Tensor>& inputs);
  // Whether operator()(x) would run forward(x) alone: no hook registered (and not removed)
  // and no summary() being recorded. A container may then fuse this module with its
  // neighbour (Note [fused neighbours], layers/sequential.h).
  bool plain_call() const;

  // Hooks (PyTorch's nn.Module hooks), run by operator() in registration order. Each may
  // return a tensor to replace what it was given, or an undefined one to keep it:
  // - a forward pre-hook sees the input before forward (and may replace it);
  // - a forward hook sees input and output after forward (and may replace the output);
  // - a full backward hook sees, during backward, the gradient with respect to the input
  //   (undefined when the input needs none) and to the output, and may replace the
  //   former. It is recorded only when the call is made with grad mode on; the module
  //   must outlive the backward.
  using ForwardPreHook = std::function<Tensor(Module&, const Tensor& input)>;
  using ForwardHook = std::function<Tensor(Module&, const Tensor& input, const Tensor& output)>;
  using BackwardHook =
      std::function<Tensor(Module&, const Tensor& grad_input, const Tensor& grad_output)>;
  HookHandle register_forward_pre_hook(ForwardPreHook hook);
  HookHandle register_forward_hook(ForwardHook hook);
  HookHandle register_full_backward_hook(BackwardHook hook);

  // "Linear", "Conv2d", ...; extra_repr() adds the arguments: "in=784, out=512".
  const std::string& type_name() const { return type_name_; }
  virtual std::string extra_repr() const { return ""; }

  // Depth first, in registration order, children after the module's own tensors.
  std::vector<Tensor> parameters() const;
  NamedTensors named_parameters() const;
  std::vector<Tensor> buffers() const;
  NamedTensors named_buffers() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  int64_t parameter_count() const;  // elements over all parameters

  // Training mode (dropout active, batch statistics) for this module and every child.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves (or converts) every parameter and buffer in place (the same tensors, re-pointed
  // to new storage, their gradients converted along); parameters stay leaves requiring grad
  // as before. Call it before building an optimizer: one built earlier refuses to step,
  // naming the parameter, since its flat buffers no longer hold the model's tensors.
  Module& to(const Device& device);
  Module& to(DType dtype);

  // Zeroes every parameter's gradient in place (those that have one), so gradients that
  // are views of an optimizer's flat buffer stay views of it.
  void zero_grad();

  // Parameters then buffers, each under its dotted name, sharing storage with the module.
  NamedTensors state_dict() const;
  // Copies values in (converted to each tensor's dtype and device). Strict: every key of
  // the module must be given and no other; otherwise, and on any shape difference, throws
  // naming every missing key, unexpected key and shape difference, and changes nothing.
  void load_state_dict(const NamedTensors& state, bool strict = true);

  // One line per layer with its output shape for an input of `input_shape` (run once in
  // eval mode without gradients), its own parameter count, and the total. Every registered
  // child appears, indented under its parent, with the shape of its last output in that run
  // (when its parent's forward called it through operator()).
  std::string summary(const Shape& input_shape);

 protected:
  // Registers a member; the name must be new in this module and contain no '.'.
  void register_parameter(const std::string& name, Tensor* member);
  void register_buffer(const std::string& name, Tensor* member);
  void register_module(const std::string& name, std::shared_ptr<Module> child);

  // Called by summary() for this module's rows: runs forward(x), adds this module's row,
  // then its children's (describe). Containers (Sequential, a friend) run their children's
  // instead, so each row follows from the one before.
  friend class Sequential;
  virtual Tensor summarize(const Tensor& x, const std::string& prefix, int depth,
                           std::vector<std::string>& rows);
  // This module's row, with the output shape recorded in summary()'s run, and its children's.
  void describe(const std::string& prefix, int depth, std::vector<std::string>& rows) const;

 private:
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;
  void add_row(const std::string& prefix, int depth, const std::string& shape,
               std::vector<std::string>& rows) const;
  void describe_children(const std::string& prefix, int depth,
                         std::vector<std::string>& rows) const;
  void check_new_name(const std::string& name) const;
  template <typename Convert>
  void convert_all(Convert convert);

  std::string type_name_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor*>> parameters_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<std::shared_ptr<ForwardPreHook>> forward_pre_hooks_;
  std::vector<std::shared_ptr<ForwardHook>> forward_hooks_;
  std::vector<std::shared_ptr<BackwardHook>> backward_hooks_;
  bool in_default_forward_ = false;  // the defaults call each other once, not forever
};

}  // namespace tg::layers

TG_API_END
