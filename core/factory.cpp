// Factory functions: allocation, constant and arange fills, host vectors, random draws.
#include "factory.h"

#include <cmath>
#include <cstring>

#include "../kernels/fill.h"
#include "../kernels/random.h"
#include "context.h"
#include "dispatch.h"
#include "storage.h"

namespace tg {

Tensor empty(const Shape& shape, const TensorOptions& options) {
  const int64_t numel = shape_numel(shape);
  const auto item_size = static_cast<int64_t>(element_size(options.dtype()));
  TG_CHECK(numel <= INT64_MAX / item_size, "empty: shape ", shape, " of ", options.dtype(),
           " is too large");
  auto storage =
      std::make_shared<Storage>(static_cast<size_t>(numel * item_size), options.device());
  return Tensor(std::move(storage), shape, contiguous_strides(shape), 0, options.dtype());
}

Tensor full(const Shape& shape, double value, const TensorOptions& options) {
  Tensor t = empty(shape, options);
  t.fill_(value);
  return t;
}

Tensor zeros(const Shape& shape, const TensorOptions& options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, const TensorOptions& options) { return full(shape, 1.0, options); }
Tensor zeros_like(const Tensor& like) {
  return zeros(like.shape(), TensorOptions(like.dtype()).device(like.device()));
}

Tensor arange(double start, double end, double step, const TensorOptions& options) {
  TG_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step), "arange: start ",
           start, ", end ", end, " and step ", step, " must be finite");
  TG_CHECK(step != 0, "arange: step must be non-zero");
  const double count = std::ceil((end - start) / step);
  TG_CHECK(count < 9.0e15, "arange: ", count, " elements is too many");
  Tensor t = empty({count > 0 ? static_cast<int64_t>(count) : 0}, options);
  if (t.numel() == 0) return t;
  const kernels::FillArgs args{t.raw_data_ptr(), t.dtype(), t.numel(), start, step};
  TG_ON_DEVICE(t.device(), kernels::cpu::fill(args), stream, kernels::cuda::fill(args, stream));
  return t;
}

Tensor arange(double end, const TensorOptions& options) { return arange(0.0, end, 1.0, options); }

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, const TensorOptions& options) {
  TG_CHECK(options.dtype() == dtype_of_v<T>, "from_vector: the values are ",
           dtype_name(dtype_of_v<T>), " but dtype ", options.dtype(), " was asked for");
  const int64_t numel = shape_numel(shape);
  TG_CHECK(numel == static_cast<int64_t>(values.size()), "from_vector: ", values.size(),
           " values do not fill shape ", shape, " (", numel, " elements)");
  Tensor host = empty(shape, TensorOptions(dtype_of_v<T>));
  if (numel > 0) std::memcpy(host.raw_data_ptr(), values.data(), values.size() * sizeof(T));
  return host.to(options.device());
}

// Exported (Note [exported symbols], config.h).
template TG_EXPORT Tensor from_vector(const std::vector<float>&, const Shape&,
                                      const TensorOptions&);
template TG_EXPORT Tensor from_vector(const std::vector<double>&, const Shape&,
                                      const TensorOptions&);
template TG_EXPORT Tensor from_vector(const std::vector<int64_t>&, const Shape&,
                                      const TensorOptions&);
template TG_EXPORT Tensor from_vector(const std::vector<uint8_t>&, const Shape&,
                                      const TensorOptions&);
template TG_EXPORT Tensor from_vector(const std::vector<bfloat16>&, const Shape&,
                                      const TensorOptions&);
template TG_EXPORT Tensor from_vector(const std::vector<float16>&, const Shape&,
                                      const TensorOptions&);

namespace {

Tensor random_tensor(const char* op, const Shape& shape, const TensorOptions& options,
                     Generator* generator, kernels::Distribution distribution, double a, double b) {
  TG_CHECK(!is_half(options.dtype()), op, ": draws are made in float32 or float64, not ",
           options.dtype(), " (draw in float32, then .to(", options.dtype(), "))");
  TG_CHECK(is_floating(options.dtype()) || distribution == kernels::Distribution::Bernoulli, op,
           ": dtype ", options.dtype(), " is not a floating-point type");
  Tensor t = empty(shape, options);
  Generator& source = generator != nullptr ? *generator : context(options.device()).generator();
  const RandomState state = context(options.device()).reserve_random(source);
  const kernels::RandomArgs args{t.raw_data_ptr(), t.dtype(),    t.numel(), state.seed,
                                 state.offset,     distribution, a,         b,
                                 state.offset_base};
  TG_ON_DEVICE(t.device(), kernels::cpu::random(args), stream, kernels::cuda::random(args, stream));
  return t;
}

}  // namespace

Tensor uniform(const Shape& shape, double low, double high, const TensorOptions& options,
               Generator* generator) {
  TG_CHECK(std::isfinite(low) && std::isfinite(high) && low <= high,
           "uniform: need finite low <= high, got low ", low, ", high ", high);
  return random_tensor("uniform", shape, options, generator, kernels::Distribution::Uniform, low,
                       high);
}

Tensor normal(const Shape& shape, double mean, double std, const TensorOptions& options,
              Generator* generator) {
  TG_CHECK(std::isfinite(mean) && std::isfinite(std) && std >= 0,
           "normal: need a finite mean and std >= 0, got mean ", mean, ", std ", std);
  return random_tensor("normal", shape, options, generator, kernels::Distribution::Normal, mean,
                       std);
}

Tensor bernoulli(const Shape& shape, double p, const TensorOptions& options, Generator* generator) {
  TG_CHECK(p >= 0 && p <= 1, "bernoulli: p must be in [0, 1], got ", p);
  return random_tensor("bernoulli", shape, options, generator, kernels::Distribution::Bernoulli, p,
                       0.0);
}

}  // namespace tg
