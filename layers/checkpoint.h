// A model's weights as a safetensors file (core/safetensors.h) under its state dict's
// dotted names, so `safetensors.torch.load_file` + `load_state_dict` loads them into the
// same architecture written in PyTorch, and the other way.
#pragma once

#include <string>

#include "../core/safetensors.h"
#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

// Writes model.state_dict() atomically (Note [atomic save], core/safetensors.h).
void save_model(const Module& model, const std::string& path, const Metadata& metadata = {});

// Reads `path` (validated) and loads it into `model` on the model's devices. Every key
// must be present, of the model's shape and dtype, and (strict) no other; no value may be
// NaN or infinite unless `allow_non_finite` (weights like that only train to chance);
// otherwise throws naming the file and every problem, and the model is unchanged. Returns
// the file's metadata.
Metadata load_model(Module& model, const std::string& path, bool strict = true,
                    bool allow_non_finite = false);

}  // namespace tg::layers

TG_API_END
