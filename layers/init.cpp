// Initialisers: the formulas of layers/init.h; orthogonal's QR is Householder in float64.
#include "init.h"

#include <cmath>
#include <vector>

#include "../core/autograd.h"
#include "../core/factory.h"

namespace tg::layers::init {

namespace {

void write(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  Tensor(t).copy_(values);
}

TensorOptions options_of(const Tensor& t, const char* what) {
  TG_CHECK(t.defined() && is_floating(t.dtype()), "init.", what,
           ": needs a defined floating-point tensor, got ",
           t.defined() ? dtype_name(t.dtype()) : "an undefined tensor");
  return TensorOptions(t.dtype()).device(t.device());
}

double fan(const Tensor& t, FanMode mode) {
  const auto [in, out] = fans(t);
  return static_cast<double>(mode == FanMode::FanIn ? in : out);
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::SELU: return 3.0 / 4.0;
  }
  return 1.0;
}

std::pair<int64_t, int64_t> fans(const Tensor& weight) {
  TG_CHECK(weight.defined() && weight.dim() >= 2,
           "init: fan in and fan out need a weight of at least 2 dimensions, got shape ",
           weight.defined() ? weight.shape() : Shape{});
  int64_t receptive = 1;
  for (int64_t d = 2; d < weight.dim(); ++d) receptive *= weight.size(d);
  return {weight.size(1) * receptive, weight.size(0) * receptive};
}

void uniform_(const Tensor& t, double low, double high, Generator* generator) {
  TG_CHECK(low <= high, "init.uniform_: low ", low, " above high ", high);
  write(t, uniform(t.shape(), low, high, options_of(t, "uniform_"), generator));
}

void normal_(const Tensor& t, double mean, double std, Generator* generator) {
  TG_CHECK(std >= 0, "init.normal_: std must be >= 0, got ", std);
  write(t, normal(t.shape(), mean, std, options_of(t, "normal_"), generator));
}

void constant_(const Tensor& t, double value) {
  options_of(t, "constant_");
  NoGradGuard no_grad;
  Tensor(t).fill_(value);
}
void zeros_(const Tensor& t) { constant_(t, 0.0); }
void ones_(const Tensor& t) { constant_(t, 1.0); }

void xavier_uniform_(const Tensor& t, double gain, Generator* generator) {
  const auto [in, out] = fans(t);
  const double bound = std::sqrt(3.0) * gain * std::sqrt(2.0 / static_cast<double>(in + out));
  uniform_(t, -bound, bound, generator);
}

void xavier_normal_(const Tensor& t, double gain, Generator* generator) {
  const auto [in, out] = fans(t);
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), generator);
}

void kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity,
                      Generator* generator) {
  const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(fan(t, mode));
  uniform_(t, -bound, bound, generator);
}

void layer_default_(const Tensor& weight, const Tensor& bias, Generator* generator) {
  kaiming_uniform_(weight, std::sqrt(5.0), FanMode::FanIn, Nonlinearity::LeakyReLU, generator);
  if (!bias.defined()) return;
  const double bound = 1.0 / std::sqrt(static_cast<double>(fans(weight).first));
  uniform_(bias, -bound, bound, generator);
}

void kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity,
                     Generator* generator) {
  normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(fan(t, mode)), generator);
}

void lecun_uniform_(const Tensor& t, Generator* generator) {
  const double bound = std::sqrt(3.0 / fan(t, FanMode::FanIn));
  uniform_(t, -bound, bound, generator);
}

void lecun_normal_(const Tensor& t, Generator* generator) {
  normal_(t, 0.0, 1.0 / std::sqrt(fan(t, FanMode::FanIn)), generator);
}

// Note [orthogonal init]: as PyTorch: draw a (rows, cols) normal matrix, take the QR of it
// (of its transpose when rows < cols, so the factored matrix is tall), multiply Q's columns
// by the signs of R's diagonal (making the factorisation unique, so Q is uniform over the
// orthogonal group), transpose back. Householder reflections in float64 on the host: an
// initialiser runs once, and the draw itself still comes from the device's generator.
void orthogonal_(const Tensor& t, double gain, Generator* generator) {
  const TensorOptions options = options_of(t, "orthogonal_");
  TG_CHECK(t.dim() >= 2, "init.orthogonal_: needs at least 2 dimensions, got shape ", t.shape());
  if (t.numel() == 0) return;
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  const Tensor drawn =
      normal({rows, cols}, 0.0, 1.0, options, generator).to(DType::Float64).to(Device::cpu());
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, n = wide ? rows : cols;  // A is m x n, m >= n
  std::vector<double> a(static_cast<size_t>(m * n));
  const double* src = drawn.data_ptr<double>();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) a[wide ? j * n + i : i * n + j] = src[i * cols + j];
  auto at = [&](std::vector<double>& mat, int64_t i, int64_t j) -> double& {
    return mat[static_cast<size_t>(i * n + j)];
  };
  std::vector<std::vector<double>> reflectors;  // v_k, of length m - k, |v_k| = 1
  std::vector<double> r_diagonal(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    double norm = 0;
    for (int64_t i = k; i < m; ++i) norm += at(a, i, k) * at(a, i, k);
    norm = std::sqrt(norm);
    const double alpha = at(a, k, k) > 0 ? -norm : norm;
    std::vector<double> v(static_cast<size_t>(m - k));
    for (int64_t i = k; i < m; ++i) v[i - k] = at(a, i, k);
    v[0] -= alpha;
    double v_norm = 0;
    for (double x : v) v_norm += x * x;
    v_norm = std::sqrt(v_norm);
    if (v_norm > 0)
      for (double& x : v) x /= v_norm;
    for (int64_t j = k; j < n; ++j) {  // A[k:, k:] -= 2 v (v^T A[k:, k:])
      double dot = 0;
      for (int64_t i = k; i < m; ++i) dot += v[i - k] * at(a, i, j);
      for (int64_t i = k; i < m; ++i) at(a, i, j) -= 2 * v[i - k] * dot;
    }
    r_diagonal[k] = at(a, k, k);
    reflectors.push_back(std::move(v));
  }
  std::vector<double> q(static_cast<size_t>(m * n), 0.0);  // thin Q = H_0 ... H_{n-1} I[:, :n]
  for (int64_t j = 0; j < n; ++j) at(q, j, j) = 1;
  for (int64_t k = n - 1; k >= 0; --k) {
    const std::vector<double>& v = reflectors[k];
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t i = k; i < m; ++i) dot += v[i - k] * at(q, i, j);
      for (int64_t i = k; i < m; ++i) at(q, i, j) -= 2 * v[i - k] * dot;
    }
  }
  Tensor result = empty({rows, cols}, TensorOptions(DType::Float64));
  double* out = result.data_ptr<double>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double sign = r_diagonal[j] < 0 ? -1.0 : 1.0;
      const double value = gain * sign * at(q, i, j);
      out[wide ? j * cols + i : i * cols + j] = value;
    }
  }
  write(t, result.view(t.shape()));
}

}  // namespace tg::layers::init
