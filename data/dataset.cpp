// Datasets, transforms and collation (dataset.h).
#include "dataset.h"

#include "../core/ops.h"

namespace tg::data {

TensorDataset::TensorDataset(std::vector<Tensor> tensors) : tensors_(std::move(tensors)) {
  TG_CHECK(!tensors_.empty(), "TensorDataset: no tensors given");
  for (size_t k = 0; k < tensors_.size(); ++k) {
    const Tensor& t = tensors_[k];
    TG_CHECK(t.defined() && t.dim() >= 1, "TensorDataset: tensor ", k,
             " must have a first (example) dimension, got ", t.defined() ? t.shape() : Shape{});
    TG_CHECK(t.device().is_cpu(), "TensorDataset: tensor ", k, " is on ", t.device(),
             "; datasets hold CPU tensors (LoaderOptions::resident keeps them on a device)");
    TG_CHECK(t.size(0) == tensors_[0].size(0), "TensorDataset: tensor ", k, " has ", t.size(0),
             " examples (shape ", t.shape(), "), tensor 0 has ", tensors_[0].size(0));
    tensors_[k] = t.detach();
  }
  size_ = tensors_[0].size(0);
}

Example TensorDataset::get(int64_t index) const {
  TG_CHECK(index >= 0 && index < size_, "TensorDataset: index ", index, " out of range [0, ", size_,
           ")");
  Example example;
  for (const Tensor& t : tensors_) example.push_back(t.select(0, index));
  return example;
}

TransformedDataset::TransformedDataset(std::shared_ptr<const Dataset> base, Transform transform)
    : base_(std::move(base)), transform_(std::move(transform)) {
  TG_CHECK(base_ != nullptr, "TransformedDataset: no dataset given");
  TG_CHECK(transform_ != nullptr, "TransformedDataset: the transform is empty");
}

Example TransformedDataset::get(int64_t index) const { return transform_(base_->get(index)); }

Transform compose(std::vector<Transform> transforms) {
  for (size_t k = 0; k < transforms.size(); ++k) {
    TG_CHECK(transforms[k] != nullptr, "compose: transform ", k, " is empty");
  }
  return [transforms = std::move(transforms)](Example example) {
    for (const Transform& t : transforms) example = t(std::move(example));
    return example;
  };
}

std::vector<Tensor> collate(const std::vector<Example>& examples,
                            const std::vector<int64_t>& indices) {
  TG_CHECK(!examples.empty(), "collate: no examples");
  const Example& first = examples.front();
  TG_CHECK(!first.empty(), "DataLoader: example ", indices[0],
           " has no tensors (get() must return at least one)");
  std::vector<Tensor> batch;
  for (size_t k = 0; k < first.size(); ++k) {
    std::vector<Tensor> column;
    column.reserve(examples.size());
    for (size_t i = 0; i < examples.size(); ++i) {
      const Example& e = examples[i];
      TG_CHECK(e.size() == first.size(), "DataLoader: example ", indices[i], " has ", e.size(),
               " tensors, example ", indices[0], " has ", first.size());
      const Tensor& t = e[k];
      TG_CHECK(t.defined() && t.shape() == first[k].shape() && t.dtype() == first[k].dtype() &&
                   t.device().is_cpu(),
               "DataLoader: tensor ", k, " of example ", indices[i], " is ",
               t.defined() ? dtype_name(t.dtype()) : "undefined", " ",
               t.defined() ? t.shape() : Shape{}, " on ",
               t.defined() ? t.device().str() : "no device", ", that of example ", indices[0],
               " is ", dtype_name(first[k].dtype()), " ", first[k].shape(),
               " (examples must agree to be stacked into a batch; get() returns CPU tensors)");
      column.push_back(t.detach());
    }
    batch.push_back(stack(column, 0));
  }
  return batch;
}

}  // namespace tg::data
