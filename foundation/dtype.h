// DType: the element types a tensor can hold.
//
// float32 everywhere; float64 for gradient checks; int64 for labels and indices; uint8
// for images and masks. Room is left for half types (mixed precision) later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>

#include "config.h"

TG_API_BEGIN

namespace tg {

enum class DType : uint8_t { Float32, Float64, Int64, UInt8 };

inline size_t element_size(DType dtype) {
  switch (dtype) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::UInt8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
  }
  return "?";
}

inline bool is_floating(DType dtype) { return dtype == DType::Float32 || dtype == DType::Float64; }

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
template <typename T>
inline constexpr DType dtype_of_v = dtype_of<T>::value;

}  // namespace tg

TG_API_END
