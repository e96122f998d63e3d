// Sequential runs its children in order; Flatten joins dimensions start_dim..end_dim
// (default 1..-1: (N, C, H, W) -> (N, C·H·W)). Children are named "0", "1", ... as in
// PyTorch, so a Sequential's parameters read "0.weight", "3.bias".
//
// Note [fused neighbours]
// A BatchNorm1d or BatchNorm2d directly followed by a ReLU runs as one op, batch_norm_relu
// (Note [batch norm + relu], kernels/batch_norm.h): on the CPU a quarter of the MNIST CNN's
// elementwise passes. A BatchNorm2d, a ReLU and a MaxPool2d(2) (2x2, stride 2, no padding,
// floor mode) run as batch_norm_relu_max_pool2d (Note [batch norm + relu + pool]), which on
// the CPU never stores the unpooled output; with a Conv2d (no groups) in front, the four run
// as conv2d_batch_norm_relu_max_pool2d (Note [conv block]), which on the CPU keeps the
// convolution's output and its gradient in oneDNN's blocked layout between the convolution
// and batch norm instead of reordering them. A ReLU directly followed by a Dropout runs as
// relu_dropout (Note [relu + dropout], kernels/dropout.h), whose backward draws nothing. The
// values and gradients are those of the layers run apart, bit for bit
// (tests/layers/fused_neighbours_test.cpp); what differs is only what cannot be seen from
// outside: one autograd node (BatchNormReluBackward, BatchNormReluMaxPool2dBackward,
// Conv2dBatchNormReluMaxPool2dBackward, ReluDropoutBackward) instead of two to four, and no
// intermediate tensors. Layers
// are fused only when each is exactly its class (a subclass may override forward) and none
// has a hook or is being summarised (Module::plain_call), so everything a hook or summary()
// would see is still there.
#pragma once

#include <initializer_list>
#include <memory>

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> layers);
  // Appends a layer under the next index; returns this for chaining.
  Sequential& push_back(std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;

 protected:
  Tensor summarize(const Tensor& x, const std::string& prefix, int depth,
                   std::vector<std::string>& rows) override;

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t start_dim_, end_dim_;
};

// make<Linear>(784, 512): a shared_ptr, for Sequential's braces.
template <typename Layer, typename... Args>
std::shared_ptr<Layer> make(Args&&... args) {
  return std::make_shared<Layer>(std::forward<Args>(args)...);
}

// sequential({make<Flatten>(), make<Linear>(784, 10)}): a shared Sequential of these layers.
inline std::shared_ptr<Sequential> sequential(
    std::initializer_list<std::shared_ptr<Module>> layers) {
  return std::make_shared<Sequential>(layers);
}

}  // namespace tg::layers

TG_API_END
