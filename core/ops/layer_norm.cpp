// Front-end of layer_norm (layer_norm.h): checks, then the composition.
#include "layer_norm.h"

#include <cmath>
#include <vector>

#include "elementwise.h"
#include "op_support.h"
#include "reduce.h"

namespace tg {

TG_REGISTER_OP("layer_norm");
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  ops::check_float("layer_norm", x);
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  TG_CHECK(k >= 1 && k <= x.dim(), "layer_norm: normalized_shape ", normalized_shape,
           " must be 1 to ", x.dim(), " trailing dims of the input ", x.shape());
  const Shape trailing(x.shape().end() - k, x.shape().end());
  TG_CHECK(trailing == normalized_shape, "layer_norm: normalized_shape ", normalized_shape,
           " is not the input's trailing shape (input ", x.shape(), ")");
  TG_CHECK(eps >= 0 && std::isfinite(eps), "layer_norm: eps must be finite and >= 0, got ", eps);
  for (const Tensor* p : {&weight, &bias}) {
    TG_CHECK(!p->defined() || (p->shape() == normalized_shape && p->dtype() == x.dtype() &&
                               p->device() == x.device()),
             "layer_norm: weight and bias must be ", x.dtype(), " ", normalized_shape, " on ",
             x.device(), ", got ", p->dtype(), " ", p->shape(), " on ", p->device());
  }
  std::vector<int64_t> dims;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  const Tensor centred = sub(x, mean(x, dims, /*keepdim=*/true));
  const Tensor variance = mean(mul(centred, centred), dims, /*keepdim=*/true);  // biased
  Tensor y = div(centred, sqrt(add(variance, eps)));
  if (weight.defined()) y = mul(y, weight);
  if (bias.defined()) y = add(y, bias);
  return y;
}

}  // namespace tg
