// softmax and log_softmax along one dim (numerically stable), differentiable. The losses
// built on them are in loss.h.
#pragma once

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

}  // namespace tg

TG_API_END
