// tg_selfcheck: is this tamegrad build working on this machine?
//
// Prints the build (version, CUDA compiled in, library versions) and the devices, then
// checks on every device: Philox against the published Random123 vector, tensors making
// the round trip to the device and back, views and copies, and random draws that are
// bit-identical to the CPU's. Exit code 0 when every check passes, 1 otherwise.
//
//   tg_selfcheck [--size N]     N: elements per random draw (default 1000000)
#include "../tamegrad.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int failures = 0;

void report(bool ok, const std::string& what) {
  std::printf("  [%s] %s\n", ok ? " ok " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

bool same_bits(const tg::Tensor& a, const tg::Tensor& b) {
  const tg::Tensor x = a.to(tg::Device::cpu()).contiguous();
  const tg::Tensor y = b.to(tg::Device::cpu()).contiguous();
  return x.shape() == y.shape() && x.dtype() == y.dtype() &&
         std::memcmp(x.raw_data_ptr(), y.raw_data_ptr(), x.numel() * x.element_size()) == 0;
}

void check_device(const tg::Device& device, int64_t size) {
  std::printf("%s:\n", device.str().c_str());
  // Views and copies: a transposed 2x3 arange, made contiguous on the device.
  const tg::Tensor a = tg::arange(6.0, device).view({2, 3});
  const tg::Tensor t = a.transpose(0, 1).contiguous();
  report(t.select(0, 2).select(0, 1).item<float>() == 5.0f, "views and strided copy");
  // Round trip: values survive the trip to the device and back, in every dtype.
  const tg::Tensor host = tg::arange(-3.0, 250.0, 1.0, tg::DType::Float64);
  report(
      same_bits(host.to(device).to(tg::DType::Int64).to(tg::Device::cpu()).to(tg::DType::Float64),
                host),
      "round trip through int64 on the device");
  // Random draws: the same generator state gives the same bits as the CPU.
  for (const char* name : {"rand", "randn", "bernoulli(0.3)"}) {
    tg::Generator cpu_gen(2024), dev_gen(2024);
    tg::Tensor on_cpu, on_device;
    if (std::strcmp(name, "rand") == 0) {
      on_cpu = tg::rand({size}, {}, &cpu_gen);
      on_device = tg::rand({size}, device, &dev_gen);
    } else if (std::strcmp(name, "randn") == 0) {
      on_cpu = tg::randn({size}, {}, &cpu_gen);
      on_device = tg::randn({size}, device, &dev_gen);
    } else {
      on_cpu = tg::bernoulli({size}, 0.3, {}, &cpu_gen);
      on_device = tg::bernoulli({size}, 0.3, device, &dev_gen);
    }
    report(same_bits(on_cpu, on_device), std::string(name) + " of " + std::to_string(size) +
                                             " elements bit-identical to the CPU");
  }
  const tg::Tensor sample = tg::randn({size}, device).to(tg::Device::cpu());
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < size; ++i) {
    const double v = sample.data_ptr<float>()[i];
    sum += v;
    sum_sq += v * v;
  }
  const double mean = sum / size, var = sum_sq / size - mean * mean;
  char line[128];
  std::snprintf(line, sizeof line, "randn moments: mean %+.4f, variance %.4f", mean, var);
  report(
      std::fabs(mean) < 6.0 / std::sqrt(size) && std::fabs(var - 1) < 6.0 * std::sqrt(2.0 / size),
      line);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t size = 1000000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
      char* end = nullptr;
      size = std::strtoll(argv[++i], &end, 10);
      if (*end != '\0' || size < 1 || size > (int64_t{1} << 31)) {
        std::fprintf(stderr, "tg_selfcheck: --size takes a whole number from 1 to 2^31, got '%s'\n",
                     argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: tg_selfcheck [--size N]\n");
      return 2;
    }
  }
  try {
    std::printf("tamegrad %s, CUDA compiled in: %s\n", TAMEGRAD_VERSION,
                tg::cuda_compiled() ? "yes" : "no");
    std::printf("CPU backend: %s\n", tg::cpu_backend_description().c_str());
    std::printf("CUDA libraries: %s\n", tg::cuda_library_versions().c_str());
    std::printf("CUDA devices: %d\n", tg::cuda_device_count());
    for (int i = 0; i < tg::cuda_device_count(); ++i) {
      std::printf("  cuda:%d  %s\n", i, tg::cuda_device_description(i).c_str());
    }
    std::vector<tg::Device> devices{tg::Device::cpu()};
    for (int i = 0; i < tg::cuda_device_count(); ++i) devices.push_back(tg::Device::cuda(i));
    for (const tg::Device& device : devices) check_device(device, size);
    std::printf("%s\n", tg::arange(12.0).view({3, 4}).str().c_str());
  } catch (const tg::Error& e) {
    std::fprintf(stderr, "tg_selfcheck: %s\n", e.what());
    return 1;
  }
  std::printf(failures == 0 ? "all checks passed\n" : "%d check(s) FAILED\n", failures);
  return failures == 0 ? 0 : 1;
}
