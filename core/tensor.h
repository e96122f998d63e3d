// Tensor: a cheap, shared handle to (storage, shape, strides, offset, dtype, device).
//
// Copying a Tensor copies the handle; views (view/reshape, transpose/permute, slice,
// squeeze/unsqueeze) share storage and change only the metadata. Data moves between
// devices only when asked (to(device), item(), printing), and those are the only places
// that wait for the GPU.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "../foundation/config.h"
#include "../foundation/dtype.h"
#include "../foundation/error.h"
#include "device.h"

TG_API_BEGIN

namespace tg {

using Shape = std::vector<int64_t>;
// (height, width) of a 2-D window, stride, padding or dilation.
using Size2 = std::array<int64_t, 2>;

class Storage;
class Tensor;
namespace autograd {
class Node;
struct TensorAccess;
Tensor record_node(std::shared_ptr<Node> node, Tensor output, const std::vector<Tensor>& inputs);
}  // namespace autograd

// A gradient hook (Tensor::register_hook): called with the gradient of the tensor it was
// registered on; it may return a replacement (same shape, dtype and device) or an undefined
// tensor to keep the gradient as it is.
using GradHook = std::function<Tensor(const Tensor& grad)>;
// A leaf's hook after a backward has accumulated into its .grad
// (Tensor::register_post_accumulate_grad_hook): called with the leaf.
using PostAccumulateGradHook = std::function<void(const Tensor& leaf)>;

// Returned by the register_*hook functions: remove() unregisters the hook (once; a no-op
// after that, or when what it was registered on is gone).
class HookHandle {
 public:
  HookHandle() = default;
  explicit HookHandle(std::function<void()> remove) : remove_(std::move(remove)) {}
  void remove() {
    std::function<void()> remove = std::move(remove_);
    remove_ = nullptr;
    if (remove) remove();
  }

 private:
  std::function<void()> remove_;
};

// What a new tensor is made of. Converts from a DType or a Device, so
// zeros({2, 3}, DType::Float64) and zeros({2, 3}, Device::cuda()) both read naturally;
// TensorOptions(DType::Float64).device(Device::cuda()) sets both.
class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(DType dtype) : dtype_(dtype) {}      // NOLINT: implicit on purpose
  TensorOptions(Device device) : device_(device) {}  // NOLINT: implicit on purpose
  TensorOptions dtype(DType dtype) const {
    TensorOptions o = *this;
    o.dtype_ = dtype;
    return o;
  }
  TensorOptions device(Device device) const {
    TensorOptions o = *this;
    o.device_ = device;
    return o;
  }
  DType dtype() const { return dtype_; }
  const Device& device() const { return device_; }

 private:
  DType dtype_ = DType::Float32;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: holds nothing
  // A view of `storage`; shape, strides (elements) and offset must fit inside it.
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t dim() const;
  int64_t size(int64_t dim) const;  // negative dims count from the end
  int64_t stride(int64_t dim) const;
  int64_t offset() const;  // elements from the start of the storage
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  size_t element_size() const { return tg::element_size(dtype()); }
  bool is_contiguous() const;  // row-major with no gaps
  const std::shared_ptr<Storage>& storage() const;
  // Same storage, shape, strides and offset: the same view.
  bool is_alias_of(const Tensor& other) const;
  // The same tensor: handles to one state (its copies), not merely equal views.
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // Address of the first element. data_ptr<T> checks that T is the tensor's dtype.
  void* raw_data_ptr() const;
  template <typename T>
  T* data_ptr() const {
    check_element_type(dtype_of_v<T>, "data_ptr");
    return static_cast<T*>(raw_data_ptr());
  }

  // ---- views (no copy) ----
  // view: same elements, new shape (one entry may be -1); needs a contiguous tensor.
  Tensor view(const Shape& shape) const;
  // reshape: a view when the tensor is contiguous, else a contiguous copy.
  Tensor reshape(const Shape& shape) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  // Elements start, start+step, ... below end along dim (Python's start:end:step, with
  // negative start/end counting from the end and out-of-range bounds clamped).
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  // The index-th entry along dim, with that dimension removed.
  Tensor select(int64_t dim, int64_t index) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;  // dim must have size 1

  // expand: a broadcast view (stride 0 where a size-1 dim grows; -1 keeps a size).
  Tensor expand(const Shape& shape) const;

  // ---- copies ----
  Tensor contiguous() const;              // itself when already contiguous
  Tensor clone() const;                   // always a new contiguous tensor
  Tensor to(const Device& device) const;  // itself when already there
  Tensor to(DType dtype) const;           // itself when already of that dtype
  // Writes src's values (converted to this dtype, from any device) into this tensor's
  // elements; shapes must match. Safe when src overlaps this tensor.
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double value);

  // The one element of a 1-element tensor, converted to T (waits for the device).
  template <typename T>
  T item() const {
    T value;
    read_item(dtype_of_v<T>, &value);
    return value;
  }

  // ---- autograd (core/autograd.h) ----
  bool requires_grad() const;
  // Marks a leaf as needing gradients; floating-point dtypes only.
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const;  // made by the user, not by a recorded op
  // The accumulated gradient (undefined until a backward reaches this leaf).
  Tensor grad() const;
  // Replaces the gradient tensor; it must match in shape, dtype and device. An optimizer
  // points it into its flat gradient buffer; an undefined tensor clears it.
  void set_grad(const Tensor& grad) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  // Backpropagates from this tensor. grad_output defaults to 1 for a one-element tensor.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;
  // Calls `hook` with this tensor's gradient each time a backward (or autograd::grad)
  // computes it, before it is accumulated into a leaf's .grad or passed on to the op that
  // made this tensor; a returned tensor replaces the gradient. Hooks run in registration
  // order; the tensor must require grad.
  HookHandle register_hook(GradHook hook) const;
  // Calls `hook` with this leaf each time a backward has accumulated into its .grad, so its
  // gradient of that backward is final (PyTorch's register_post_accumulate_grad_hook; data
  // parallelism starts reducing a bucket from here). Not run by autograd::grad, nor when no
  // gradient reached the leaf. The tensor must be a leaf that requires grad.
  HookHandle register_post_accumulate_grad_hook(PostAccumulateGradHook hook) const;
  // A non-leaf keeps its gradient in .grad after each backward (accumulating, as a leaf's
  // does); for a leaf it changes nothing. Not filled by autograd::grad.
  void retain_grad() const;
  bool retains_grad() const;
  // The same data without history: shares storage and version counter, needs no grad.
  Tensor detach() const;
  // Makes this leaf (and every handle to it) a view of `target`'s storage; target must have
  // this tensor's shape and should already hold its values. Its dtype and device become
  // this tensor's (PyTorch's `.data = target`), a gradient converted along. Optimizers use it
  // to move parameters into their flat buffers, Module::to to move them in place; views
  // taken earlier keep the old storage.
  void set_data_(const Tensor& target) const;

  // Counts in-place writes to this tensor's storage (shared by all its views).
  int64_t version() const;
  void bump_version() const;

  // PyTorch-like text: tensor([[1.0000, 2.0000]], dtype=float32, device=cuda:0).
  std::string str() const;

  // ---- ops as methods (core/tensor_methods.cpp) ----
  // Each forwards to the free function of the same name in core/ops/ (differentiable the
  // same way), so code reads like LibTorch's: x.matmul(w).relu().sum(). The arithmetic
  // operators + - * / are in core/ops/elementwise.h.
  Tensor sum(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor sum(int64_t dim, bool keepdim = false) const;
  Tensor mean(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor mean(int64_t dim, bool keepdim = false) const;
  Tensor max() const;  // of all elements; max(x, dim) gives values and indices
  Tensor min() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor neg() const;
  Tensor pow(double exponent) const;
  Tensor clamp(double min, double max) const;
  Tensor softmax(int64_t dim = -1) const;
  Tensor log_softmax(int64_t dim = -1) const;

 private:
  struct Impl;
  friend struct autograd::TensorAccess;
  friend Tensor autograd::record_node(std::shared_ptr<autograd::Node>, Tensor,
                                      const std::vector<Tensor>&);
  void check_element_type(DType wanted, const char* what) const;
  void read_item(DType as, void* out) const;
  const Impl& impl(const char* op) const;
  std::shared_ptr<Impl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& tensor);

// Elements of a shape; throws on negative sizes or overflow.
int64_t shape_numel(const Shape& shape);
// Row-major strides of a contiguous tensor of this shape; throws when one overflows int64
// (possible even with no elements: [0, 2^40, 2^40]).
Shape contiguous_strides(const Shape& shape);

}  // namespace tg

TG_API_END
