#include "metrics.h"

#include <algorithm>
#include <cmath>

#include "../core/autograd.h"
#include "../foundation/error.h"

namespace tg::train {

ClassificationMetrics::ClassificationMetrics(int64_t classes, int top_k)
    : classes_(classes), top_k_(top_k) {
  TG_CHECK(classes >= 0 && top_k >= 1,
           "ClassificationMetrics: classes must be >= 0 and top_k >= 1, "
           "got ",
           classes, " and ", top_k);
  confusion_.assign(static_cast<size_t>(classes_ * classes_), 0);
}

void ClassificationMetrics::add(const Tensor& outputs, const Tensor& targets, double loss_sum) {
  TG_CHECK(outputs.dim() == 2 && targets.dim() == 1 && targets.size(0) == outputs.size(0) &&
               targets.dtype() == DType::Int64,
           "ClassificationMetrics: outputs must be (B, C) and targets (B,) int64, got ",
           outputs.shape(), " and ", targets.dtype(), " ", targets.shape());
  if (classes_ == 0) {
    classes_ = outputs.size(1);
    confusion_.assign(static_cast<size_t>(classes_ * classes_), 0);
  }
  TG_CHECK(outputs.size(1) == classes_, "ClassificationMetrics: outputs of ", outputs.size(1),
           " classes, expected ", classes_);
  NoGradGuard no_grad;
  const Tensor o = outputs.detach().to(Device::cpu()).to(DType::Float64).contiguous();
  const Tensor t = targets.to(Device::cpu()).contiguous();
  const double* out = o.data_ptr<double>();
  const int64_t* truth = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double* row = out + i * classes_;
    const int64_t y = truth[i];
    TG_CHECK(y >= 0 && y < classes_, "ClassificationMetrics: target ", y, " at position ", i,
             " is not a class index in [0, ", classes_, ")");
    // The first highest output wins ties, as argmax does.
    int64_t predicted = 0, above = 0;
    for (int64_t c = 0; c < classes_; ++c) {
      if (row[c] > row[predicted]) predicted = c;
      if (row[c] > row[y] || (row[c] == row[y] && c < y)) ++above;
    }
    correct_ += predicted == y;
    top_k_correct_ += above < top_k_;
    ++confusion_[static_cast<size_t>(y * classes_ + predicted)];
  }
  count_ += t.numel();
  loss_sum_ += loss_sum;
}

double ClassificationMetrics::loss() const { return loss_sum_ / static_cast<double>(count_); }
double ClassificationMetrics::accuracy() const {
  return static_cast<double>(correct_) / static_cast<double>(count_);
}
double ClassificationMetrics::top_k_accuracy() const {
  return static_cast<double>(top_k_correct_) / static_cast<double>(count_);
}

std::vector<double> ClassificationMetrics::per_class_accuracy() const {
  std::vector<double> out(static_cast<size_t>(classes_), std::nan(""));
  for (int64_t c = 0; c < classes_; ++c) {
    int64_t total = 0;
    for (int64_t p = 0; p < classes_; ++p)
      total += confusion_[static_cast<size_t>(c * classes_ + p)];
    if (total > 0) {
      out[static_cast<size_t>(c)] =
          static_cast<double>(confusion_[static_cast<size_t>(c * classes_ + c)]) /
          static_cast<double>(total);
    }
  }
  return out;
}

}  // namespace tg::train
