#include "weights.h"

#include "../core/autograd.h"
#include "../core/state_dict.h"
#include "../foundation/error.h"

namespace tg::train {

void save_weights(const layers::Module& model, const std::string& path, const Metadata& metadata) {
  save_safetensors(path, model.state_dict(), metadata);
}

Metadata load_weights(layers::Module& model, const std::string& path,
                      const WeightsOptions& options) {
  SafetensorsContents file = load_safetensors(path);
  for (auto& [key, t] : file.tensors) {
    for (const auto& [from, to] : options.rename) {
      if (key.compare(0, from.size(), from) == 0) {
        key = to + key.substr(from.size());
        break;
      }
    }
  }
  const auto pairs = match_state(path + ": " + model.type_name(), model.state_dict(), file.tensors,
                                 options.strict);
  if (!options.allow_non_finite) {
    std::string names;
    for (const std::string& b : non_finite_entries(file.tensors))
      names += (names.empty() ? "" : ", ") + b;
    TG_CHECK(names.empty(), path, ": non-finite values (NaN or infinity) in ", names,
             "; the model is unchanged");
  }
  NoGradGuard no_grad;
  for (const auto& [target, value] : pairs) Tensor(target).copy_(value);
  return file.metadata;
}

std::vector<std::pair<std::string, std::string>> parse_rename(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> rules;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string rule =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t eq = rule.find('=');
    TG_CHECK(eq != std::string::npos && eq > 0, "weights renaming '", text, "': rule '", rule,
             "' must read from=to (to may be empty)");
    rules.emplace_back(rule.substr(0, eq), rule.substr(eq + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return rules;
}

}  // namespace tg::train
