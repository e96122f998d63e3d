#include "../../kernels/cuda/launch.h"
#include "philox_device.h"

namespace tg::testing {

namespace {
__global__ void philox_kernel(const PhiloxCase* __restrict__ cases, int n,
                              kernels::Philox4x32* __restrict__ out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = kernels::philox4x32_10(cases[i].counter, cases[i].key0, cases[i].key1);
}
}  // namespace

std::vector<kernels::Philox4x32> philox_on_device(const std::vector<PhiloxCase>& cases) {
  const int n = static_cast<int>(cases.size());
  PhiloxCase* d_cases = nullptr;
  kernels::Philox4x32* d_out = nullptr;
  TG_CUDA_CHECK(cudaMalloc(&d_cases, n * sizeof(PhiloxCase)));
  TG_CUDA_CHECK(cudaMalloc(&d_out, n * sizeof(kernels::Philox4x32)));
  TG_CUDA_CHECK(cudaMemcpy(d_cases, cases.data(), n * sizeof(PhiloxCase), cudaMemcpyHostToDevice));
  philox_kernel<<<(n + 127) / 128, 128>>>(d_cases, n, d_out);
  TG_CUDA_CHECK_LAUNCH();
  std::vector<kernels::Philox4x32> out(n);
  TG_CUDA_CHECK(
      cudaMemcpy(out.data(), d_out, n * sizeof(kernels::Philox4x32), cudaMemcpyDeviceToHost));
  TG_CUDA_CHECK(cudaFree(d_cases));
  TG_CUDA_CHECK(cudaFree(d_out));
  return out;
}

}  // namespace tg::testing
