// Factory functions: new tensors, filled or random.
//
// Random factories draw from `generator` when given, else from the default generator of
// the target device (context(device).generator()); each call reserves one offset, and
// the values depend only on the generator's (seed, offset), so CPU and CUDA agree.
#pragma once

#include <vector>

#include "../foundation/config.h"
#include "generator.h"
#include "tensor.h"

TG_API_BEGIN

namespace tg {

Tensor empty(const Shape& shape, const TensorOptions& options = {});
Tensor zeros(const Shape& shape, const TensorOptions& options = {});
Tensor ones(const Shape& shape, const TensorOptions& options = {});
Tensor full(const Shape& shape, double value, const TensorOptions& options = {});
Tensor zeros_like(const Tensor& like);

// start, start+step, ... below end (above end for a negative step), as in torch.arange.
Tensor arange(double start, double end, double step = 1.0, const TensorOptions& options = {});
Tensor arange(double end, const TensorOptions& options = {});

// A tensor of `shape` (default: {values.size()}) holding `values` in row-major order,
// with the dtype of T, on options.device() (options.dtype() must be T's dtype).
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                   const TensorOptions& options = TensorOptions(dtype_of_v<T>));
template <typename T>
Tensor from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{static_cast<int64_t>(values.size())});
}

// Uniform on [low, high), normal(mean, std), Bernoulli(p) in {0, 1}.
Tensor uniform(const Shape& shape, double low, double high, const TensorOptions& options = {},
               Generator* generator = nullptr);
Tensor normal(const Shape& shape, double mean, double std, const TensorOptions& options = {},
              Generator* generator = nullptr);
Tensor bernoulli(const Shape& shape, double p, const TensorOptions& options = {},
                 Generator* generator = nullptr);
inline Tensor rand(const Shape& shape, const TensorOptions& options = {},
                   Generator* generator = nullptr) {
  return uniform(shape, 0.0, 1.0, options, generator);
}
inline Tensor randn(const Shape& shape, const TensorOptions& options = {},
                    Generator* generator = nullptr) {
  return normal(shape, 0.0, 1.0, options, generator);
}

}  // namespace tg

TG_API_END
