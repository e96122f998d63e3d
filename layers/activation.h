// Elementwise activations as layers: ReLU, LeakyReLU (negative slope, default 0.01), ELU
// (alpha, default 1), SELU (self-normalising nets, with LeCun-normal weights), Sigmoid, Tanh,
// GELU (erf form, or PyTorch's tanh approximation). Each only calls the op of the same name.
#pragma once

#include "../core/ops/elementwise.h"
#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) override;
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  double negative_slope_;
};

class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  double alpha_;
};

class SELU : public Module {
 public:
  SELU() : Module("SELU") {}
  Tensor forward(const Tensor& x) override;
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) override;
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& x) override;
};

class GELU : public Module {
 public:
  explicit GELU(GeluApproximation approximate = GeluApproximation::None)
      : Module("GELU"), approximate_(approximate) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  GeluApproximation approximate_;
};

}  // namespace tg::layers

TG_API_END
