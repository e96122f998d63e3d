// The two MNIST models of the trainer, built from layers/ (this is all the model code).
//   mlp: 784 -> 512 -> 256 -> 10, ReLU, dropout after each hidden layer (default 0.2)
//   cnn: 3 x [conv 3x3 pad 1 (32, 64, 128 channels) + BatchNorm + ReLU + 2x2 max-pool]
//        -> 1152 -> 256 (ReLU, dropout, default 0.5) -> 10
#pragma once

#include <memory>

#include "../layers/layers.h"

namespace tg::examples {

inline std::shared_ptr<layers::Sequential> mnist_mlp(double dropout = 0.2) {
  using namespace tg::layers;
  return sequential({make<Flatten>(), make<Linear>(784, 512), make<ReLU>(), make<Dropout>(dropout),
                     make<Linear>(512, 256), make<ReLU>(), make<Dropout>(dropout),
                     make<Linear>(256, 10)});
}

inline std::shared_ptr<layers::Sequential> mnist_cnn(double dropout = 0.5) {
  using namespace tg::layers;
  auto net = make<Sequential>();
  int64_t in = 1;
  for (int64_t out : {32, 64, 128}) {
    net->push_back(make<Conv2d>(in, out, Size2{3, 3}, Conv2dOptions{{1, 1}, {1, 1}}))
        .push_back(make<BatchNorm2d>(out))
        .push_back(make<ReLU>())
        .push_back(make<MaxPool2d>(Size2{2, 2}));
    in = out;
  }
  net->push_back(make<Flatten>())
      .push_back(make<Linear>(128 * 3 * 3, 256))
      .push_back(make<ReLU>())
      .push_back(make<Dropout>(dropout))
      .push_back(make<Linear>(256, 10));
  return net;
}

}  // namespace tg::examples
