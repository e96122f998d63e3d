// gradcheck (core/gradcheck.h): one backward for the analytic gradients, then two forward
// evaluations per input element for the numeric ones.
#include "gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd.h"
#include "factory.h"
#include "ops.h"

namespace tg {

namespace {

double projected(const GradcheckFn& f, const std::vector<Tensor>& inputs, const Tensor& weights) {
  NoGradGuard no_grad;
  const Tensor y = f(inputs);
  if (y.numel() == 0) return 0.0;
  return sum(mul(y.contiguous(), weights)).item<double>();
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    TG_CHECK(!x.requires_grad() || (x.dtype() == DType::Float64 && x.device().is_cpu() &&
                                    x.is_contiguous() && x.is_leaf()),
             "gradcheck: input ", i, " must be a contiguous float64 CPU leaf, got ", x.dtype(),
             " on ", x.device());
  }
  // Analytic: backward of Σ r·f with r fixed.
  const Tensor y = f(inputs);
  TG_CHECK(y.dtype() == DType::Float64, "gradcheck: the output must be float64, got ", y.dtype());
  Generator generator(20240611);
  const Tensor weights = uniform(y.shape(), 0.5, 1.5, DType::Float64, &generator);
  for (const Tensor& x : inputs) {
    if (x.requires_grad()) x.set_grad(Tensor());
  }
  if (y.requires_grad()) y.backward(weights);

  GradcheckResult result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.requires_grad()) continue;
    const Tensor analytic = x.grad().defined() ? x.grad() : zeros_like(x);
    double* values = x.data_ptr<double>();
    const double* grads = analytic.data_ptr<double>();
    for (int64_t e = 0; e < x.numel(); ++e) {
      const double original = values[e];
      values[e] = original + options.eps;
      const double plus = projected(f, inputs, weights);
      values[e] = original - options.eps;
      const double minus = projected(f, inputs, weights);
      values[e] = original;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double error = std::fabs(grads[e] - numeric);
      if (!(error <= options.atol + options.rtol * std::fabs(numeric))) {
        std::ostringstream os;
        os.precision(10);
        os << "input " << i << " (shape " << to_string(x.shape()) << "), element " << e
           << ": analytic " << grads[e] << ", numeric " << numeric << " (error " << error << ")";
        return {false, os.str()};
      }
    }
  }
  return result;
}

}  // namespace tg
