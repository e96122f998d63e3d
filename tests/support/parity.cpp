#include "parity.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "../../core/device.h"

namespace tg::testing {

std::string cuda_unavailable_reason() {
  if (!cuda_compiled()) return "no CUDA device: CUDA support was not compiled in";
  if (cuda_device_count() == 0) return "no CUDA device: none is present on this machine";
  return "";
}

int64_t parity_element_limit() {
  const char* value = std::getenv("TG_PARITY_MAX_ELEMENTS");
  if (value == nullptr || *value == '\0') return INT64_MAX;
  return std::strtoll(value, nullptr, 10);
}

std::string index_string(int64_t linear, const Shape& shape) {
  Shape index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] == 0 ? 0 : linear % shape[d];
    linear = shape[d] == 0 ? 0 : linear / shape[d];
  }
  return to_string(index);
}

namespace {
Tensor host_contiguous(const Tensor& t, DType dtype) {
  return t.to(Device::cpu()).to(dtype).contiguous();
}
}  // namespace

::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double atol,
                                         double rtol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << to_string(actual.shape()) << " != expected "
                                         << to_string(expected.shape());
  }
  const Tensor a = host_contiguous(actual, DType::Float64);
  const Tensor e = host_contiguous(expected, DType::Float64);
  const double* av = a.data_ptr<double>();
  const double* ev = e.data_ptr<double>();
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    bool ok;
    if (std::isnan(ev[i]) || std::isnan(av[i])) {
      ok = std::isnan(ev[i]) && std::isnan(av[i]);
    } else if (std::isinf(ev[i]) || std::isinf(av[i])) {
      ok = av[i] == ev[i];
    } else {
      ok = std::fabs(av[i] - ev[i]) <= atol + rtol * std::fabs(ev[i]);
    }
    if (!ok && bad++ == 0) first = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  std::ostringstream os;
  os.precision(17);
  os << bad << " of " << a.numel() << " elements differ (atol " << atol << ", rtol " << rtol
     << "); first at index " << index_string(first, a.shape()) << ": actual " << av[first]
     << ", expected " << ev[first];
  return ::testing::AssertionFailure() << os.str();
}

::testing::AssertionResult tensors_bitwise_equal(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape() || actual.dtype() != expected.dtype()) {
    return ::testing::AssertionFailure()
           << "shape/dtype " << to_string(actual.shape()) << " " << actual.dtype()
           << " != expected " << to_string(expected.shape()) << " " << expected.dtype();
  }
  const Tensor a = host_contiguous(actual, actual.dtype());
  const Tensor e = host_contiguous(expected, expected.dtype());
  const size_t width = a.element_size();
  const auto* ab = static_cast<const unsigned char*>(a.raw_data_ptr());
  const auto* eb = static_cast<const unsigned char*>(e.raw_data_ptr());
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(ab + i * width, eb + i * width, width) != 0 && bad++ == 0) first = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  std::ostringstream os;
  os.precision(17);
  os << bad << " of " << a.numel() << " elements differ in their bits; first at index "
     << index_string(first, a.shape()) << ": actual "
     << a.to(DType::Float64).data_ptr<double>()[first] << ", expected "
     << e.to(DType::Float64).data_ptr<double>()[first];
  return ::testing::AssertionFailure() << os.str();
}

}  // namespace tg::testing
