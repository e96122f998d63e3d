#include "linear.h"

#include <cmath>

#include "../core/factory.h"
#include "../core/ops.h"
#include "init.h"

namespace tg::layers {

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias,
               const TensorOptions& options)
    : Module("Linear"), in_features_(in_features), out_features_(out_features) {
  TG_CHECK(in_features > 0 && out_features > 0,
           "Linear: in_features and out_features must be "
           "positive, got ",
           in_features, " and ", out_features);
  weight = empty({out_features, in_features}, options);
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  weight.requires_grad_();
  register_parameter("weight", &weight);
  if (with_bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    bias = empty({out_features}, options);
    init::uniform_(bias, -bound, bound);
    bias.requires_grad_();
    register_parameter("bias", &bias);
  }
}

Tensor Linear::forward(const Tensor& x) {
  TG_CHECK(x.dim() >= 1 && x.size(-1) == in_features_, "Linear(", extra_repr(),
           "): input's last dimension must be ", in_features_, ", got shape ", x.shape());
  return linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  return "in=" + std::to_string(in_features_) + ", out=" + std::to_string(out_features_) +
         (bias.defined() ? "" : ", bias=false");
}

}  // namespace tg::layers
