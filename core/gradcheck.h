// gradcheck: compares the gradients autograd computes with central finite differences.
//
// f maps the inputs to one output; inputs must be float64 CPU tensors (the leaves whose
// gradients are checked have requires_grad set; others, e.g. int64 targets, pass through).
// The output is projected onto fixed random weights r, so every output element matters:
// the analytic gradient of Σ r·f is checked against (L(x + eps) - L(x - eps)) / (2·eps)
// for every element of every input that requires grad, passing when
// |analytic - numeric| <= atol + rtol·|numeric|. Choose inputs away from kinks.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "../foundation/config.h"
#include "tensor.h"

TG_API_BEGIN

namespace tg {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch: input, element, both values
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace tg

TG_API_END
