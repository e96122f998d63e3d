#include "sequential.h"

#include <typeinfo>

#include "../core/ops.h"
#include "activation.h"
#include "batch_norm.h"
#include "conv2d.h"
#include "dropout.h"
#include "pool.h"

namespace tg::layers {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> layers)
    : Module("Sequential") {
  for (const auto& layer : layers) push_back(layer);
}

Sequential& Sequential::push_back(std::shared_ptr<Module> layer) {
  TG_CHECK(layer != nullptr, "Sequential: layer ", layers_.size(), " is null");
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
  return *this;
}

const std::shared_ptr<Module>& Sequential::operator[](size_t i) const {
  TG_CHECK(i < layers_.size(), "Sequential: index ", i, " out of range for ", layers_.size(),
           " layers");
  return layers_[i];
}

namespace {

// The BatchNorm that layers[i] is when it and layers[i + 1] (a ReLU) may run fused (Note
// [fused neighbours]), else null.
BatchNorm* fusable_batch_norm(const std::vector<std::shared_ptr<Module>>& layers, size_t i) {
  if (i + 1 >= layers.size()) return nullptr;
  const Module& norm = *layers[i];
  const Module& next = *layers[i + 1];
  const bool exact = (typeid(norm) == typeid(BatchNorm1d) || typeid(norm) == typeid(BatchNorm2d)) &&
                     typeid(next) == typeid(ReLU);
  if (!exact || !norm.plain_call() || !next.plain_call()) return nullptr;
  return static_cast<BatchNorm*>(layers[i].get());
}

// Whether layers[i + 2] is a MaxPool2d(2) that may join a fusable BatchNorm2d and ReLU.
bool fusable_pool(const std::vector<std::shared_ptr<Module>>& layers, size_t i) {
  if (i + 2 >= layers.size()) return false;
  const Module& norm = *layers[i];
  const Module& pool = *layers[i + 2];
  if (typeid(norm) != typeid(BatchNorm2d)) return false;
  return typeid(pool) == typeid(MaxPool2d) && static_cast<const MaxPool2d&>(pool).is_max_2x2() &&
         pool.plain_call();
}

// The Conv2d that layers[i] is when it, a BatchNorm2d, a ReLU and a MaxPool2d(2) follow each
// other and may run fused, else null.
Conv2d* fusable_conv(const std::vector<std::shared_ptr<Module>>& layers, size_t i) {
  const Module& layer = *layers[i];
  if (typeid(layer) != typeid(Conv2d) || !layer.plain_call() ||
      fusable_batch_norm(layers, i + 1) == nullptr || !fusable_pool(layers, i + 1)) {
    return nullptr;
  }
  return static_cast<Conv2d*>(layers[i].get());
}

// The Dropout that layers[i + 1] is when layers[i] is a ReLU and the two may run fused, else
// null.
Dropout* fusable_dropout(const std::vector<std::shared_ptr<Module>>& layers, size_t i) {
  if (i + 1 >= layers.size()) return nullptr;
  const Module& relu = *layers[i];
  const Module& next = *layers[i + 1];
  if (typeid(relu) != typeid(ReLU) || typeid(next) != typeid(Dropout) || !relu.plain_call() ||
      !next.plain_call()) {
    return nullptr;
  }
  return static_cast<Dropout*>(layers[i + 1].get());
}

}  // namespace

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (Conv2d* conv = fusable_conv(layers_, i)) {
      y = conv->forward_batch_norm_relu_max_pool(y, *fusable_batch_norm(layers_, i + 1));
      i += 3;  // the batch norm, the ReLU and the pooling ran inside
      continue;
    }
    if (BatchNorm* norm = fusable_batch_norm(layers_, i)) {
      if (fusable_pool(layers_, i)) {
        y = norm->forward_relu_max_pool(y);
        i += 2;  // the ReLU and the pooling ran inside
      } else {
        y = norm->forward_relu(y);
        ++i;  // the ReLU ran inside
      }
      continue;
    }
    if (Dropout* drop = fusable_dropout(layers_, i)) {
      y = drop->forward_after_relu(y);
      ++i;  // the dropout ran inside
      continue;
    }
    y = (*layers_[i])(y);
  }
  return y;
}

Tensor Sequential::summarize(const Tensor& x, const std::string& prefix, int depth,
                             std::vector<std::string>& rows) {
  Tensor y = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::string name = prefix.empty() ? std::to_string(i) : prefix + "." + std::to_string(i);
    y = layers_[i]->summarize(y, name, depth, rows);
  }
  return y;
}

Flatten::Flatten(int64_t start_dim, int64_t end_dim)
    : Module("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim_, end_dim_); }

}  // namespace tg::layers
