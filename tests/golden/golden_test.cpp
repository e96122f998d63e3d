// Our ops against PyTorch's values (label golden): forward outputs and input gradients
// for fixed inputs, on the CPU (float64) and, where a GPU is present, on CUDA (float64
// and float32).
#include <gtest/gtest.h>

#include <functional>

#include "../../core/ops.h"
#include "../support/golden.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

using Golden = std::map<std::string, Tensor>;

Golden load(const std::string& name) {
  return read_golden(std::string(TG_GOLDEN_DIR) + "/" + name + ".txt");
}

// Runs f on the golden inputs (moved to device/dtype), backward with the golden upstream
// gradient, and compares the output and every "grad_<input>" entry.
void check(const std::string& name, const std::vector<std::string>& inputs,
           const std::function<Tensor(const std::map<std::string, Tensor>&)>& f,
           const Device& device, DType dtype) {
  SCOPED_TRACE(name + " on " + device.str() + " " + dtype_name(dtype));
  const Golden golden = load(name);
  std::map<std::string, Tensor> args;
  for (const auto& [key, value] : golden) {
    Tensor t = value.dtype() == DType::Float64 ? value.to(dtype) : value;
    t = t.to(device);
    args[key] = t;
  }
  for (const std::string& in : inputs) args[in].requires_grad_();
  const Tensor out = f(args);
  const double tol = dtype == DType::Float64 ? 1e-10 : 2e-5;
  EXPECT_TRUE(tensors_close(out, golden.at("output"), tol, tol)) << "output";
  out.backward(args.at("grad_output").reshape(out.shape()));
  for (const std::string& in : inputs) {
    EXPECT_TRUE(tensors_close(args[in].grad(), golden.at("grad_" + in), tol, tol))
        << "grad of " << in;
  }
}

void check_everywhere(const std::string& name, const std::vector<std::string>& inputs,
                      const std::function<Tensor(const std::map<std::string, Tensor>&)>& f) {
  check(name, inputs, f, Device::cpu(), DType::Float64);
  check(name, inputs, f, Device::cpu(), DType::Float32);
  if (cuda_is_available()) {
    check(name, inputs, f, Device::cuda(), DType::Float64);
    check(name, inputs, f, Device::cuda(), DType::Float32);
  }
}

TEST(Golden, Conv2d) {
  check_everywhere("conv2d", {"x", "weight", "bias"}, [](const auto& a) {
    return conv2d(a.at("x"), a.at("weight"), a.at("bias"), {2, 1}, {1, 1}, {1, 2}, 1);
  });
  check_everywhere("conv2d_groups", {"x", "weight", "bias"}, [](const auto& a) {
    return conv2d(a.at("x"), a.at("weight"), a.at("bias"), {1, 1}, {1, 0}, {1, 1}, 2);
  });
}

TEST(Golden, Conv2dPaddingSame) {
  // Odd total paddings (even kernels, dilation 3): the extra row/column at the bottom/right.
  check_everywhere("conv2d_same_odd", {"x", "weight", "bias"}, [](const auto& a) {
    return conv2d(a.at("x"), a.at("weight"), a.at("bias"), {1, 1}, ConvPadding::Same);
  });
  check_everywhere("conv2d_same_dilated", {"x", "weight", "bias"}, [](const auto& a) {
    return conv2d(a.at("x"), a.at("weight"), a.at("bias"), {1, 1}, ConvPadding::Same, {2, 3});
  });
}

TEST(Golden, GeluTanh) {
  check_everywhere("gelu_tanh", {"x"}, [](const auto& a) {
    return gelu(mul(a.at("x"), 2.0), GeluApproximation::Tanh);
  });
}

// The remedies for vanishing gradients: layer_norm (affine, over two trailing dims), elu
// with alpha 0.7, selu.
TEST(Golden, LayerNormEluSelu) {
  check_everywhere("layer_norm", {"x", "weight", "bias"}, [](const auto& a) {
    return layer_norm(a.at("x"), {4, 5}, a.at("weight"), a.at("bias"), 1e-5);
  });
  check_everywhere("elu", {"x"}, [](const auto& a) { return elu(mul(a.at("x"), 2.0), 0.7); });
  check_everywhere("selu", {"x"}, [](const auto& a) { return selu(mul(a.at("x"), 2.0)); });
}

TEST(Golden, Embedding) {
  check_everywhere("embedding", {"weight"},
                   [](const auto& a) { return embedding(a.at("weight"), a.at("indices")); });
  check_everywhere("embedding_padding", {"weight"},
                   [](const auto& a) { return embedding(a.at("weight"), a.at("indices"), 7); });
}

TEST(Golden, Conv1d) {
  check_everywhere("conv1d", {"x", "weight", "bias"}, [](const auto& a) {
    return conv1d(a.at("x"), a.at("weight"), a.at("bias"), 2, 1, 2);
  });
  check_everywhere("conv1d_groups_unbatched", {"x", "weight", "bias"}, [](const auto& a) {
    return conv1d(a.at("x"), a.at("weight"), a.at("bias"), 1, 2, 1, 2);
  });
}

TEST(Golden, AdaptiveAvgPool2d) {
  check_everywhere("adaptive_avg_pool2d", {"x"}, [](const auto& a) {
    return adaptive_avg_pool2d(a.at("x"), {3, 4});
  });
  check_everywhere("adaptive_avg_pool2d_grow", {"x"}, [](const auto& a) {
    return adaptive_avg_pool2d(a.at("x"), {3, 1});
  });
}

TEST(Golden, Interpolate) {
  auto by = [](Size2 size, std::array<double, 2> scale, InterpolateMode mode, bool corners) {
    InterpolateOptions o;
    o.size = size;
    o.scale_factor = scale;
    o.mode = mode;
    o.align_corners = corners;
    return [o](const std::map<std::string, Tensor>& a) { return interpolate(a.at("x"), o); };
  };
  using M = InterpolateMode;
  check_everywhere("interpolate_nearest", {"x"}, by({7, 4}, {0, 0}, M::Nearest, false));
  check_everywhere("interpolate_nearest_scale", {"x"}, by({0, 0}, {2.0, 1.5}, M::Nearest, false));
  check_everywhere("interpolate_bilinear", {"x"}, by({7, 3}, {0, 0}, M::Bilinear, false));
  check_everywhere("interpolate_bilinear_corners", {"x"}, by({4, 8}, {0, 0}, M::Bilinear, true));
  check_everywhere("interpolate_bilinear_scale", {"x"}, by({0, 0}, {1.5, 0.5}, M::Bilinear, false));
}

TEST(Golden, BatchNormOnSequences) {
  check_everywhere("batch_norm_ncl", {"x", "gamma", "beta"}, [](const auto& a) {
    return batch_norm(a.at("x"), Tensor(), Tensor(), a.at("gamma"), a.at("beta"), true);
  });
}

TEST(Golden, CrossEntropyWithLabelSmoothing) {
  check_everywhere("cross_entropy", {"logits"}, [](const auto& a) {
    return cross_entropy(a.at("logits"), a.at("target"), Reduction::Mean, 0.1);
  });
}

TEST(Golden, CrossEntropyAndNllOptions) {
  check_everywhere("cross_entropy_weight_ignore", {"x"}, [](const auto& a) {
    ClassLossOptions o;
    o.weight = a.at("weight");
    o.label_smoothing = 0.2;
    return cross_entropy(a.at("x"), a.at("target"), o);
  });
  check_everywhere("cross_entropy_kdim", {"x"}, [](const auto& a) {
    ClassLossOptions o;
    o.weight = a.at("weight");
    o.reduction = Reduction::None;
    return cross_entropy(a.at("x"), a.at("target"), o);
  });
  check_everywhere("cross_entropy_probabilities", {"x"}, [](const auto& a) {
    ClassLossOptions o;
    o.weight = a.at("weight");
    o.label_smoothing = 0.1;
    return cross_entropy(a.at("x"), a.at("probs"), o);
  });
  check_everywhere("nll_loss_weight_ignore_kdim", {"x"}, [](const auto& a) {
    ClassLossOptions o;
    o.weight = a.at("weight");
    o.ignore_index = 7;
    o.reduction = Reduction::Sum;
    return nll_loss(a.at("x"), a.at("target"), o);
  });
}

TEST(Golden, LogSoftmax) {
  check_everywhere("log_softmax", {"x"}, [](const auto& a) { return log_softmax(a.at("x"), 1); });
}

TEST(Golden, BatchedMatmul) {
  check_everywhere("batched_matmul", {"a", "b"},
                   [](const auto& a) { return matmul(a.at("a"), a.at("b")); });
}

TEST(Golden, MatmulBroadcastsAndTakesVectors) {
  check_everywhere("matmul_broadcast", {"a", "b"},
                   [](const auto& a) { return matmul(a.at("a"), a.at("b")); });
  check_everywhere("matmul_vector", {"a", "b"},
                   [](const auto& a) { return matmul(a.at("a"), a.at("b")); });
}

TEST(Golden, PoolingOptions) {
  check_everywhere("max_pool2d_dilation_ceil", {"x"}, [](const auto& a) {
    return max_pool2d(a.at("x"), {3, 3}, {2, 2}, {1, 1}, {2, 2}, true);
  });
  check_everywhere("avg_pool2d_ceil_exclude_pad", {"x"}, [](const auto& a) {
    return avg_pool2d(a.at("x"), {3, 3}, {2, 2}, {1, 1}, true, false);
  });
  check_everywhere("avg_pool2d_ceil_include_pad", {"x"}, [](const auto& a) {
    return avg_pool2d(a.at("x"), {2, 2}, {2, 2}, {1, 1}, true, true);
  });
}

TEST(Golden, MaxPool2d) {
  check_everywhere("max_pool2d", {"x"}, [](const auto& a) {
    return max_pool2d(a.at("x"), {3, 3}, {2, 2}, {1, 1});
  });
}

}  // namespace
}  // namespace tg::testing
