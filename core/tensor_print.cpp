// Readable printing, in PyTorch's style: tensor([[1.0000, 2.0000]], dtype=float32).
// Tensors over 1000 elements show the first and last 3 entries of each long dimension.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "../kernels/half.h"
#include "tensor.h"

namespace tg {

namespace {

constexpr int64_t kSummarizeAbove = 1000;
constexpr int64_t kEdgeItems = 3;

// The indices of one dimension that are shown; -1 stands for the "..." marker.
std::vector<int64_t> shown_indices(int64_t size, bool summarize) {
  std::vector<int64_t> indices;
  if (summarize && size > 2 * kEdgeItems) {
    for (int64_t i = 0; i < kEdgeItems; ++i) indices.push_back(i);
    indices.push_back(-1);
    for (int64_t i = size - kEdgeItems; i < size; ++i) indices.push_back(i);
  } else {
    for (int64_t i = 0; i < size; ++i) indices.push_back(i);
  }
  return indices;
}

class Printer {
 public:
  Printer(const Tensor& host, bool summarize) : t_{host}, summarize_(summarize) {}

  std::string format(size_t indent) {
    std::vector<double> values;
    visit(0, 0, &values);
    if (!t_.dtype_is_integral()) choose_float_style(values);
    width_ = 0;
    for (double v : values) width_ = std::max(width_, text(v).size());
    std::ostringstream os;
    format_dim(os, 0, 0, indent);
    return os.str();
  }

 private:
  void visit(int64_t dim, int64_t offset, std::vector<double>* values) {
    if (dim == t_.tensor.dim()) {
      values->push_back(t_.value(offset));
      return;
    }
    for (int64_t i : shown_indices(t_.tensor.size(dim), summarize_)) {
      if (i >= 0) visit(dim + 1, offset + i * t_.tensor.stride(dim), values);
    }
  }

  // Fixed with 4 decimals; "1." style when every value is a whole number; scientific
  // when values are huge or tiny.
  void choose_float_style(const std::vector<double>& values) {
    double max_abs = 0, min_abs = INFINITY;
    integral_ = true;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      max_abs = std::max(max_abs, std::fabs(v));
      if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
      integral_ = integral_ && v == std::floor(v);
    }
    scientific_ = max_abs >= 1e8 || (min_abs < 1e-4 && !integral_);
    integral_ = integral_ && max_abs < 1e8;
  }

  std::string text(double v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buffer[64];
    if (t_.dtype_is_integral()) {
      std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(v));
    } else if (integral_) {
      std::snprintf(buffer, sizeof buffer, "%.0f.", v);
    } else {
      std::snprintf(buffer, sizeof buffer, scientific_ ? "%.4e" : "%.4f", v);
    }
    return buffer;
  }

  std::string padded(double v) const {
    std::string s = text(v);
    return std::string(width_ > s.size() ? width_ - s.size() : 0, ' ') + s;
  }

  void format_dim(std::ostringstream& os, int64_t dim, int64_t offset, size_t indent) {
    const int64_t ndim = t_.tensor.dim();
    if (dim == ndim) {
      os << padded(t_.value(offset));
      return;
    }
    os << "[";
    const std::string row_break =
        "," + std::string(static_cast<size_t>(ndim - dim - 1), '\n') +
        (dim + 1 < ndim ? std::string(indent + dim + 1, ' ') : std::string(" "));
    bool first = true;
    for (int64_t i : shown_indices(t_.tensor.size(dim), summarize_)) {
      if (!first) os << (dim + 1 < ndim ? row_break : std::string(", "));
      first = false;
      if (i < 0) {
        os << "...";
      } else {
        format_dim(os, dim + 1, offset + i * t_.tensor.stride(dim), indent);
      }
    }
    os << "]";
  }

  struct HostView {
    const Tensor& tensor;
    bool dtype_is_integral() const {
      return !is_floating(tensor.dtype()) && !is_half(tensor.dtype());
    }
    double value(int64_t offset) const {
      const void* base = tensor.raw_data_ptr();
      switch (tensor.dtype()) {
        case DType::Float32: return static_cast<const float*>(base)[offset];
        case DType::Float64: return static_cast<const double*>(base)[offset];
        case DType::Int64: return static_cast<double>(static_cast<const int64_t*>(base)[offset]);
        case DType::UInt8: return static_cast<const uint8_t*>(base)[offset];
        case DType::BFloat16:
          return kernels::half_to_float(static_cast<const bfloat16*>(base)[offset]);
        case DType::Float16:
          return kernels::half_to_float(static_cast<const float16*>(base)[offset]);
      }
      return 0;
    }
  } t_;
  bool summarize_;
  bool scientific_ = false;
  bool integral_ = false;
  size_t width_ = 0;
};

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const Tensor host = detach().to(Device::cpu());
  std::ostringstream os;
  os << "tensor(";
  if (numel() == 0) {
    os << "[], size=" << to_string(shape());
  } else {
    os << Printer(host, numel() > kSummarizeAbove).format(7);
  }
  os << ", dtype=" << dtype();
  if (device().is_cuda()) os << ", device=" << device();
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& tensor) { return os << tensor.str(); }

}  // namespace tg
