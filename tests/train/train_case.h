// A small training problem for the training package's tests (tests/train/): a synthetic
// image data set (4x4 images of 3 classes whose mean brightness tells the class), its
// loaders, and a tiny model, all on the CPU.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/generator.h"
#include "../../data/dataloader.h"
#include "../../layers/layers.h"
#include "../../optim/optim.h"

namespace tg::testing {

// N images of 4x4 uint8 and labels in [0, 3).
inline std::pair<Tensor, Tensor> tiny_images(int64_t n, uint64_t seed) {
  Generator g(seed);
  const Tensor noise = rand({n, 4, 4}, DType::Float64, &g);
  Tensor images = empty({n, 4, 4}, DType::UInt8), labels = empty({n}, DType::Int64);
  const double* r = noise.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = (i * 7 + 1) % 3;
    labels.data_ptr<int64_t>()[i] = label;
    for (int p = 0; p < 16; ++p) {
      images.data_ptr<uint8_t>()[i * 16 + p] =
          static_cast<uint8_t>(60 * label + static_cast<int>(100 * r[i * 16 + p]));
    }
  }
  return {images, labels};
}

inline std::unique_ptr<data::DataLoader> tiny_loader(int64_t n, int64_t batch, uint64_t seed,
                                                     bool shuffle = true) {
  auto [images, labels] = tiny_images(n, seed);
  data::LoaderOptions o;
  o.batch_size = batch;
  o.shuffle = shuffle;
  o.seed = seed;
  o.mean = 0.4;
  o.std = 0.3;
  return std::make_unique<data::DataLoader>(images, labels, o);
}

// Converts its input to float64: a float64 model on the loaders' float32 batches.
class ToFloat64 : public layers::Module {
 public:
  ToFloat64() : Module("ToFloat64") {}
  Tensor forward(const Tensor& x) override { return x.to(DType::Float64); }
};

// Flatten, Linear(16, 8), ReLU, Linear(8, 3), seeded; float64 when asked.
inline std::shared_ptr<layers::Sequential> tiny_model(uint64_t seed, bool float64 = false) {
  using namespace layers;
  manual_seed(seed);
  auto net = sequential({make<Flatten>(), make<Linear>(16, 8), make<ReLU>(), make<Linear>(8, 3)});
  if (float64) {
    net->to(DType::Float64);
    auto wrapped = sequential({make<ToFloat64>()});
    for (const auto& [name, child] : net->named_children()) wrapped->push_back(child);
    return wrapped;
  }
  return net;
}

// Every parameter's values in float64, in order.
inline std::vector<std::vector<double>> weights_of(const layers::Module& model) {
  std::vector<std::vector<double>> out;
  for (const Tensor& p : model.parameters()) {
    const Tensor c = p.detach().to(DType::Float64).contiguous();
    out.emplace_back(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  }
  return out;
}

}  // namespace tg::testing
