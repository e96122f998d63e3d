// Every layer with a CUDA path, composed into one network, on CUDA against the CPU: the
// same weights (a CPU model's state dict loaded into a CUDA copy), the same batch, in
// float64; outputs, every parameter's gradient and the BatchNorm buffers after a training
// step, then eval-mode outputs. Dropout is left out: its draws are checked at the op level
// (tests/cuda/random_parity_test.cpp).
#include <gtest/gtest.h>

#include "../../core/factory.h"
#include "../../core/ops.h"
#include "../../layers/layers.h"
#include "../support/parity.h"

namespace tg::layers {
namespace {

std::shared_ptr<Sequential> every_layer() {
  return sequential(
      {make<Conv2d>(2, 6, Size2{3, 3}, Conv2dOptions{{1, 1}, {1, 1}}), make<BatchNorm2d>(6),
       make<LeakyReLU>(0.1), make<MaxPool2d>(Size2{2, 2}),
       make<Conv2d>(6, 4, Size2{3, 3}, Conv2dOptions{{2, 2}, {1, 1}, {1, 1}, 2}), make<GELU>(),
       make<AvgPool2d>(Size2{2, 2}, Size2{1, 1}), make<Flatten>(), make<Linear>(16, 8),
       make<BatchNorm1d>(8), make<Tanh>(),
       make<Residual>(sequential({make<Linear>(8, 8), make<ELU>(0.5)})), make<LayerNorm>(Shape{8}),
       make<SELU>(), make<Residual>(make<Linear>(8, 6), make<Linear>(8, 6, false)),
       make<LayerNorm>(Shape{6}, 1e-5, false), make<Linear>(6, 5), make<ReLU>(), make<Sigmoid>()});
}

TEST(LayersCuda, EveryLayerMatchesTheCpu) {
  TG_REQUIRE_CUDA();
  Generator g(3);
  auto cpu = every_layer();
  cpu->to(DType::Float64);
  auto gpu = every_layer();
  gpu->to(DType::Float64).to(Device::cuda());
  gpu->load_state_dict(cpu->state_dict());
  for (int64_t batch : {2, 3, 16}) {  // BatchNorm1d needs two values per channel
    SCOPED_TRACE("batch " + std::to_string(batch));
    const Tensor x = randn({batch, 2, 11, 11}, DType::Float64, &g);
    const Tensor y_cpu = cpu->forward(x);
    const Tensor y_gpu = gpu->forward(x.to(Device::cuda()));
    ASSERT_TRUE(testing::tensors_close(y_gpu, y_cpu, 1e-10, 1e-10));
    const Tensor upstream = randn(y_cpu.shape(), DType::Float64, &g);
    cpu->zero_grad();
    gpu->zero_grad();
    y_cpu.backward(upstream);
    y_gpu.backward(upstream.to(Device::cuda()));
    const NamedTensors pc = cpu->named_parameters(), pg = gpu->named_parameters();
    for (size_t i = 0; i < pc.size(); ++i) {
      EXPECT_TRUE(testing::tensors_close(pg[i].second.grad(), pc[i].second.grad(), 1e-9, 1e-9))
          << pc[i].first;
    }
    const NamedTensors bc = cpu->named_buffers(), bg = gpu->named_buffers();
    for (size_t i = 0; i < bc.size(); ++i) {
      EXPECT_TRUE(testing::tensors_close(bg[i].second, bc[i].second, 1e-12, 1e-12)) << bc[i].first;
    }
  }
  cpu->eval();
  gpu->eval();
  const Tensor x = randn({5, 2, 11, 11}, DType::Float64, &g);
  EXPECT_TRUE(
      testing::tensors_close(gpu->forward(x.to(Device::cuda())), cpu->forward(x), 1e-10, 1e-10));
}

// The recurrent layers (composed of ops, so the same code on both devices): LSTM, GRU and
// RNN in a row, two layers each, outputs, final states and every gradient through time.
TEST(LayersCuda, RecurrentLayersMatchTheCpu) {
  TG_REQUIRE_CUDA();
  RecurrentOptions two;
  two.num_layers = 2;
  auto make = [&] {
    return std::vector<std::shared_ptr<RecurrentBase>>{std::make_shared<LSTM>(3, 5, two),
                                                       std::make_shared<GRU>(5, 4, two),
                                                       std::make_shared<RNN>(4, 3, two)};
  };
  auto cpu = make(), gpu = make();
  Generator g(5);
  const Tensor x = randn({9, 4, 3}, DType::Float64, &g);
  Tensor y_cpu = x, y_gpu = x.to(Device::cuda());
  for (size_t i = 0; i < cpu.size(); ++i) {
    cpu[i]->to(DType::Float64);
    gpu[i]->to(DType::Float64).to(Device::cuda());
    gpu[i]->load_state_dict(cpu[i]->state_dict());
    y_cpu = cpu[i]->forward(y_cpu);
    y_gpu = gpu[i]->forward(y_gpu);
  }
  ASSERT_TRUE(testing::tensors_close(y_gpu, y_cpu, 1e-10, 1e-10));
  const Tensor upstream = randn(y_cpu.shape(), DType::Float64, &g);
  y_cpu.backward(upstream);
  y_gpu.backward(upstream.to(Device::cuda()));
  for (size_t i = 0; i < cpu.size(); ++i) {
    const NamedTensors pc = cpu[i]->named_parameters(), pg = gpu[i]->named_parameters();
    for (size_t k = 0; k < pc.size(); ++k) {
      EXPECT_TRUE(testing::tensors_close(pg[k].second.grad(), pc[k].second.grad(), 1e-9, 1e-9))
          << cpu[i]->type_name() << " " << pc[k].first;
    }
  }
}

}  // namespace
}  // namespace tg::layers
