#include "op_support.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "../autocast.h"
#include "../context.h"
#include "../storage.h"

namespace tg::ops {

void check_not_half(const char* op, const Tensor& x) {
  TG_CHECK(!is_half(x.dtype()), op, ": a ", x.dtype(), " tensor of shape ", x.shape(),
           ": ops compute in float32 or float64 (half tensors store values, Note [half dtypes]);"
           " convert it with .to(DType::Float32), or run matmul/conv2d under tg::autocast");
}

DType autocast_operands(const Tensor& a, const Tensor& b) {
  if (a.dtype() != DType::Float32 || b.dtype() != DType::Float32) return DType::Float32;
  return autocast_dtype(a.device().type());
}

Tensor half_operand(const Tensor& x, DType half) { return x.detach().to(half); }

void check_float(const char* op, const Tensor& x) {
  TG_CHECK(x.defined(), op, ": undefined tensor");
  check_not_half(op, x);
  TG_CHECK(is_floating(x.dtype()), op, ": needs a floating-point tensor, got ", x.dtype(),
           " of shape ", x.shape());
}

void check_float_pair(const char* op, const Tensor& a, const Tensor& b) {
  check_float(op, a);
  check_float(op, b);
  check_pair(op, a, b);
}

void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  TG_CHECK(a.defined() && b.defined(), op, ": undefined tensor");
  TG_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch: ", a.dtype(), " ", a.shape(), " vs ",
           b.dtype(), " ", b.shape());
  TG_CHECK(a.device() == b.device(), op, ": device mismatch: ", a.device(), " ", a.shape(), " vs ",
           b.device(), " ", b.shape());
}

namespace {
int category(DType dtype) { return is_floating(dtype) ? 2 : 1; }
DType wider(DType x, DType y) {
  if (category(x) != category(y)) return category(x) > category(y) ? x : y;
  return element_size(x) >= element_size(y) ? x : y;
}
}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  if ((a.dim() == 0) == (b.dim() == 0)) return wider(a.dtype(), b.dtype());
  const DType dimensioned = a.dim() == 0 ? b.dtype() : a.dtype();
  const DType zero_dim = a.dim() == 0 ? a.dtype() : b.dtype();
  return category(zero_dim) > category(dimensioned) ? zero_dim : dimensioned;
}

Promoted promote(const char* op, const Tensor& a, const Tensor& b, bool floating) {
  TG_CHECK(a.defined() && b.defined(), op, ": undefined tensor");
  check_not_half(op, a);
  check_not_half(op, b);
  DType to = result_type(a, b);
  if (floating && !is_floating(to)) to = DType::Float32;
  if (a.dtype() == to && b.dtype() == to) return {};
  TG_CHECK(a.device() == b.device(), op, ": device mismatch: ", a.device(), " ", a.shape(), " vs ",
           b.device(), " ", b.shape());
  return {a.to(to), b.to(to)};
}

Tensor scalar_operand(double value, const Tensor& x) {
  if (!is_floating(x.dtype()) && value != std::trunc(value)) {
    return full({}, value, TensorOptions(DType::Float32).device(x.device()));
  }
  return scalar_like(value, x);
}

namespace {
void* allocate_scratch(void* context, size_t bytes, void** handle) {
  const Device& device = static_cast<DeviceContext*>(context)->device();
  auto* storage = new Storage(bytes, device);
  *handle = storage;
  return storage->data();
}

void release_scratch(void* context, void* handle) {
  auto* storage = static_cast<Storage*>(handle);
  if (static_cast<DeviceContext*>(context)->allocation_guards() && !storage->guards_intact()) {
    std::fprintf(stderr, "tamegrad: a kernel wrote outside its %zu-byte scratch block on %s\n",
                 storage->bytes(), storage->device().str().c_str());
    std::abort();
  }
  delete storage;
}
}  // namespace

kernels::ScratchAllocator scratch_allocator(const Device& device) {
  kernels::ScratchAllocator a;
  a.allocate = allocate_scratch;
  a.release = release_scratch;
  a.context = &context(device);
  return a;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t ndim = std::max(a.size(), b.size());
  Shape out(ndim);
  for (size_t i = 0; i < ndim; ++i) {
    const int64_t da = i < ndim - a.size() ? 1 : a[i - (ndim - a.size())];
    const int64_t db = i < ndim - b.size() ? 1 : b[i - (ndim - b.size())];
    TG_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
             " cannot be broadcast together (dim ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void broadcast_strides(const Tensor& t, const Shape& shape, int64_t* strides) {
  const int64_t lead = static_cast<int64_t>(shape.size()) - t.dim();
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    const int64_t own = d - lead;
    strides[d] = (own < 0 || t.shape()[own] != shape[d]) ? 0 : t.strides()[own];
  }
}

void copy_shape(const Shape& shape, int* ndim, int64_t* sizes) {
  TG_CHECK(static_cast<int>(shape.size()) <= kernels::kMaxDims, "shape ", shape, " has more than ",
           kernels::kMaxDims, " dims");
  *ndim = static_cast<int>(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) sizes[d] = shape[d];
}

TensorOptions options_of(const Tensor& t) { return TensorOptions(t.dtype()).device(t.device()); }

Tensor scalar_like(double value, const Tensor& x) { return full({}, value, options_of(x)); }

namespace {
std::vector<std::string>& registry() {
  static std::vector<std::string> names;
  return names;
}
}  // namespace

OpRegistration::OpRegistration(const char* name) { registry().emplace_back(name); }

const std::vector<std::string>& registered_ops() { return registry(); }

Size2 window_outputs(const char* op, Size2 in, Size2 kernel, Size2 stride, Size2 padding,
                     Size2 dilation, bool ceil_mode) {
  Size2 out{};
  for (int i = 0; i < 2; ++i) {
    const int64_t span = dilation[i] * (kernel[i] - 1) + 1;
    TG_CHECK(in[i] + 2 * padding[i] >= span, op, ": kernel (", kernel[0], ", ", kernel[1],
             ") with dilation (", dilation[0], ", ", dilation[1], ") and padding (", padding[0],
             ", ", padding[1], ") is larger than the padded input (", in[0], ", ", in[1], ")");
    const int64_t room = in[i] + 2 * padding[i] - span;
    out[i] = (ceil_mode ? (room + stride[i] - 1) / stride[i] : room / stride[i]) + 1;
    if (ceil_mode && (out[i] - 1) * stride[i] >= in[i] + padding[i]) --out[i];
  }
  return out;
}

}  // namespace tg::ops
