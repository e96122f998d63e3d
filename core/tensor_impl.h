// Tensor::Impl, the state behind a Tensor handle (internal, not installed): shared by
// tensor.cpp and the autograd engine.
#pragma once

#include <memory>

#include "storage.h"
#include "tensor.h"

namespace tg {

struct Tensor::Impl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  int64_t numel = 0;
  DType dtype = DType::Float32;
  // autograd
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;
};

}  // namespace tg
