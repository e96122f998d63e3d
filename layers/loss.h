// The losses as modules (torch.nn.CrossEntropyLoss and friends): each holds its options
// and calls the function of core/ops/loss.h. A loss takes (input, target), so the one-input
// forward of Module throws, naming the call to make instead.
#pragma once

#include <string>

#include "../core/ops/loss.h"
#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class Loss : public Module {
 public:
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  Tensor forward(const Tensor& x) override;  // throws: a loss needs a target
  std::string extra_repr() const override;

 protected:
  Loss(const char* type_name, Reduction reduction) : Module(type_name), reduction_(reduction) {}
  Reduction reduction_;
};

// logits (N, C) and int64 classes (N,); label smoothing ε in [0, 1).
class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(Reduction reduction = Reduction::Mean, double label_smoothing = 0.0);
  using Loss::forward;
  Tensor forward(const Tensor& logits, const Tensor& target) override;
  std::string extra_repr() const override;

 private:
  double label_smoothing_;
};

// log-probabilities (N, C) and int64 classes (N,).
class NLLLoss : public Loss {
 public:
  explicit NLLLoss(Reduction reduction = Reduction::Mean) : Loss("NLLLoss", reduction) {}
  using Loss::forward;
  Tensor forward(const Tensor& log_probs, const Tensor& target) override;
};

class MSELoss : public Loss {
 public:
  explicit MSELoss(Reduction reduction = Reduction::Mean) : Loss("MSELoss", reduction) {}
  using Loss::forward;
  Tensor forward(const Tensor& input, const Tensor& target) override;
};

// Binary cross-entropy on logits, targets in [0, 1] of the logits' shape.
class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(Reduction reduction = Reduction::Mean)
      : Loss("BCEWithLogitsLoss", reduction) {}
  using Loss::forward;
  Tensor forward(const Tensor& logits, const Tensor& target) override;
};

}  // namespace tg::layers

TG_API_END
