// Tensor operations that move or convert data: copy_, fill_, contiguous, clone, to(),
// item(). Same-device copies go through the strided copy kernel; cross-device copies
// stage a contiguous buffer of the destination dtype and move its bytes.
#include <cstring>

#include "../kernels/copy.h"
#include "../kernels/fill.h"
#include "autograd.h"
#include "cuda_backend.h"
#include "dispatch.h"
#include "factory.h"
#include "storage.h"
#include "tensor.h"

namespace tg {

namespace {

void copy_same_device(const Tensor& dst, const Tensor& src) {
  kernels::CopyArgs args{};
  args.src = src.raw_data_ptr();
  args.src_dtype = src.dtype();
  args.dst = dst.raw_data_ptr();
  args.dst_dtype = dst.dtype();
  args.numel = dst.numel();
  args.ndim = static_cast<int>(dst.dim());
  for (int d = 0; d < args.ndim; ++d) {
    args.sizes[d] = dst.shape()[d];
    args.src_strides[d] = src.strides()[d];
    args.dst_strides[d] = dst.strides()[d];
  }
  TG_ON_DEVICE(dst.device(), kernels::cpu::copy(args), stream, kernels::cuda::copy(args, stream));
}

void copy_bytes_between(const Tensor& dst, const Tensor& src) {
  TG_ASSERT(dst.is_contiguous() && src.is_contiguous() && dst.dtype() == src.dtype(),
            "copy_bytes_between needs contiguous tensors of one dtype");
  cuda_backend::copy_bytes(dst.raw_data_ptr(), dst.device(), src.raw_data_ptr(), src.device(),
                           static_cast<size_t>(src.numel()) * src.element_size());
}

}  // namespace

// In-place writes are not recorded by autograd; refusing them on tensors that need grad
// keeps a silently wrong gradient from happening.
static void check_in_place_allowed(const Tensor& t, const char* op) {
  TG_CHECK(!(grad_mode_enabled() && t.requires_grad()), op,
           ": in-place write to a tensor of "
           "shape ",
           t.shape(), " that requires grad; wrap it in NoGradGuard or use detach()");
}

Tensor& Tensor::copy_(const Tensor& src) {
  TG_CHECK(src.defined(), "copy_: the source tensor is undefined");
  check_in_place_allowed(*this, "copy_");
  TG_CHECK(shape() == src.shape(), "copy_: shape mismatch: destination ", shape(), " (", dtype(),
           ", ", device(), ") vs source ", src.shape(), " (", src.dtype(), ", ", src.device(), ")");
  if (numel() == 0) return *this;
  // A source sharing this storage (but not this exact view) could be overwritten while it
  // is read: copy it out first.
  const Tensor plain = src.detach();
  const Tensor source = storage() == src.storage() && !is_alias_of(src) ? plain.clone() : plain;
  if (source.device() == device()) {
    // On a GPU a plain copy goes to the copy engine path (cudaMemcpyAsync device to
    // device), the bandwidth ceiling the benchmarks compare with, instead of a kernel.
    if (device().is_cuda() && dtype() == source.dtype() && is_contiguous() &&
        source.is_contiguous()) {
      copy_bytes_between(*this, source);
    } else {
      copy_same_device(*this, source);
    }
  } else {
    const Tensor staged = source.to(dtype()).contiguous();
    if (is_contiguous()) {
      copy_bytes_between(*this, staged);
    } else {
      const Tensor landed = empty(shape(), TensorOptions(dtype()).device(device()));
      copy_bytes_between(landed, staged);
      copy_same_device(*this, landed);
    }
  }
  bump_version();
  return *this;
}

Tensor& Tensor::fill_(double value) {
  check_in_place_allowed(*this, "fill_");
  if (numel() == 0) return *this;
  if (!is_contiguous()) return copy_(full(shape(), value, TensorOptions(dtype()).device(device())));
  const kernels::FillArgs args{raw_data_ptr(), dtype(), numel(), value, 0.0};
  TG_ON_DEVICE(device(), kernels::cpu::fill(args), stream, kernels::cuda::fill(args, stream));
  bump_version();
  return *this;
}

Tensor Tensor::clone() const {
  Tensor copy = empty(shape(), TensorOptions(dtype()).device(device()));
  copy.copy_(detach());
  return autograd::record_composed("CloneBackward", copy, {*this},
                                   [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to(const Device& target) const {
  if (device() == target) return *this;
  Tensor moved = empty(shape(), TensorOptions(dtype()).device(target));
  moved.copy_(detach());
  return autograd::record_composed(
      "ToDeviceBackward", moved, {*this},
      [source = device()](const Tensor& g) { return std::vector<Tensor>{g.to(source)}; });
}

Tensor Tensor::to(DType target) const {
  if (dtype() == target) return *this;
  TG_CHECK(!is_half(target) || !requires_grad() || !grad_mode_enabled(), "to(", target,
           "): this tensor (shape ", shape(),
           ") requires grad, and half tensors carry no gradients (Note [half dtypes]): for "
           "low-precision matrix products use tg::autocast; to keep a copy, detach() first");
  Tensor converted = empty(shape(), TensorOptions(target).device(device()));
  converted.copy_(detach());
  if (!is_floating(target)) return converted;  // no gradient flows into integers
  return autograd::record_composed(
      "ToDtypeBackward", converted, {*this},
      [source = dtype()](const Tensor& g) { return std::vector<Tensor>{g.to(source)}; });
}

void Tensor::read_item(DType as, void* out) const {
  TG_CHECK(numel() == 1, "item: the tensor has ", numel(), " elements (shape ", shape(),
           "), not 1");
  const Tensor host = detach().to(Device::cpu()).to(as);
  std::memcpy(out, host.raw_data_ptr(), tg::element_size(as));
}

}  // namespace tg
