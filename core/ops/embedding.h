// embedding, as PyTorch's F.embedding: rows of `weight` ((num_embeddings, dim), floating)
// picked by `indices` (int64, any shape): the result has the indices' shape + (dim,). The
// row at `padding_idx` (negative counts from the end, as PyTorch) is read as any other but
// gets no gradient. Composed of index_select and where (differentiable through them), on
// both devices; out-of-range indices are an error on the CPU and NaN rows on CUDA, as
// index_select's.
#pragma once

#include <optional>

#include "../../foundation/config.h"
#include "../tensor.h"

TG_API_BEGIN

namespace tg {

Tensor embedding(const Tensor& weight, const Tensor& indices,
                 std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace tg

TG_API_END
