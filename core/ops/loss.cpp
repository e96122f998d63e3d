// Front-ends of the losses: compositions of softmax, gather and the elementwise ops.
#include "tamegrad/core/ops/loss.h"

#include "tamegrad/core/ops/elementwise.h"
#include "tamegrad/core/ops/index.h"
#include "tamegrad/core/ops/op_support.h"
#include "tamegrad/core/ops/reduce.h"
#include "tamegrad/core/ops/softmax.h"

namespace tg {

namespace {

Tensor reduce(const Tensor& losses, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return losses;
    case Reduction::Mean: return mean(losses);
    case Reduction::Sum: return sum(losses);
  }
  return losses;
}

void check_class_targets(const char* op, const Tensor& scores, const Tensor& target) {
  ops::check_float(op, scores);
  TG_CHECK(scores.dim() == 2, op, ": expected (N, C) scores, got shape ", scores.shape());
  TG_CHECK(target.defined() && target.dtype() == DType::Int64 && target.dim() == 1 &&
               target.size(0) == scores.size(0) && target.device() == scores.device(),
           op, ": targets must be int64 of shape [", scores.size(0), "] on ", scores.device(),
           ", got ", target.defined() ? target.dtype() : DType::Int64, " ",
           target.defined() ? target.shape() : Shape{});
}

}  // namespace

TG_REGISTER_OP("cross_entropy");
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction,
                     double label_smoothing) {
  check_class_targets("cross_entropy", logits, target);
  TG_CHECK(label_smoothing >= 0 && label_smoothing <= 1,
           "cross_entropy: label_smoothing must be in "
           "[0, 1], got ",
           label_smoothing);
  const int64_t classes = logits.size(1);
  const double eps = label_smoothing;
  Tensor losses, log_probs;
  {
    NoGradGuard no_grad;
    log_probs = log_softmax(logits, 1);
    const Tensor picked = gather(log_probs, 1, target.unsqueeze(1)).squeeze(1);
    losses = mul(picked, -(1 - eps));
    if (eps > 0) losses = sub(losses, mul(sum(log_probs, {1}), eps / classes));
  }
  losses =
      autograd::record("CrossEntropyBackward", losses, {logits},
                       [log_probs, target, eps, classes](const Tensor& g) {  // g: (N,)
                         Tensor q = one_hot(target, classes, log_probs.dtype());
                         if (eps > 0) q = add(mul(q, 1 - eps), eps / classes);
                         return std::vector<Tensor>{mul(sub(exp(log_probs), q), g.unsqueeze(1))};
                       });
  return reduce(losses, reduction);
}

TG_REGISTER_OP("nll_loss");
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  check_class_targets("nll_loss", log_probs, target);
  return reduce(neg(gather(log_probs, 1, target.unsqueeze(1)).squeeze(1)), reduction);
}

TG_REGISTER_OP("mse_loss");
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  ops::check_float_pair("mse_loss", input, target);
  TG_CHECK(input.shape() == target.shape(), "mse_loss: input ", input.shape(), " and target ",
           target.shape(), " differ in shape");
  const Tensor diff = sub(input, target);
  return reduce(mul(diff, diff), reduction);
}

TG_REGISTER_OP("binary_cross_entropy_with_logits");
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
  ops::check_float_pair("binary_cross_entropy_with_logits", logits, target);
  TG_CHECK(logits.shape() == target.shape(), "binary_cross_entropy_with_logits: logits ",
           logits.shape(), " and target ", target.shape(), " differ in shape");
  return reduce(sub(softplus(logits), mul(logits, target)), reduction);
}

}  // namespace tg
