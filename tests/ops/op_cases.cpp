// The op-case table: the families of op_families.h, one call per op, and the inputs.
#include "op_cases.h"

#include "../../core/factory.h"
#include "op_families.h"

namespace tg::testing {

namespace {

Table build() {
  Table t;
  unary_family(t, "neg", Fill::Normal, [](const Tensor& x) { return neg(x); });
  unary_family(t, "exp", Fill::Normal, [](const Tensor& x) { return exp(x); });
  unary_family(t, "log", Fill::Positive, [](const Tensor& x) { return log(x); });
  unary_family(t, "sqrt", Fill::Positive, [](const Tensor& x) { return sqrt(x); });
  unary_family(t, "abs", Fill::Normal, [](const Tensor& x) { return abs(x); });
  unary_family(t, "sign", Fill::Normal, [](const Tensor& x) { return sign(x); });
  unary_family(t, "pow", Fill::Positive, [](const Tensor& x) { return pow(x, 2.5); });
  unary_family(t, "clamp", Fill::Normal, [](const Tensor& x) { return clamp(x, -0.5, 0.7); });
  unary_family(t, "relu", Fill::Normal, [](const Tensor& x) { return relu(x); });
  unary_family(t, "leaky_relu", Fill::Normal, [](const Tensor& x) { return leaky_relu(x, 0.1); });
  unary_family(t, "elu", Fill::Normal, [](const Tensor& x) { return elu(x, 0.7); });
  unary_family(t, "selu", Fill::Normal, [](const Tensor& x) { return selu(x); });
  unary_family(t, "sigmoid", Fill::Normal, [](const Tensor& x) { return sigmoid(x); });
  unary_family(t, "tanh", Fill::Normal, [](const Tensor& x) { return tanh(x); });
  unary_family(t, "gelu", Fill::Normal, [](const Tensor& x) { return gelu(x); });
  unary_family(t, "gelu", Fill::Normal,
               [](const Tensor& x) { return gelu(x, GeluApproximation::Tanh); });
  unary_family(t, "softplus", Fill::Normal, [](const Tensor& x) { return softplus(mul(x, 10.0)); });

  binary_family(t, "add", Fill::Normal, [](const Tensor& a, const Tensor& b) { return add(a, b); });
  binary_family(t, "sub", Fill::Normal, [](const Tensor& a, const Tensor& b) { return sub(a, b); });
  binary_family(t, "mul", Fill::Normal, [](const Tensor& a, const Tensor& b) { return mul(a, b); });
  binary_family(t, "div", Fill::Positive,
                [](const Tensor& a, const Tensor& b) { return div(a, b); });
  binary_family(t, "maximum", Fill::Normal,
                [](const Tensor& a, const Tensor& b) { return maximum(a, b); });
  binary_family(t, "minimum", Fill::Normal,
                [](const Tensor& a, const Tensor& b) { return minimum(a, b); });
  binary_family(t, "where", Fill::Normal, [](const Tensor& a, const Tensor& b) {
    return where(gt(a.detach(), b.detach()), mul(a, 2.0), b);
  });

  reduce_family(
      t, "sum", [](const Tensor& x, std::vector<int64_t> d, bool k) { return sum(x, d, k); }, true);
  reduce_family(
      t, "mean", [](const Tensor& x, std::vector<int64_t> d, bool k) { return mean(x, d, k); },
      false);
  reduce_family(
      t, "var", [](const Tensor& x, std::vector<int64_t> d, bool k) { return var(x, d, true, k); },
      false);
  reduce_family(
      t, "var", [](const Tensor& x, std::vector<int64_t> d, bool k) { return var(x, d, false, k); },
      false);
  reduce_family(
      t, "norm", [](const Tensor& x, std::vector<int64_t> d, bool k) { return norm(x, 2, d, k); },
      true);
  reduce_family(
      t, "norm", [](const Tensor& x, std::vector<int64_t> d, bool k) { return norm(x, 1, d, k); },
      true);
  reduce_family(
      t, "max",
      [](const Tensor& x, std::vector<int64_t> d, bool k) {
        return d.size() == 1 ? max(x, d[0], k).values : max(x);
      },
      false);
  reduce_family(
      t, "min",
      [](const Tensor& x, std::vector<int64_t> d, bool k) {
        return d.size() == 1 ? min(x, d[0], k).values : min(x);
      },
      false);
  reduce_family(
      t, "argmax",
      [](const Tensor& x, std::vector<int64_t> d, bool k) {
        return argmax(d.size() == 1 ? x : x.reshape({-1}), d.size() == 1 ? d[0] : 0,
                      k && d.size() == 1);
      },
      false, false);

  matmul_family(t);
  linear_family(t);
  conv_family(t);
  pool_family(t, "max_pool2d",
              [](const Tensor& x, Size2 k, Size2 s, Size2 p) { return max_pool2d(x, k, s, p); });
  pool_family(t, "avg_pool2d",
              [](const Tensor& x, Size2 k, Size2 s, Size2 p) { return avg_pool2d(x, k, s, p); });
  pool_option_cases(t);
  softmax_family(t, "softmax", [](const Tensor& x, int64_t d) { return softmax(x, d); });
  softmax_family(t, "log_softmax", [](const Tensor& x, int64_t d) { return log_softmax(x, d); });
  class_loss_family(t, "cross_entropy", [](const Tensor& x, const Tensor& y, Reduction r) {
    return cross_entropy(x, y, r);
  });
  class_loss_family(t, "cross_entropy", [](const Tensor& x, const Tensor& y, Reduction r) {
    return cross_entropy(x, y, r, 0.1);
  });
  class_loss_family(t, "nll_loss", [](const Tensor& x, const Tensor& y, Reduction r) {
    return nll_loss(log_softmax(x, 1), y, r);
  });
  class_loss_option_cases(t);
  pair_loss_family(t, "mse_loss",
                   [](const Tensor& a, const Tensor& b, Reduction r) { return mse_loss(a, b, r); });
  pair_loss_family(t, "binary_cross_entropy_with_logits",
                   [](const Tensor& a, const Tensor& b, Reduction r) {
                     return binary_cross_entropy_with_logits(a, sigmoid(b), r);
                   });
  index_families(t);
  normalization_families(t);
  resample_families(t);
  recurrent_families(t);
  return t;
}

}  // namespace

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = build().cases;
  return cases;
}

std::vector<Tensor> make_inputs(const OpCase& c, DType dtype, const Device& device,
                                bool requires_grad) {
  std::vector<Tensor> inputs;
  Generator generator(std::hash<std::string>{}(c.op + "/" + c.variant));
  for (const InputSpec& spec : c.inputs) {
    Tensor t;
    switch (spec.fill) {
      case Fill::Normal: t = randn(spec.shape, DType::Float64, &generator); break;
      case Fill::Positive: t = uniform(spec.shape, 0.5, 2.0, DType::Float64, &generator); break;
      case Fill::Classes:
        t = uniform(spec.shape, 0, static_cast<double>(spec.high), DType::Float64, &generator)
                .to(DType::Int64);
        break;
    }
    if (spec.fill != Fill::Classes) t = t.to(dtype);
    t = t.to(device);
    if (requires_grad && spec.fill != Fill::Classes && !spec.constant) t.requires_grad_();
    inputs.push_back(t);
  }
  return inputs;
}

}  // namespace tg::testing
