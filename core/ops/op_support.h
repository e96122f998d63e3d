// What op front-ends share (internal, not installed): argument checks, broadcasting,
// and the op registry behind the "every op has a test case" meta-test.
#pragma once

#include <string>
#include <vector>

#include "../../kernels/common.h"
#include "../autograd.h"
#include "../dispatch.h"
#include "../factory.h"
#include "../tensor.h"

namespace tg::ops {

// Both defined, on one device, of one floating dtype.
void check_float_pair(const char* op, const Tensor& a, const Tensor& b);
// Both defined, of one dtype (any) and on one device.
void check_pair(const char* op, const Tensor& a, const Tensor& b);

// Note [type promotion]: PyTorch's result type of a binary op (torch.result_type). A
// floating dtype outranks an integer one; within a category the wider wins (uint8 < int64,
// float32 < float64). A 0-d tensor counts only when its category outranks every
// dimensioned operand's: int64 [n] + float64 0-d gives float64, float32 [n] + float64 0-d
// stays float32, uint8 [n] + int64 0-d stays uint8; two operands of equal standing promote
// as above. A C++ scalar acts as a 0-d tensor of the other operand's dtype, except a
// fractional one against an integer tensor, which acts as a float32 0-d (scalar_operand).
DType result_type(const Tensor& a, const Tensor& b);
// Both converted (through differentiable to(dtype)) to their result type, or to float32
// when `floating` and that type is an integer (true division); undefined when both already
// have it.
struct Promoted {
  Tensor a, b;
  explicit operator bool() const { return a.defined(); }
};
Promoted promote(const char* op, const Tensor& a, const Tensor& b, bool floating = false);
// The scalar operand of a binary op with tensor x (Note [type promotion]).
Tensor scalar_operand(double value, const Tensor& x);
void check_float(const char* op, const Tensor& x);
// x is not of a half dtype (Note [half dtypes]): the message names op and the way out.
void check_not_half(const char* op, const Tensor& x);
// Note [autocast] (core/autocast.h): the half dtype an autocast op rounds these operands to
// (both float32, in a scope for their device), or DType::Float32 when it runs as it is.
DType autocast_operands(const Tensor& a, const Tensor& b);
// x rounded to `half`, without autograd: an autocast op's operand (and what it saves).
Tensor half_operand(const Tensor& x, DType half);

// The shape a and b broadcast to (NumPy rules); throws naming both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Strides (elements) that walk `t` over `shape`: 0 on broadcast dims.
void broadcast_strides(const Tensor& t, const Shape& shape, int64_t* strides);
void copy_shape(const Shape& shape, int* ndim, int64_t* sizes);

// The output height and width of a 2-D sliding window (convolution, pooling) over an
// input of `in` = (height, width): per axis, with the window's extent
// span = dilation·(kernel - 1) + 1, (in + 2·pad - span) / stride + 1, rounded up with
// ceil_mode (pooling only; a last window starting in the right padding is dropped, as in
// PyTorch). Throws, naming `op`, when a window is larger than the padded input. The caller
// has checked kernel, stride and dilation > 0 and pad >= 0.
Size2 window_outputs(const char* op, Size2 in, Size2 kernel, Size2 stride, Size2 padding,
                     Size2 dilation, bool ceil_mode = false);

// Wraps a possibly negative dim into [0, ndim); an error names the op, the range and,
// when given, the shape. The one definition, used by Tensor's methods too (tensor.cpp).
int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim, const Shape* shape = nullptr);

// A 0-d tensor holding value, with x's dtype and device.
Tensor scalar_like(double value, const Tensor& x);

TensorOptions options_of(const Tensor& t);

// Scratch memory for a CUDA launcher on `device` (Note [scratch memory], kernels/common.h):
// each block a Storage, so it comes from the device context's allocator with its
// out-of-memory errors, guards and graph-capture rules; with allocation guards on, a
// block whose guards were overwritten aborts the process when released, naming it.
kernels::ScratchAllocator scratch_allocator(const Device& device);

// Registration of exported op names, so the op-case table can be checked for coverage.
struct OpRegistration {
  explicit OpRegistration(const char* name);
};
const std::vector<std::string>& registered_ops();

}  // namespace tg::ops

#define TG_REGISTER_OP_CAT2(a, b) a##b
#define TG_REGISTER_OP_CAT(a, b) TG_REGISTER_OP_CAT2(a, b)
// Declares that the library exports an op called `name` (one line per op, beside it).
#define TG_REGISTER_OP(name) \
  static const ::tg::ops::OpRegistration TG_REGISTER_OP_CAT(tg_op_registration_, __LINE__)(name)
