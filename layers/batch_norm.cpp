#include "batch_norm.h"

#include "../core/autograd.h"
#include "../core/factory.h"
#include "../core/ops.h"

namespace tg::layers {

BatchNorm::BatchNorm(const char* type_name, int input_dims, int64_t num_features,
                     const BatchNormOptions& bn, const TensorOptions& options)
    : Module(type_name), input_dims_(input_dims), num_features_(num_features), bn_(bn) {
  TG_CHECK(num_features > 0, type_name, ": num_features must be positive, got ", num_features);
  TG_CHECK(bn.eps > 0 && bn.momentum >= 0 && bn.momentum <= 1, type_name,
           ": eps must be > 0 and momentum in [0, 1], got eps ", bn.eps, ", momentum ",
           bn.momentum);
  if (bn.affine) {
    weight = ones({num_features}, options).requires_grad_();
    bias = zeros({num_features}, options).requires_grad_();
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
  running_mean = zeros({num_features}, options);
  running_var = ones({num_features}, options);
  register_buffer("running_mean", &running_mean);
  num_batches_tracked = zeros({}, TensorOptions(options).dtype(DType::Int64));
  register_buffer("running_var", &running_var);
  register_buffer("num_batches_tracked", &num_batches_tracked);
}

Tensor BatchNorm::forward(const Tensor& x) { return run(x, Then::Nothing); }

Tensor BatchNorm::forward_relu(const Tensor& x) { return run(x, Then::Relu); }

Tensor BatchNorm::forward_relu_max_pool(const Tensor& x) { return run(x, Then::ReluMaxPool); }

void BatchNorm::begin(const Shape& x, int64_t channels) {
  // BatchNorm1d takes (N, C) or (N, C, L), BatchNorm2d (N, C, H, W), as in PyTorch.
  const int64_t dims = static_cast<int64_t>(x.size());
  const bool dims_ok = input_dims_ == 2 ? (dims == 2 || dims == 3) : dims == input_dims_;
  TG_CHECK(dims_ok && channels == num_features_, type_name(), "(", extra_repr(),
           "): input must be ", input_dims_ == 2 ? "(N, " : "(N, ", num_features_,
           input_dims_ == 2 ? ") or (N, " : ", H, W)",
           input_dims_ == 2 ? std::to_string(num_features_) + ", L)" : "", ", got shape ", x);
  // Counted on the device, no host round trip.
  if (is_training()) advance_step_count_(num_batches_tracked, nullptr);
}

Tensor BatchNorm::forward_conv_relu_max_pool(const Tensor& x, const Tensor& weight,
                                             const Tensor& bias, Size2 stride, Size2 padding,
                                             Size2 dilation) {
  begin(x.shape(), weight.dim() == 4 ? weight.size(0) : -1);
  return conv2d_batch_norm_relu_max_pool2d(x, weight, bias, stride, padding, dilation, running_mean,
                                           running_var, this->weight, this->bias, is_training(),
                                           bn_.momentum, bn_.eps);
}

Tensor BatchNorm::run(const Tensor& x, Then then) {
  begin(x.shape(), x.dim() >= 2 ? x.size(1) : -1);
  const auto op = then == Then::Nothing ? batch_norm
                  : then == Then::Relu  ? batch_norm_relu
                                        : batch_norm_relu_max_pool2d;
  return op(x, running_mean, running_var, weight, bias, is_training(), bn_.momentum, bn_.eps);
}

std::string BatchNorm::extra_repr() const {
  return std::to_string(num_features_) + (bn_.affine ? "" : ", affine=false");
}

void BatchNorm::set_momentum(double momentum) {
  TG_CHECK(momentum >= 0 && momentum <= 1, type_name(), ": momentum must be in [0, 1], got ",
           momentum);
  bn_.momentum = momentum;
}

void BatchNorm::reset_running_stats() {
  NoGradGuard no_grad;
  running_mean.fill_(0.0);
  running_var.fill_(1.0);
  num_batches_tracked.fill_(0.0);
}

namespace {
void collect_batch_norms(Module& module, std::vector<BatchNorm*>& out) {
  if (auto* bn = dynamic_cast<BatchNorm*>(&module)) out.push_back(bn);
  for (const auto& [name, child] : module.named_children()) collect_batch_norms(*child, out);
}
}  // namespace

void update_batch_norm(Module& model, int64_t batches,
                       const std::function<Tensor(int64_t)>& batch) {
  TG_CHECK(batches > 0, "update_batch_norm: needs at least one batch, got ", batches);
  std::vector<BatchNorm*> layers;
  collect_batch_norms(model, layers);
  if (layers.empty()) return;
  std::vector<double> momenta;
  for (BatchNorm* bn : layers) {
    momenta.push_back(bn->momentum());
    bn->reset_running_stats();
  }
  const bool was_training = model.is_training();
  model.train();
  {
    NoGradGuard no_grad;
    // Batch k (from 0) weighs 1/(k+1) against the mean of the k before it: a plain mean.
    for (int64_t k = 0; k < batches; ++k) {
      for (BatchNorm* bn : layers) bn->set_momentum(1.0 / static_cast<double>(k + 1));
      model(batch(k));
    }
  }
  for (size_t i = 0; i < layers.size(); ++i) layers[i]->set_momentum(momenta[i]);
  model.train(was_training);
}

}  // namespace tg::layers
