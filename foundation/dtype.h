// DType: the element types a tensor can hold.
//
// float32 everywhere; float64 for gradient checks; int64 for labels and indices; uint8
// for images and masks; bfloat16 and float16 for mixed precision.
//
// Note [half dtypes]
// bfloat16 and float16 are storage types: a tensor of them can be made (factories,
// to(dtype), from_vector), copied, moved between devices, printed, saved and loaded
// (safetensors BF16/F16), and read back as float. Arithmetic runs in float32: under
// tg::autocast (core/autocast.h) matrix products and convolutions round their operands to
// the half type and accumulate in float32; every other op, and every op outside autocast,
// rejects a half tensor with a message that names it. Parameters and gradients stay float32
// (the optimizer's flat buffers hold the master weights), so is_floating() (the dtypes ops
// compute in and gradients flow through) is float32 and float64 only; is_half() names the
// other two. Conversions: kernels/half.h, Note [half conversions].
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>

#include "config.h"

TG_API_BEGIN

namespace tg {

enum class DType : uint8_t { Float32, Float64, Int64, UInt8, BFloat16, Float16 };

// The half types' C++ element types: the 16 bits as stored (kernels/half.h converts them).
struct bfloat16 {
  uint16_t bits;
};
struct float16 {
  uint16_t bits;
};

inline size_t element_size(DType dtype) {
  switch (dtype) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::UInt8: return 1;
    case DType::BFloat16: return 2;
    case DType::Float16: return 2;
  }
  return 0;
}

inline const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
    case DType::BFloat16: return "bfloat16";
    case DType::Float16: return "float16";
  }
  return "?";
}

// Note [half dtypes]: the dtypes ops compute in and gradients flow through.
inline bool is_floating(DType dtype) { return dtype == DType::Float32 || dtype == DType::Float64; }
inline bool is_half(DType dtype) { return dtype == DType::BFloat16 || dtype == DType::Float16; }

inline std::ostream& operator<<(std::ostream& os, DType dtype) { return os << dtype_name(dtype); }

// C++ type -> DType, for typed accessors (data_ptr<T>, item<T>, from_vector<T>).
template <typename T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = DType::UInt8;
};
template <>
struct dtype_of<bfloat16> {
  static constexpr DType value = DType::BFloat16;
};
template <>
struct dtype_of<float16> {
  static constexpr DType value = DType::Float16;
};
template <typename T>
inline constexpr DType dtype_of_v = dtype_of<T>::value;

}  // namespace tg

TG_API_END
