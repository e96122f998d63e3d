// Tensor's op methods (core/tensor.h): each forwards to the free function in core/ops/, so
// both spellings run the same code and record the same autograd nodes.
#include "ops.h"
#include "tensor.h"

namespace tg {

Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return tg::sum(*this, dims, keepdim);
}
Tensor Tensor::sum(int64_t dim, bool keepdim) const { return tg::sum(*this, {dim}, keepdim); }
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return tg::mean(*this, dims, keepdim);
}
Tensor Tensor::mean(int64_t dim, bool keepdim) const { return tg::mean(*this, {dim}, keepdim); }
Tensor Tensor::max() const { return tg::max(*this); }
Tensor Tensor::min() const { return tg::min(*this); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const { return tg::argmax(*this, dim, keepdim); }
Tensor Tensor::matmul(const Tensor& other) const { return tg::matmul(*this, other); }
Tensor Tensor::relu() const { return tg::relu(*this); }
Tensor Tensor::sigmoid() const { return tg::sigmoid(*this); }
Tensor Tensor::tanh() const { return tg::tanh(*this); }
Tensor Tensor::exp() const { return tg::exp(*this); }
Tensor Tensor::log() const { return tg::log(*this); }
Tensor Tensor::sqrt() const { return tg::sqrt(*this); }
Tensor Tensor::abs() const { return tg::abs(*this); }
Tensor Tensor::neg() const { return tg::neg(*this); }
Tensor Tensor::pow(double exponent) const { return tg::pow(*this, exponent); }
Tensor Tensor::clamp(double min, double max) const { return tg::clamp(*this, min, max); }
Tensor Tensor::softmax(int64_t dim) const { return tg::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return tg::log_softmax(*this, dim); }

}  // namespace tg
