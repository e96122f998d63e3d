// lstm_cell: the pointwise part of one LSTM step, fused (kernels/lstm_cell.h): gates
// (B, 4·H) = W_ih x + b_ih + W_hh h + b_hh in PyTorch's order (i, f, g, o) and the previous
// cell state c (B, H) give the new h and c, differentiable with respect to both (one
// backward kernel). The recurrent layers (layers/recurrent_cell.h) step with it.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

struct LstmCellResult {
  Tensor h;  // (B, H)
  Tensor c;  // (B, H)
};
LstmCellResult lstm_cell(const Tensor& gates, const Tensor& c);

}  // namespace tg

TG_API_END
