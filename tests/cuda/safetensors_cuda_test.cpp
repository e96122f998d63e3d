// safetensors across devices: a file saved from CUDA tensors loads on the CPU and back on
// CUDA bit for bit, and a CUDA model loads a file saved from a CPU model.
#include <gtest/gtest.h>

#include "../../core/context.h"
#include "../../core/factory.h"
#include "../../core/safetensors.h"
#include "../../layers/layers.h"
#include "../support/parity.h"
#include "../support/scratch_dir.h"

namespace tg::testing {
namespace {

TEST(SafetensorsCuda, SavedOnCudaLoadsOnTheCpuAndBack) {
  TG_REQUIRE_CUDA();
  const ScratchDir scratch;
  const std::string path = scratch.file("gpu.safetensors");
  Generator g(4);
  const NamedTensors on_gpu{
      {"w", randn({33, 7}, Device::cuda(), &g)},
      {"n", full({}, 5.0, TensorOptions(DType::Int64).device(Device::cuda()))},
      {"e", zeros({0}, Device::cuda())}};
  save_safetensors(path, on_gpu);
  const SafetensorsContents cpu = load_safetensors(path);
  const SafetensorsContents gpu = load_safetensors(path, Device::cuda());
  for (const auto& [name, t] : on_gpu) {
    EXPECT_TRUE(find_state(cpu.tensors, name).device().is_cpu());
    EXPECT_TRUE(tensors_bitwise_equal(find_state(cpu.tensors, name), t.to(Device::cpu())));
    EXPECT_TRUE(find_state(gpu.tensors, name).device().is_cuda());
    EXPECT_TRUE(tensors_bitwise_equal(find_state(gpu.tensors, name).to(Device::cpu()),
                                      t.to(Device::cpu())));
  }
  manual_seed(3);
  auto cpu_model = layers::sequential(
      {layers::make<layers::Linear>(5, 4), layers::make<layers::BatchNorm1d>(4)});
  layers::save_model(*cpu_model, scratch.file("cpu_model.safetensors"));
  auto gpu_model = layers::sequential(
      {layers::make<layers::Linear>(5, 4), layers::make<layers::BatchNorm1d>(4)});
  gpu_model->to(Device::cuda());
  layers::load_model(*gpu_model, scratch.file("cpu_model.safetensors"));
  const NamedTensors a = cpu_model->state_dict(), b = gpu_model->state_dict();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(b[i].second.device().is_cuda());
    EXPECT_TRUE(tensors_bitwise_equal(b[i].second.to(Device::cpu()), a[i].second)) << a[i].first;
  }
}

}  // namespace
}  // namespace tg::testing
