#include "checkpoint.h"

#include "../core/autograd.h"

namespace tg::layers {

void save_model(const Module& model, const std::string& path, const Metadata& metadata) {
  save_safetensors(path, model.state_dict(), metadata);
}

Metadata load_model(Module& model, const std::string& path, bool strict, bool allow_non_finite) {
  const SafetensorsContents file = load_safetensors(path);
  const auto pairs = match_state(path + ": " + model.type_name(), model.state_dict(), file.tensors,
                                 strict, /*exact_dtype=*/true);
  if (!allow_non_finite) {
    const std::vector<std::string> bad = non_finite_entries(file.tensors);
    std::string names;
    for (const std::string& b : bad) names += (names.empty() ? "" : ", ") + b;
    TG_CHECK(bad.empty(), path, ": non-finite values (NaN or infinity) in ", names,
             "; the model is unchanged (load_model(..., allow_non_finite=true) loads them anyway)");
  }
  NoGradGuard no_grad;
  for (const auto& [target, value] : pairs) Tensor(target).copy_(value);
  return file.metadata;
}

}  // namespace tg::layers
