// State dicts: tensors under dotted names, as modules (layers/module.h) and optimizers
// (optim/optimizer.h) hand them out and take them back, and the strict matching that
// loading them needs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "../foundation/config.h"
#include "tensor.h"

TG_API_BEGIN

namespace tg {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Pairs each of `own`'s tensors with the given tensor of the same name, as (target, value).
// Every given name must be unique and every value defined with its target's shape; strict:
// every name of `own` given and no other; exact_dtype: each value of its target's dtype.
// Otherwise throws one tg::Error, prefixed by `who`, that names every missing key,
// unexpected key, shape and dtype difference.
std::vector<std::pair<Tensor, Tensor>> match_state(const std::string& who, const NamedTensors& own,
                                                   const NamedTensors& given, bool strict = true,
                                                   bool exact_dtype = false);

// The tensor under `name` (undefined when there is none).
Tensor find_state(const NamedTensors& state, const std::string& name);

// The names of the floating-point tensors that hold a NaN or an infinity, each with the
// count, e.g. "0.weight (3 of 100)"; reads every value (waits for the device).
std::vector<std::string> non_finite_entries(const NamedTensors& state);

}  // namespace tg

TG_API_END
