// Front-end of embedding (embedding.h): checks, then the composition.
#include "embedding.h"

#include "../factory.h"
#include "elementwise.h"
#include "index.h"
#include "op_support.h"

namespace tg {

TG_REGISTER_OP("embedding");
Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx) {
  ops::check_float("embedding", weight);
  TG_CHECK(weight.dim() == 2, "embedding: weight must be (num_embeddings, embedding_dim), got ",
           weight.shape());
  TG_CHECK(indices.defined() && indices.dtype() == DType::Int64, "embedding: indices must be int64",
           indices.defined() ? ", got " + std::string(dtype_name(indices.dtype())) : "");
  TG_CHECK(indices.device() == weight.device(), "embedding: indices on ", indices.device(),
           ", weight on ", weight.device());
  const int64_t rows = weight.size(0);
  Shape shape = indices.shape();
  shape.push_back(weight.size(1));
  const Tensor flat = indices.reshape({-1});
  Tensor out = index_select(weight, 0, flat);
  if (padding_idx) {
    const int64_t pad = *padding_idx < 0 ? *padding_idx + rows : *padding_idx;
    TG_CHECK(pad >= 0 && pad < rows, "embedding: padding_idx ", *padding_idx,
             " is out of range for ", rows, " embeddings");
    // The padding row's value, through a detached weight: no gradient reaches it.
    const Tensor pad_index = full({}, static_cast<double>(pad), ops::options_of(flat));
    const Tensor keep = ne(flat, pad_index).unsqueeze(1);
    out = where(keep, out, index_select(weight.detach(), 0, flat));
  }
  return out.reshape(shape);
}

}  // namespace tg
