// Tensor::Impl, the state behind a Tensor handle (internal, not installed): shared by
// tensor.cpp and the autograd engine.
#pragma once

#include <memory>
#include <vector>

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
  // A leaf's gradient hooks (a non-leaf's live on its grad_fn); removed ones are empty.
  std::vector<std::shared_ptr<GradHook>> hooks;
  // A leaf's hooks after accumulation (register_post_accumulate_grad_hook).
  std::vector<std::shared_ptr<PostAccumulateGradHook>> post_accumulate_hooks;
  bool retains_grad = false;
};

}  // namespace tg
