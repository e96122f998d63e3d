// Classification metrics of an evaluation, taken on the host from each batch's outputs:
// mean loss, accuracy, top-k accuracy, per-class accuracy and the confusion matrix.
#pragma once

#include <cstdint>
#include <vector>

#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::train {

class ClassificationMetrics {
 public:
  // `classes` may be 0: taken from the first batch's outputs.
  explicit ClassificationMetrics(int64_t classes = 0, int top_k = 5);

  // One batch: outputs (B, C) (logits or probabilities: only their order counts), targets
  // (B,) int64 class indices, and the batch's summed loss. Reads both to the host.
  void add(const Tensor& outputs, const Tensor& targets, double loss_sum);

  int64_t count() const { return count_; }
  int64_t classes() const { return classes_; }
  double loss() const;            // mean over the images
  double accuracy() const;        // share whose highest output is the target
  double top_k_accuracy() const;  // share whose target is among the top_k highest outputs
  int top_k() const { return top_k_; }
  // Per class: the share of its images classified as it (NaN for a class with none).
  std::vector<double> per_class_accuracy() const;
  // (classes × classes), row = true class, column = predicted class, row-major.
  const std::vector<int64_t>& confusion() const { return confusion_; }

 private:
  int64_t classes_;
  int top_k_;
  int64_t count_ = 0, correct_ = 0, top_k_correct_ = 0;
  double loss_sum_ = 0;
  std::vector<int64_t> confusion_;
};

}  // namespace tg::train

TG_API_END
