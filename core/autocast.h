// Autocast: matrix products and convolutions in a low precision, everything else in float32
// (PyTorch's torch.autocast).
//
//   {
//     tg::autocast low(DType::BFloat16);            // CPU and CUDA ops of this thread
//     Tensor loss = cross_entropy(model.forward(x), y);  // linear/conv2d products in bfloat16
//     loss.backward();  // their backward products in bfloat16 too; the gradients are float32
//   }
//
// Note [autocast]
// In an autocast scope for a device type, these ops, given float32 tensors on that device,
// round their operands to the scope's half dtype (kernels/half.h: nearest, ties to even) and
// accumulate in float32: oneDNN's bfloat16 kernels on the CPU (AMX or AVX512-BF16 where the
// CPU has them), cuBLAS and cuDNN on the GPU's tensor cores:
//   matmul, linear, conv2d, conv1d (a conv2d)
// Their backward runs its products the same way, with the half operands saved by the forward
// (half the memory of float32 ones), and returns float32 gradients to float32 parameters; it
// runs them as kernels, so autograd::grad(create_graph=true) through one is refused by name.
// Everything else runs in float32 as outside the scope (PyTorch's float32 list: softmax and
// log_softmax, the losses, sums and means, norms, BatchNorm's and LayerNorm's statistics,
// the optimizers' updates); float64 tensors are never autocast.
// Where we differ from PyTorch: the outputs stay float32 (PyTorch hands out half outputs and
// runs the elementwise ops after them in half); on the GPU a convolution's output is written
// by cuDNN in the half dtype and widened (cuDNN has no float32 output for half operands).
// float16 on the CPU: oneDNN 2.6 has no CPU float16 products, so the operands are rounded to
// float16, widened exactly, and multiplied in float32: the same products, without the speed.
// The state is per thread (as grad mode) and per device type; scopes nest, and a scope with
// DType::Float32 turns autocast off inside an enclosing one.
// Tests: tests/unit/autocast_test.cpp (the op list, values against float32 products of the
// rounded operands, gradients), tests/cuda/autocast_parity_test.cpp.
#pragma once

#include "../foundation/config.h"
#include "../foundation/dtype.h"
#include "device.h"

TG_API_BEGIN

namespace tg {

class TG_EXPORT autocast {
 public:
  // Both device types: DType::BFloat16 or DType::Float16, or DType::Float32 for off.
  explicit autocast(DType dtype);
  autocast(DeviceType device, DType dtype);
  ~autocast();
  autocast(const autocast&) = delete;
  autocast& operator=(const autocast&) = delete;

 private:
  DType previous_[2];
};

// The half dtype the autocast ops of `device` round their operands to on this thread, or
// DType::Float32 outside any scope.
TG_EXPORT DType autocast_dtype(DeviceType device);

}  // namespace tg

TG_API_END
