// Weights in and out: a model's state dict as a plain safetensors file (what
// torch.nn.Module.load_state_dict takes after safetensors.torch.load_file), and back into a
// model, from this library or from PyTorch, with a renaming of the file's keys when they
// differ (a model trained inside a wrapper: "model.0.weight" for "0.weight").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "../core/safetensors.h"
#include "../foundation/config.h"
#include "../layers/module.h"

TG_API_BEGIN

namespace tg::train {

// Writes model.state_dict() atomically (core/safetensors.h).
void save_weights(const layers::Module& model, const std::string& path,
                  const Metadata& metadata = {});

struct WeightsOptions {
  // Each file key starting with `first` has it replaced by `second` (the first rule that
  // matches; "" as `second` strips the prefix).
  std::vector<std::pair<std::string, std::string>> rename{};
  bool strict = true;             // every key of the model, and no other
  bool allow_non_finite = false;  // refuse NaN or infinite values (they train to chance)
};

// Loads `path` into `model` (on the model's devices, converted to its dtypes): the renamed
// keys must match the model's names and shapes, strictly unless asked; otherwise throws
// naming the file and every problem, and the model is unchanged. Returns the metadata.
Metadata load_weights(layers::Module& model, const std::string& path,
                      const WeightsOptions& options = {});

// "from=to,from2=to2" as rename rules; throws naming the text when a rule has no '='.
std::vector<std::pair<std::string, std::string>> parse_rename(const std::string& text);

}  // namespace tg::train

TG_API_END
