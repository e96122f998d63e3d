// Embedding: a lookup table of num_embeddings vectors of embedding_dim, as
// torch.nn.Embedding: parameter "weight" (num_embeddings, embedding_dim) drawn from N(0, 1),
// the padding_idx row (if any; negative counts from the end) zeroed and never updated by
// a gradient. forward(indices): int64 of any shape -> indices' shape + (embedding_dim,).
#pragma once

#include <optional>

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            std::optional<int64_t> padding_idx = std::nullopt, const TensorOptions& options = {});
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;

  Tensor weight;

 private:
  int64_t num_embeddings_, embedding_dim_;
  std::optional<int64_t> padding_idx_;  // wrapped to [0, num_embeddings)
};

}  // namespace tg::layers

TG_API_END
