// BatchNorm1d over (N, C) or (N, C, L) and BatchNorm2d over (N, C, H, W) (Ioffe & Szegedy 2015):
// y = (x - mean) / sqrt(var + eps) · γ + β per channel. Training uses the batch statistics
// and updates the running ones (buffers, momentum as PyTorch's: r ← (1 - m)·r + m·batch,
// unbiased variance); eval uses the running statistics. γ = 1, β = 0 at the start.
// num_batches_tracked counts training batches (on the device, as PyTorch's buffer of that
// name, so state dicts load into torch.nn.BatchNorm2d as they are).
#pragma once

#include <functional>

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;  // learn γ and β
};

class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  // relu(forward(x)) as one op (batch_norm_relu): what Sequential runs for this layer
  // directly followed by a ReLU (Note [fused neighbours], layers/sequential.h).
  Tensor forward_relu(const Tensor& x);
  // max_pool2d(relu(forward(x)), 2x2) as one op (batch_norm_relu_max_pool2d), what Sequential
  // runs for this layer followed by a ReLU and a MaxPool2d(2) (Note [fused neighbours]).
  Tensor forward_relu_max_pool(const Tensor& x);
  // forward_relu_max_pool(conv2d(x, weight, bias, stride, padding, dilation)) as one op
  // (conv2d_batch_norm_relu_max_pool2d): what Sequential runs for a Conv2d followed by this
  // layer, a ReLU and a MaxPool2d(2) (through Conv2d::forward_batch_norm_relu_max_pool).
  Tensor forward_conv_relu_max_pool(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    Size2 stride, Size2 padding, Size2 dilation);
  std::string extra_repr() const override;

  Tensor weight, bias;               // γ, β: (C,), undefined without affine
  Tensor running_mean, running_var;  // (C,) buffers
  Tensor num_batches_tracked;        // () int64 buffer

  // The momentum of the running statistics, and their reset (mean 0, variance 1, count 0):
  // what update_batch_norm needs.
  double momentum() const { return bn_.momentum; }
  void set_momentum(double momentum);
  void reset_running_stats();

 protected:
  BatchNorm(const char* type_name, int input_dims, int64_t num_features, const BatchNormOptions& bn,
            const TensorOptions& options);

 private:
  // What follows the normalisation inside the op: nothing, a ReLU, or a ReLU and 2x2 pooling.
  enum class Then { Nothing, Relu, ReluMaxPool };
  Tensor run(const Tensor& x, Then then);
  // Checks the input's shape (batch norm's input x, or a convolution's output of `channels`)
  // and counts a training batch.
  void begin(const Shape& x, int64_t channels);

  int input_dims_;
  int64_t num_features_;
  BatchNormOptions bn_;
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, const BatchNormOptions& bn = {},
                       const TensorOptions& options = {})
      : BatchNorm("BatchNorm1d", 2, num_features, bn, options) {}
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, const BatchNormOptions& bn = {},
                       const TensorOptions& options = {})
      : BatchNorm("BatchNorm2d", 4, num_features, bn, options) {}
};

// Recomputes the running statistics of every BatchNorm in `model` from `batches` forward
// passes over batch(0), batch(1), ... in training mode, as the plain mean of the batches'
// statistics (PyTorch's torch.optim.swa_utils.update_bn: after weight averaging, the
// statistics the layers gathered belong to no single set of weights). Momenta and the
// training mode are put back afterwards; nothing else in the model changes.
void update_batch_norm(Module& model, int64_t batches, const std::function<Tensor(int64_t)>& batch);

}  // namespace tg::layers

TG_API_END
