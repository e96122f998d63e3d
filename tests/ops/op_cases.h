// The one table of op cases (STYLE 13): each entry names the exported op it covers,
// describes its inputs and how to call it. The same table drives gradcheck (the `small`
// cases, float64 on the CPU) and CUDA-vs-CPU parity (every case, float32 and float64);
// a meta-test fails when an op registered by the library (TG_REGISTER_OP) has no entry.
#pragma once

#include <string>
#include <vector>

#include "../../core/gradcheck.h"
#include "../../core/tensor.h"

namespace tg::testing {

enum class Fill {
  Normal,    // N(0, 1)
  Positive,  // U(0.5, 2): for log, sqrt, pow, div denominators
  Classes,   // int64 in [0, high)
};

struct InputSpec {
  Shape shape;
  Fill fill = Fill::Normal;
  int64_t high = 0;       // Classes only
  bool constant = false;  // never requires grad (e.g. running statistics)
};

struct OpCase {
  std::string op;       // the registered op name
  std::string variant;  // shapes and options, for messages
  std::vector<InputSpec> inputs;
  GradcheckFn fn;
  bool small = false;  // also gradchecked
  bool differentiable = true;
};

const std::vector<OpCase>& op_cases();

// The inputs of a case: deterministic values (seeded by the case), floating inputs in
// `dtype`, on `device`; with requires_grad for gradcheck when asked.
std::vector<Tensor> make_inputs(const OpCase& c, DType dtype, const Device& device,
                                bool requires_grad);

}  // namespace tg::testing
