// Reductions over all dims (dims = {}) or the given ones, with keepdim, differentiable.
// sum, max, min and argmax also take int64 and uint8 (a sum of either is int64; Note
// [integer reductions] in reduce.cpp); mean, var and norm are floating-point only.
#pragma once

#include <vector>

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

struct ValuesAndIndices {
  Tensor values;
  Tensor indices;  // int64
};
// Along one dim: the extreme value and the index of its first occurrence (NaN counts as
// the extreme); the gradient goes to that index.
ValuesAndIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesAndIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
// Over all elements; ties share the gradient evenly.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);

// Variance with Bessel's correction (unbiased, n - 1) or without (biased, n).
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, bool unbiased = true,
           bool keepdim = false);
// L1 (p = 1) or L2 (p = 2) norm; the L2 gradient at a zero vector is 0.
Tensor norm(const Tensor& x, double p = 2, const std::vector<int64_t>& dims = {},
            bool keepdim = false);

}  // namespace tg

TG_API_END
