#include "loss.h"

#include "../foundation/error.h"

namespace tg::layers {

namespace {
const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
  }
  return "?";
}
}  // namespace

Tensor Loss::forward(const Tensor& x) {
  TG_CHECK(false, type_name(), ": a loss takes (input, target), got only an input of shape ",
           x.defined() ? to_string(x.shape()) : std::string("(undefined)"),
           "; call loss(input, target)");
  return Tensor();
}

std::string Loss::extra_repr() const {
  return std::string("reduction=") + reduction_name(reduction_);
}

CrossEntropyLoss::CrossEntropyLoss(Reduction reduction, double label_smoothing)
    : Loss("CrossEntropyLoss", reduction), label_smoothing_(label_smoothing) {
  TG_CHECK(label_smoothing >= 0 && label_smoothing < 1,
           "CrossEntropyLoss: label_smoothing must be in [0, 1), got ", label_smoothing);
}

Tensor CrossEntropyLoss::forward(const Tensor& logits, const Tensor& target) {
  return cross_entropy(logits, target, reduction_, label_smoothing_);
}

std::string CrossEntropyLoss::extra_repr() const {
  return Loss::extra_repr() +
         (label_smoothing_ > 0 ? ", label_smoothing=" + std::to_string(label_smoothing_) : "");
}

Tensor NLLLoss::forward(const Tensor& log_probs, const Tensor& target) {
  return nll_loss(log_probs, target, reduction_);
}

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) {
  return mse_loss(input, target, reduction_);
}

Tensor BCEWithLogitsLoss::forward(const Tensor& logits, const Tensor& target) {
  return binary_cross_entropy_with_logits(logits, target, reduction_);
}

}  // namespace tg::layers
