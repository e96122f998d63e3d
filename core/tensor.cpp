// Tensor metadata and views: everything that changes shape, strides or offset without
// touching the data.
#include "tensor.h"

#include <algorithm>
#include <numeric>

#include "../kernels/common.h"
#include "autograd.h"
#include "factory.h"
#include "ops/op_support.h"
#include "storage.h"
#include "tensor_impl.h"

namespace tg {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    TG_CHECK(s >= 0, "negative size in shape ", shape);
    TG_CHECK(s == 0 || n <= INT64_MAX / s, "shape ", shape, " has too many elements");
    n *= s;
  }
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t running = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = running;
    if (d == 0) break;
    // A size-0 dimension leaves no elements, but the strides of the others still count.
    const int64_t size = std::max<int64_t>(shape[d], 1);
    TG_CHECK(running <= INT64_MAX / size, "shape ", shape,
             ": the strides of a contiguous tensor of this shape overflow 64 bits");
    running *= size;
  }
  return strides;
}

namespace {}  // namespace

namespace ops {

int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim, const Shape* shape) {
  TG_CHECK(ndim > 0, op, ": dim ", dim, " given for a 0-dimensional tensor");
  const bool in_range = dim >= -ndim && dim < ndim;
  if (shape != nullptr) {
    TG_CHECK(in_range, op, ": dim ", dim, " out of range [", -ndim, ", ", ndim - 1,
             "] for a tensor of shape ", *shape);
  }
  TG_CHECK(in_range, op, ": dim ", dim, " out of range [", -ndim, ", ", ndim - 1, "]");
  return dim < 0 ? dim + ndim : dim;
}

}  // namespace ops

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset,
               DType dtype) {
  TG_CHECK(storage != nullptr, "Tensor: null storage");
  TG_CHECK(shape.size() == strides.size(), "Tensor: shape ", shape, " and strides ", strides,
           " differ in length");
  TG_CHECK(static_cast<int>(shape.size()) <= kernels::kMaxDims, "Tensor: shape ", shape, " has ",
           shape.size(), " dimensions; at most ", kernels::kMaxDims, " are supported");
  const int64_t numel = shape_numel(shape);
  TG_CHECK(offset >= 0, "Tensor: negative offset ", offset);
  if (numel > 0) {
    int64_t last = offset;  // the furthest element the view reaches
    for (size_t d = 0; d < shape.size(); ++d) {
      TG_CHECK(strides[d] >= 0, "Tensor: negative stride in ", strides);
      last += (shape[d] - 1) * strides[d];
    }
    const int64_t capacity = static_cast<int64_t>(storage->bytes() / tg::element_size(dtype));
    TG_CHECK(last < capacity, "Tensor: view of shape ", shape, " strides ", strides, " offset ",
             offset, " reaches element ", last, " of a storage holding ", capacity);
  }
  impl_ = std::make_shared<Impl>();
  impl_->storage = std::move(storage);
  impl_->shape = std::move(shape);
  impl_->strides = std::move(strides);
  impl_->offset = offset;
  impl_->numel = numel;
  impl_->dtype = dtype;
}

const Tensor::Impl& Tensor::impl(const char* op) const {
  TG_CHECK(impl_ != nullptr, op, ": the tensor is undefined");
  return *impl_;
}

const Shape& Tensor::shape() const { return impl("shape").shape; }
const Shape& Tensor::strides() const { return impl("strides").strides; }
int64_t Tensor::dim() const { return static_cast<int64_t>(impl("dim").shape.size()); }
int64_t Tensor::size(int64_t d) const { return shape()[ops::wrap_dim("size", d, dim(), &shape())]; }
int64_t Tensor::stride(int64_t d) const {
  return strides()[ops::wrap_dim("stride", d, dim(), &shape())];
}
int64_t Tensor::offset() const { return impl("offset").offset; }
int64_t Tensor::numel() const { return impl("numel").numel; }
DType Tensor::dtype() const { return impl("dtype").dtype; }
Device Tensor::device() const { return impl("device").storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return impl("storage").storage; }
int64_t Tensor::version() const { return storage()->version(); }
void Tensor::bump_version() const { storage()->bump_version(); }

bool Tensor::is_contiguous() const {
  const Impl& t = impl("is_contiguous");
  if (t.numel == 0) return true;
  int64_t expected = 1;
  for (size_t d = t.shape.size(); d-- > 0;) {
    if (t.shape[d] != 1 && t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

bool Tensor::is_alias_of(const Tensor& other) const {
  return storage() == other.storage() && shape() == other.shape() && strides() == other.strides() &&
         offset() == other.offset();
}

void* Tensor::raw_data_ptr() const {
  const Impl& t = impl("data_ptr");
  return static_cast<char*>(t.storage->data()) + t.offset * tg::element_size(t.dtype);
}

void Tensor::check_element_type(DType wanted, const char* what) const {
  TG_CHECK(dtype() == wanted, what, "<", dtype_name(wanted), ">: the tensor holds ",
           dtype_name(dtype()), " (shape ", shape(), ")");
}

Tensor Tensor::view(const Shape& requested) const {
  const Impl& t = impl("view");
  Shape shape = requested;
  int64_t known = 1, inferred = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      TG_CHECK(inferred < 0, "view: more than one -1 in shape ", requested);
      inferred = static_cast<int64_t>(d);
    } else {
      TG_CHECK(shape[d] >= 0, "view: invalid size ", shape[d], " in shape ", requested);
      known *= shape[d];
    }
  }
  if (inferred >= 0) {
    TG_CHECK(known != 0 && t.numel % known == 0, "view: shape ", requested,
             " is invalid for a tensor of ", t.numel, " elements (shape ", t.shape, ")");
    shape[inferred] = t.numel / known;
  }
  TG_CHECK(shape_numel(shape) == t.numel, "view: shape ", requested, " is invalid for a tensor of ",
           t.numel, " elements (shape ", t.shape, ")");
  TG_CHECK(is_contiguous(), "view: the tensor of shape ", t.shape, " strides ", t.strides,
           " is not contiguous; use reshape() or contiguous()");
  return autograd::record_composed(
      "ViewBackward", Tensor(t.storage, shape, contiguous_strides(shape), t.offset, t.dtype),
      {*this},
      [in_shape = t.shape](const Tensor& g) { return std::vector<Tensor>{g.reshape(in_shape)}; });
}

Tensor Tensor::reshape(const Shape& shape) const {
  return is_contiguous() ? view(shape) : contiguous().view(shape);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  const Impl& t = impl("permute");
  const int64_t ndim = dim();
  TG_CHECK(static_cast<int64_t>(dims.size()) == ndim, "permute: ", dims.size(),
           " dims given for a tensor of shape ", t.shape);
  Shape shape(ndim), strides(ndim);
  std::vector<bool> seen(ndim, false);
  for (int64_t i = 0; i < ndim; ++i) {
    const int64_t d = ops::wrap_dim("permute", dims[i], ndim, &t.shape);
    TG_CHECK(!seen[d], "permute: dim ", dims[i], " repeated in ", Shape(dims));
    seen[d] = true;
    shape[i] = t.shape[d];
    strides[i] = t.strides[d];
  }
  std::vector<int64_t> inverse(ndim);
  for (int64_t i = 0; i < ndim; ++i) inverse[ops::wrap_dim("permute", dims[i], ndim, &t.shape)] = i;
  return autograd::record_composed(
      "PermuteBackward", Tensor(t.storage, shape, strides, t.offset, t.dtype), {*this},
      [inverse](const Tensor& g) { return std::vector<Tensor>{g.permute(inverse)}; });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  const int64_t ndim = dim();
  dim0 = ops::wrap_dim("transpose", dim0, ndim, &shape());
  dim1 = ops::wrap_dim("transpose", dim1, ndim, &shape());
  std::vector<int64_t> order(ndim);
  std::iota(order.begin(), order.end(), 0);
  if (ndim > 0) std::swap(order[dim0], order[dim1]);
  return permute(order);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  const Impl& t = impl("slice");
  d = ops::wrap_dim("slice", d, dim(), &t.shape);
  TG_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t size = t.shape[d];
  auto clamp_bound = [size](int64_t i) {
    if (i < 0) i += size;
    return std::clamp<int64_t>(i, 0, size);
  };
  start = clamp_bound(start);
  end = std::max(clamp_bound(end), start);
  Shape shape = t.shape, strides = t.strides;
  shape[d] = (end - start + step - 1) / step;
  strides[d] = t.strides[d] * step;
  const int64_t offset = shape[d] == 0 ? t.offset : t.offset + start * t.strides[d];
  return autograd::record("SliceBackward", Tensor(t.storage, shape, strides, offset, t.dtype),
                          {*this},
                          [in_shape = t.shape, options = TensorOptions(t.dtype).device(device()), d,
                           start, end, step](const Tensor& g) {
                            Tensor grad = zeros(in_shape, options);
                            grad.slice(d, start, end, step).copy_(g);
                            return std::vector<Tensor>{grad};
                          });
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  const Impl& t = impl("select");
  d = ops::wrap_dim("select", d, dim(), &t.shape);
  const int64_t size = t.shape[d];
  TG_CHECK(index >= -size && index < size, "select: index ", index, " out of range for dim ", d,
           " of size ", size, " (shape ", t.shape, ")");
  if (index < 0) index += size;
  Shape shape = t.shape, strides = t.strides;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return autograd::record(
      "SelectBackward", Tensor(t.storage, shape, strides, t.offset + index * t.strides[d], t.dtype),
      {*this},
      [in_shape = t.shape, options = TensorOptions(t.dtype).device(device()), d,
       index](const Tensor& g) {
        Tensor grad = zeros(in_shape, options);
        grad.select(d, index).copy_(g);
        return std::vector<Tensor>{grad};
      });
}

Tensor Tensor::unsqueeze(int64_t d) const {
  const Impl& t = impl("unsqueeze");
  const int64_t ndim = dim() + 1;
  TG_CHECK(d >= -ndim && d < ndim, "unsqueeze: dim ", d, " out of range [", -ndim, ", ", ndim - 1,
           "] for a tensor of shape ", t.shape);
  if (d < 0) d += ndim;
  Shape shape = t.shape, strides = t.strides;
  const int64_t stride = d < dim() ? t.strides[d] * t.shape[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return autograd::record_composed(
      "UnsqueezeBackward", Tensor(t.storage, shape, strides, t.offset, t.dtype), {*this},
      [d](const Tensor& g) { return std::vector<Tensor>{g.squeeze(d)}; });
}

Tensor Tensor::squeeze(int64_t d) const {
  const Impl& t = impl("squeeze");
  d = ops::wrap_dim("squeeze", d, dim(), &t.shape);
  TG_CHECK(t.shape[d] == 1, "squeeze: dim ", d, " has size ", t.shape[d], ", not 1 (shape ",
           t.shape, ")");
  Shape shape = t.shape, strides = t.strides;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return autograd::record_composed(
      "SqueezeBackward", Tensor(t.storage, shape, strides, t.offset, t.dtype), {*this},
      [d](const Tensor& g) { return std::vector<Tensor>{g.unsqueeze(d)}; });
}

Tensor Tensor::expand(const Shape& requested) const {
  const Impl& t = impl("expand");
  const int64_t ndim = static_cast<int64_t>(requested.size());
  const int64_t lead = ndim - dim();
  TG_CHECK(lead >= 0, "expand: cannot expand shape ", t.shape, " to fewer dims ", requested);
  Shape shape(ndim), strides(ndim, 0);
  for (int64_t d = 0; d < ndim; ++d) {
    const int64_t own = d - lead;
    const int64_t want = requested[d];
    if (own < 0) {
      TG_CHECK(want >= 0, "expand: size -1 for a new leading dim in ", requested);
      shape[d] = want;
      continue;
    }
    const int64_t have = t.shape[own];
    TG_CHECK(want == -1 || want == have || have == 1, "expand: dim ", d, " of shape ", t.shape,
             " has size ", have, " and cannot become ", want, " (target ", requested, ")");
    shape[d] = want == -1 ? have : want;
    strides[d] = (have == 1 && shape[d] != 1) ? 0 : t.strides[own];
  }
  return autograd::record_composed("ExpandBackward",
                                   Tensor(t.storage, shape, strides, t.offset, t.dtype), {*this},
                                   [in_shape = t.shape](const Tensor& g) {
                                     return std::vector<Tensor>{autograd::sum_to(g, in_shape)};
                                   });
}

// ---- autograd state ----

bool Tensor::requires_grad() const { return impl("requires_grad").requires_grad; }

Tensor& Tensor::requires_grad_(bool on) {
  const Impl& t = impl("requires_grad_");
  TG_CHECK(t.grad_fn == nullptr,
           "requires_grad_: only leaf tensors can change requires_grad; "
           "this one comes from ",
           t.grad_fn->name(), " (use detach())");
  TG_CHECK(!on || is_floating(t.dtype),
           "requires_grad_: only floating-point tensors can "
           "require gradients, not ",
           t.dtype);
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return impl("is_leaf").grad_fn == nullptr; }

Tensor Tensor::grad() const { return impl("grad").grad; }

void Tensor::set_grad(const Tensor& grad) const {
  const Impl& t = impl("set_grad");
  TG_CHECK(!grad.defined() ||
               (grad.shape() == t.shape && grad.dtype() == t.dtype && grad.device() == device()),
           "set_grad: gradient of shape ", grad.defined() ? grad.shape() : Shape{}, " for a ",
           t.dtype, " tensor of shape ", t.shape, " on ", device(),
           " must match it in shape, dtype and device");
  impl_->grad = grad;
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const { return impl("grad_fn").grad_fn; }

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  autograd::run_backward(*this, grad_output, retain_graph);
}

void Tensor::set_data_(const Tensor& target) const {
  const Impl& t = impl("set_data_");
  TG_CHECK(t.grad_fn == nullptr, "set_data_: only leaf tensors can be re-pointed");
  TG_CHECK(target.defined() && target.shape() == t.shape, "set_data_: target ",
           target.defined() ? target.shape() : Shape{}, " must have this tensor's shape ", t.shape);
  TG_CHECK(!t.requires_grad || is_floating(target.dtype()),
           "set_data_: this tensor requires grad, so its data must be floating-point, not ",
           target.dtype());
  const bool same_kind = target.dtype() == t.dtype && target.device() == device();
  impl_->storage = target.storage();
  impl_->strides = target.strides();
  impl_->offset = target.offset();
  impl_->dtype = target.dtype();
  // A gradient follows its tensor to the new dtype and device (as PyTorch's Module._apply
  // converts .grad along with .data).
  if (!same_kind && t.grad.defined()) {
    impl_->grad = t.grad.to(target.device()).to(target.dtype());
  }
}

Tensor Tensor::detach() const {
  const Impl& t = impl("detach");
  return Tensor(t.storage, t.shape, t.strides, t.offset, t.dtype);
}

}  // namespace tg
