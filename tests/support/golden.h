// Reads the golden-value files written by tests/golden/make_golden.py.
#pragma once

#include <map>
#include <string>

#include "../../core/tensor.h"

namespace tg::testing {

// name -> tensor (float64 or int64, CPU). Throws tg::Error naming the file and line on
// anything malformed.
std::map<std::string, Tensor> read_golden(const std::string& path);

}  // namespace tg::testing
