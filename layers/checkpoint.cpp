#include "tamegrad/layers/checkpoint.h"

#include "tamegrad/core/autograd.h"

namespace tg::layers {

void save_model(const Module& model, const std::string& path, const Metadata& metadata) {
  save_safetensors(path, model.state_dict(), metadata);
}

Metadata load_model(Module& model, const std::string& path, bool strict) {
  const SafetensorsContents file = load_safetensors(path);
  const auto pairs = match_state(path + ": " + model.type_name(), model.state_dict(), file.tensors,
                                 strict, /*exact_dtype=*/true);
  NoGradGuard no_grad;
  for (const auto& [target, value] : pairs) Tensor(target).copy_(value);
  return file.metadata;
}

}  // namespace tg::layers
