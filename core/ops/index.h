// Index and shape ops, differentiable: gather, index_select, cat, stack, flatten;
// one_hot (not differentiable). Indices are int64 tensors on the values' device. gather
// and index_select take every dtype (a batch of int64 labels, uint8 images).
#pragma once

#include <vector>

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

// out[..., i, ...] = x[..., index[..., i, ...], ...] along dim (torch.gather); index has
// x's number of dims and, off dim, sizes no larger than x's.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// The adjoint of gather: zeros of `shape` with grad's entries added at the indexed
// positions along dim (torch.Tensor.scatter_add_ into zeros).
Tensor scatter_add_along(const Tensor& grad, int64_t dim, const Tensor& index, const Shape& shape);
// The entries index[0], index[1], ... of x along dim; index is 1-D.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// (..., num_classes) of 0/1, from int64 labels in [0, num_classes).
Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype = DType::Float32);

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// The entries of x along dim, each a view with that dimension removed (torch.unbind).
// Backward writes each entry's gradient into one gradient of x (Note [unbind]), so
// unbinding T steps costs O(T) where T separate select()s would cost O(T²).
std::vector<Tensor> unbind(const Tensor& x, int64_t dim = 0);
// Merges dims start_dim..end_dim into one.
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);

}  // namespace tg

TG_API_END
