// Datasets for the DataLoader beyond uint8 images with int64 labels: any number of tensors
// per example, of any dtype and shape, and transforms (torch.utils.data.Dataset,
// TensorDataset, and a torchvision-style transform over each example).
//
// An example is a list of tensors (features, target, ...). The DataLoader asks for examples
// in its own order (shuffled, sharded: data/dataloader.h) and stacks the k-th tensors of a
// batch's examples into its k-th batch tensor; every example must have the same number of
// tensors, and the k-th ones the same shape and dtype (a loader names the first that does
// not). get() runs on the loader's background thread: it must not touch state that another
// thread changes, and it should be deterministic (the loader's resident mode reads each
// example once and keeps it on the device).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::data {

using Example = std::vector<Tensor>;

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Example `index`, in [0, size()); CPU tensors.
  virtual Example get(int64_t index) const = 0;
};

// Tensors sharing their first dimension, example i their i-th entries (TensorDataset).
class TensorDataset : public Dataset {
 public:
  explicit TensorDataset(std::vector<Tensor> tensors);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;

 private:
  std::vector<Tensor> tensors_;
  int64_t size_ = 0;
};

// A function of one example, returning the example to use (normalise, reshape, one-hot a
// label, convert a dtype, ...); deterministic (random augmentation: LoaderOptions' crop
// and flip, drawn from the loader's seed).
using Transform = std::function<Example(Example)>;

// `base` with `transform` applied to each example as it is read.
class TransformedDataset : public Dataset {
 public:
  TransformedDataset(std::shared_ptr<const Dataset> base, Transform transform);
  int64_t size() const override { return base_->size(); }
  Example get(int64_t index) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  Transform transform_;
};

// Transforms applied in order (torchvision's Compose).
Transform compose(std::vector<Transform> transforms);

// Collation: the k-th tensors of `examples` stacked into (B, ...) tensors, checked to agree
// (`indices` name the examples in errors).
std::vector<Tensor> collate(const std::vector<Example>& examples,
                            const std::vector<int64_t>& indices);

}  // namespace tg::data

TG_API_END
