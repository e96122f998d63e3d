// Front-ends of the losses: compositions of softmax, gather and the elementwise ops.
#include "loss.h"

#include "../factory.h"
#include "elementwise.h"
#include "index.h"
#include "op_support.h"
#include "reduce.h"
#include "softmax.h"

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

// Every class index in [0, classes) (or `ignore_index`, when given), checked where the loss
// is called so the message names it rather than the gather inside. On the CPU only: on CUDA
// it would need a host round trip, and an index out of range gives NaN there
// (kernels/index.h).
void check_class_range(const char* op, const Tensor& target, int64_t classes,
                       const int64_t* ignore_index = nullptr) {
  if (!target.device().is_cpu()) return;
  const Tensor t = target.contiguous();
  const int64_t* v = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const bool ignored = ignore_index != nullptr && v[i] == *ignore_index;
    TG_CHECK((v[i] >= 0 && v[i] < classes) || ignored, op, ": target ", v[i], " at position ", i,
             " is not a class index in [0, ", classes, ")",
             ignore_index != nullptr ? " nor ignore_index " + std::to_string(*ignore_index)
                                     : std::string());
  }
}

void check_class_targets(const char* op, const Tensor& scores, const Tensor& target) {
  ops::check_float(op, scores);
  TG_CHECK(scores.dim() == 2, op, ": expected (N, C) scores, got shape ", scores.shape());
  TG_CHECK(target.defined() && target.dtype() == DType::Int64 && target.dim() == 1 &&
               target.size(0) == scores.size(0) && target.device() == scores.device(),
           op, ": targets must be int64 of shape [", scores.size(0), "] on ", scores.device(),
           ", got ", target.defined() ? target.dtype() : DType::Int64, " ",
           target.defined() ? target.shape() : Shape{});
  check_class_range(op, target, scores.size(1));
}

void check_smoothing(double label_smoothing) {
  TG_CHECK(label_smoothing >= 0 && label_smoothing <= 1,
           "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
}

// Scores and targets as rows (Note [class losses]).
struct ClassRows {
  Tensor scores;  // (M, C)
  Tensor target;  // (M,) int64, or (M, C) probabilities
  bool probabilities = false;
  int64_t classes = 0;
  Shape sample_shape;    // (N, d1, ...): Reduction::None's shape
  Tensor safe_target;    // (M,) int64: the target, 0 where ignored (class indices only)
  Tensor valid;          // (M,) scores' dtype: 1, or 0 where ignored
  Tensor sample_weight;  // (M,) w[target]·valid
};

// (N, C, d1, ...) → (M, C), the class dim moved last.
Tensor rows_of(const Tensor& x) {
  if (x.dim() == 2) return x;
  std::vector<int64_t> order{0};
  for (int64_t d = 2; d < x.dim(); ++d) order.push_back(d);
  order.push_back(1);
  return x.permute(order).reshape({-1, x.size(1)});
}

ClassRows class_rows(const char* op, const Tensor& scores, const Tensor& target,
                     const ClassLossOptions& options) {
  ops::check_float(op, scores);
  TG_CHECK(scores.dim() >= 2, op, ": expected scores (N, C) or (N, C, d1, ...), got shape ",
           scores.shape());
  TG_CHECK(target.defined() && target.device() == scores.device(), op,
           ": targets must be on the scores' device (", scores.device(), ")");
  ClassRows rows;
  rows.classes = scores.size(1);
  rows.scores = rows_of(scores);
  rows.sample_shape = scores.shape();
  rows.sample_shape.erase(rows.sample_shape.begin() + 1);
  if (options.weight.defined()) {
    TG_CHECK(options.weight.dim() == 1 && options.weight.size(0) == rows.classes &&
                 options.weight.dtype() == scores.dtype() &&
                 options.weight.device() == scores.device(),
             op, ": weight must be (", rows.classes, ",) ", scores.dtype(), " on ", scores.device(),
             ", got ", options.weight.dtype(), " ", options.weight.shape());
  }
  if (is_floating(target.dtype())) {
    TG_CHECK(target.shape() == scores.shape() && target.dtype() == scores.dtype(), op,
             ": probability targets must match the scores (", scores.dtype(), " ", scores.shape(),
             "), got ", target.dtype(), " ", target.shape());
    TG_CHECK(options.ignore_index == -100, op,
             ": ignore_index is not supported for probability targets (as in PyTorch)");
    rows.probabilities = true;
    rows.target = rows_of(target);
    return rows;
  }
  TG_CHECK(target.dtype() == DType::Int64 && target.shape() == rows.sample_shape, op,
           ": class targets must be int64 of shape ", rows.sample_shape, ", got ", target.dtype(),
           " ", target.shape());
  rows.target = target.reshape({-1});
  check_class_range(op, rows.target, rows.classes, &options.ignore_index);
  const Tensor keep = ne(rows.target, full({}, static_cast<double>(options.ignore_index),
                                           TensorOptions(DType::Int64).device(scores.device())));
  rows.safe_target = mul(rows.target, keep);  // ignored entries pick class 0, weighted 0
  rows.valid = keep.to(scores.dtype());
  rows.sample_weight = options.weight.defined()
                           ? mul(index_select(options.weight, 0, rows.safe_target), rows.valid)
                           : rows.valid;
  return rows;
}

// Reduction of per-row losses (M,): None gives the sample shape; Mean divides by Σ weights
// (class indices) or by M (probabilities, weights undefined).
Tensor reduce_rows(const Tensor& losses, const ClassRows& rows, Reduction reduction,
                   const Tensor& weights) {
  switch (reduction) {
    case Reduction::None: return losses.reshape(rows.sample_shape);
    case Reduction::Sum: return sum(losses);
    case Reduction::Mean: return weights.defined() ? div(sum(losses), sum(weights)) : mean(losses);
  }
  return losses;
}

}  // namespace

TG_REGISTER_OP("cross_entropy");
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction,
                     double label_smoothing) {
  if (logits.dim() != 2 || (target.defined() && is_floating(target.dtype()))) {
    ClassLossOptions options;
    options.reduction = reduction;
    options.label_smoothing = label_smoothing;
    return cross_entropy(logits, target, options);
  }
  check_class_targets("cross_entropy", logits, target);
  check_smoothing(label_smoothing);
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

// Note [class losses]
// The options follow PyTorch's F.cross_entropy and F.nll_loss exactly (golden-tested):
// (N, C, d1, ...) scores become (M, C) rows, M = N·d1·…, the class dim moved last; with
// class-index targets, sample i (target y, weight w_y, 0 when y is ignore_index) loses
//   (1 − ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c)
// and Mean divides the sum by Σ_i w_y (all ignored: 0/0, NaN, as PyTorch). With
// probability targets q, sample i loses −Σ_c w_c·q̃_c·log p_c, q̃ = (1 − ε)·q + ε/C, and
// Mean divides by M. These are compositions of differentiable ops (no fused backward).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const ClassLossOptions& options) {
  const ClassRows rows = class_rows("cross_entropy", logits, target, options);
  check_smoothing(options.label_smoothing);
  const double eps = options.label_smoothing;
  const Tensor log_probs = log_softmax(rows.scores, 1);  // (M, C)
  const Tensor weighted = options.weight.defined() ? mul(log_probs, options.weight) : log_probs;
  if (rows.probabilities) {
    Tensor q = rows.target;
    if (eps > 0) q = add(mul(q, 1 - eps), eps / rows.classes);
    const Tensor losses = neg(sum(mul(weighted, q), {1}));  // (M,)
    return reduce_rows(losses, rows, options.reduction, Tensor());
  }
  Tensor losses = mul(neg(gather(log_probs, 1, rows.safe_target.unsqueeze(1)).squeeze(1)),
                      mul(rows.sample_weight, 1 - eps));
  if (eps > 0) {
    losses = add(losses, mul(neg(sum(weighted, {1})), mul(rows.valid, eps / rows.classes)));
  }
  return reduce_rows(losses, rows, options.reduction, rows.sample_weight);
}

TG_REGISTER_OP("nll_loss");
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  if (log_probs.dim() != 2) {
    ClassLossOptions options;
    options.reduction = reduction;
    return nll_loss(log_probs, target, options);
  }
  check_class_targets("nll_loss", log_probs, target);
  return reduce(neg(gather(log_probs, 1, target.unsqueeze(1)).squeeze(1)), reduction);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const ClassLossOptions& options) {
  TG_CHECK(options.label_smoothing == 0, "nll_loss: label_smoothing is cross_entropy's option");
  const ClassRows rows = class_rows("nll_loss", log_probs, target, options);
  TG_CHECK(!rows.probabilities, "nll_loss: targets must be int64 class indices, got ",
           target.dtype());
  const Tensor losses = mul(neg(gather(rows.scores, 1, rows.safe_target.unsqueeze(1)).squeeze(1)),
                            rows.sample_weight);
  return reduce_rows(losses, rows, options.reduction, rows.sample_weight);
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
