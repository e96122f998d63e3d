// gru_cell: the pointwise part of one GRU step, fused (kernels/gru_cell.h): input gates
// (B, 3·H) = W_ih x + b_ih and hidden gates (B, 3·H) = W_hh h + b_hh in PyTorch's order
// (r, z, n) and the previous hidden state h (B, H) give h' (B, H), differentiable with
// respect to all three (one backward kernel). The recurrent layers step with it.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor gru_cell(const Tensor& input_gates, const Tensor& hidden_gates, const Tensor& h);

}  // namespace tg

TG_API_END
