// Device: where a tensor's memory lives ("cpu" or "cuda:N").
//
// A build without CUDA still has the CUDA device type: naming cuda:0 is fine, using it
// (allocating, asking for its context) throws "CUDA support was not compiled in".
#pragma once

#include <ostream>
#include <string>

#include "../foundation/config.h"

TG_API_BEGIN

namespace tg {

enum class DeviceType { CPU, CUDA };

class Device {
 public:
  Device() = default;  // the CPU
  Device(DeviceType type, int index);
  // Parses "cpu", "cuda" (= cuda:0) or "cuda:N"; anything else throws tg::Error.
  explicit Device(const std::string& spec);

  static Device cpu() { return Device(); }
  static Device cuda(int index = 0) { return Device(DeviceType::CUDA, index); }
  // cuda:0 when this build has CUDA and a device is present, else the CPU.
  static Device cuda_if_available();

  DeviceType type() const { return type_; }
  int index() const { return index_; }
  bool is_cpu() const { return type_ == DeviceType::CPU; }
  bool is_cuda() const { return type_ == DeviceType::CUDA; }
  std::string str() const;

  bool operator==(const Device& other) const {
    return type_ == other.type_ && index_ == other.index_;
  }
  bool operator!=(const Device& other) const { return !(*this == other); }

 private:
  DeviceType type_ = DeviceType::CPU;
  int index_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Device& device);

// Whether this build compiled CUDA in, and how many CUDA devices the runtime sees
// (0 without CUDA, without a driver or without a GPU; never throws).
bool cuda_compiled();
int cuda_device_count();
bool cuda_is_available();

// "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB" for a usable CUDA device; throws otherwise.
std::string cuda_device_description(int index);
// The CUDA runtime, cuBLAS and cuDNN versions this build uses (or that CUDA is not compiled in).
std::string cuda_library_versions();

// What the CPU side runs on: the GEMM libraries, their versions, the instruction set
// they chose for this CPU and the OpenMP thread count (tg_selfcheck and mnist_train print
// it, so a slow configuration is visible).
std::string cpu_backend_description();

// Throws when `device` is not usable here: CUDA not compiled in, or no such device.
void check_device_usable(const Device& device);

}  // namespace tg

TG_API_END
