// Device parsing and naming, and the questions about CUDA that never throw.
#include "device.h"

#include <cctype>
#include <sstream>

#include "../foundation/error.h"
#include "../kernels/conv2d.h"
#include "../kernels/matmul.h"
#include "cuda_backend.h"

namespace tg {

Device::Device(DeviceType type, int index) : type_(type), index_(index) {
  TG_CHECK(index >= 0, "Device: index must be >= 0, got ", index);
  TG_CHECK(type == DeviceType::CUDA || index == 0, "Device: the CPU has only index 0, got ", index);
}

Device::Device(const std::string& spec) {
  if (spec == "cpu") return;
  const std::string prefix = "cuda";
  TG_CHECK(spec.compare(0, prefix.size(), prefix) == 0,
           "Device: expected 'cpu', 'cuda' or 'cuda:N', got '", spec, "'");
  type_ = DeviceType::CUDA;
  if (spec.size() == prefix.size()) return;
  const std::string digits = spec.substr(prefix.size() + 1);
  bool valid = spec[prefix.size()] == ':' && !digits.empty() && digits.size() <= 6;
  for (char c : digits) valid = valid && std::isdigit(static_cast<unsigned char>(c));
  TG_CHECK(valid, "Device: expected 'cpu', 'cuda' or 'cuda:N', got '", spec, "'");
  index_ = std::stoi(digits);
}

Device Device::cuda_if_available() { return cuda_is_available() ? cuda(0) : cpu(); }

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index_); }

std::ostream& operator<<(std::ostream& os, const Device& device) { return os << device.str(); }

bool cuda_compiled() { return cuda_backend::compiled(); }

int cuda_device_count() { return cuda_backend::device_count(); }

bool cuda_is_available() { return cuda_device_count() > 0; }

std::string cuda_device_description(int index) {
  check_device_usable(Device::cuda(index));
  return cuda_backend::describe(index);
}

std::string cuda_library_versions() { return cuda_backend::library_versions(); }

std::string cpu_backend_description() {
  return kernels::cpu::matmul_backend_description() + "; " +
         kernels::cpu::conv2d_backend_description();
}

void check_device_usable(const Device& device) {
  if (device.is_cpu()) return;
  TG_CHECK(cuda_compiled(), "device ", device,
           " requested, but CUDA support was not compiled in (rebuild with TG_CUDA=ON and nvcc)");
  const int count = cuda_device_count();
  TG_CHECK(device.index() < count, "device ", device, " requested, but ",
           count == 0 ? std::string("no CUDA device is present")
                      : "only " + std::to_string(count) + " CUDA device(s) are present");
}

}  // namespace tg
