#include "embedding.h"

#include "../core/autograd.h"
#include "../core/factory.h"
#include "../core/ops/embedding.h"

namespace tg::layers {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim,
                     std::optional<int64_t> padding_idx, const TensorOptions& options)
    : Module("Embedding"), num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  TG_CHECK(num_embeddings >= 1 && embedding_dim >= 1,
           "Embedding: num_embeddings and embedding_dim must be >= 1, got ", num_embeddings,
           " and ", embedding_dim);
  if (padding_idx) {
    const int64_t pad = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
    TG_CHECK(pad >= 0 && pad < num_embeddings, "Embedding: padding_idx ", *padding_idx,
             " is out of range for ", num_embeddings, " embeddings");
    padding_idx_ = pad;
  }
  weight = randn({num_embeddings, embedding_dim}, options);
  if (padding_idx_) weight.select(0, *padding_idx_).fill_(0.0);
  weight.requires_grad_();
  register_parameter("weight", &weight);
}

Tensor Embedding::forward(const Tensor& indices) {
  return embedding(weight, indices, padding_idx_);
}

std::string Embedding::extra_repr() const {
  return std::to_string(num_embeddings_) + ", " + std::to_string(embedding_dim_) +
         (padding_idx_ ? ", padding_idx=" + std::to_string(*padding_idx_) : "");
}

}  // namespace tg::layers
