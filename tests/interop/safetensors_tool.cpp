// The C++ side of the safetensors interoperability test (tests/interop/check_safetensors.py):
//   safetensors_tool write DIR   writes DIR/tamegrad.safetensors (every dtype, 0-d and
//                                empty tensors, dotted and unicode names, values Python can
//                                recompute), DIR/mlp.safetensors and DIR/cnn.safetensors
//                                (the MNIST models' weights), and DIR/<model>_io.safetensors
//                                (an input and the model's eval-mode output on it)
//                                and DIR/halves.safetensors (BF16 and F16 of kHalfValues)
//   safetensors_tool check FILE  checks a file Python's safetensors wrote (python.safetensors)
//   safetensors_tool check-halves FILE  checks Python's python_halves.safetensors: py.bf16
//                                and py.f16, kHalfValues rounded by PyTorch, bit for bit
//   safetensors_tool accepts FILE  reads any file: exit 0 when it is accepted, 3 when refused
//                                (the message printed), for comparing the two readers
// Exit 0 when everything holds; 1 with a message otherwise.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "../../examples/mnist_models.h"
#include "../../tamegrad.h"

namespace {

using namespace tg;

// 0, 1, 2, ... of `shape` in `dtype` (uint8 wraps at 256), scaled by `scale`.
Tensor counting(const Shape& shape, DType dtype, double scale) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return mul(arange(static_cast<double>(n), DType::Float64).reshape(shape), scale).to(dtype);
}

// Floats whose rounding to bfloat16 and float16 is worth comparing with PyTorch's: ties to
// even in both, a float subnormal, float16's overflow tie (65520), the largest floats, signed
// zero and infinity; all exact in float32 (tests/interop/check_safetensors.py lists the same).
Tensor half_values() {
  return from_vector<float>({0.0f, 0.3333333432674408f, -0.6666666865348816f,
                             std::ldexp(1.0f, -133), 65520.0f, 1.00390625f, 1.01171875f,
                             1.5f * std::ldexp(1.0f, 127), INFINITY, -0.0f, 1.0009765625f});
}

NamedTensors every_kind() {
  return {{"layer.0.weight", counting({2, 3}, DType::Float32, 0.5)},
          {"stats.running_var", counting({4}, DType::Float64, 0.25)},
          {"labels", from_vector<int64_t>({-1, 1099511627776, 7})},
          {"image", counting({2, 2, 2}, DType::UInt8, 30)},
          {"count", full({}, 42.0, DType::Int64)},
          {"scalar", full({}, 3.25, DType::Float64)},
          {"empty", zeros({0, 4})},
          {"größe.λ", from_vector<float>({1.5f, -2.0f})}};
}

int write(const std::string& dir) {
  save_safetensors(dir + "/tamegrad.safetensors", every_kind(), {{"written_by", "tamegrad"}});
  for (const std::string model : {"mlp", "cnn"}) {
    manual_seed(11);
    std::shared_ptr<layers::Sequential> net =
        model == "mlp" ? examples::mnist_mlp() : examples::mnist_cnn();
    // A few training-mode passes give BatchNorm running statistics that are not 0 and 1.
    Generator g(5);
    for (int i = 0; i < 3; ++i) net->forward(randn({8, 1, 28, 28}, {}, &g));
    net->eval();
    const Tensor x = randn({4, 1, 28, 28}, {}, &g);
    NoGradGuard no_grad;
    const Tensor y = net->forward(x);
    layers::save_model(*net, dir + "/" + model + ".safetensors", {{"model", model}});
    save_safetensors(dir + "/" + model + "_io.safetensors", {{"x", x}, {"y", y}});
  }
  save_safetensors(dir + "/halves.safetensors", {{"half.bf16", half_values().to(DType::BFloat16)},
                                                 {"half.f16", half_values().to(DType::Float16)}});
  std::printf("safetensors_tool: wrote %s/{tamegrad,mlp,cnn,mlp_io,cnn_io,halves}.safetensors\n",
              dir.c_str());
  return 0;
}

// What tests/interop/check_safetensors.py writes.
int check(const std::string& path) {
  const SafetensorsContents file = load_safetensors(path);
  const NamedTensors expected{{"py.weight", counting({3, 2}, DType::Float32, 0.5)},
                              {"py.ids", from_vector<int64_t>({-5, 4398046511104})},
                              {"py.bytes", counting({5}, DType::UInt8, 51)},
                              {"py.scalar", full({}, -0.125, DType::Float64)},
                              {"py.empty", zeros({3, 0}, DType::Float64)},
                              {"py.ñame", from_vector<float>({0.25f})}};
  int bad = 0;
  for (const auto& [name, t] : expected) {
    const Tensor got = find_state(file.tensors, name);
    if (!got.defined() || got.dtype() != t.dtype() || got.shape() != t.shape() ||
        (t.numel() > 0 &&
         sum(abs(sub(got.to(DType::Float64), t.to(DType::Float64)))).item<double>() != 0)) {
      std::fprintf(stderr, "safetensors_tool: %s: tensor '%s' differs from what Python wrote\n",
                   path.c_str(), name.c_str());
      ++bad;
    }
  }
  if (file.tensors.size() != expected.size()) {
    std::fprintf(stderr, "safetensors_tool: %s holds %zu tensors, expected %zu\n", path.c_str(),
                 file.tensors.size(), expected.size());
    ++bad;
  }
  bool metadata_ok = false;
  for (const auto& [k, v] : file.metadata) metadata_ok |= k == "written_by" && v == "python";
  if (!metadata_ok) {
    std::fprintf(stderr, "safetensors_tool: %s: metadata written_by=python missing\n",
                 path.c_str());
    ++bad;
  }
  if (bad == 0) std::printf("safetensors_tool: %s read as Python wrote it\n", path.c_str());
  return bad == 0 ? 0 : 1;
}

// What tests/interop/check_safetensors.py writes with PyTorch's rounding of the same values.
int check_halves(const std::string& path) {
  const SafetensorsContents file = load_safetensors(path);
  int bad = 0;
  for (const auto& [name, dtype] : {std::pair<std::string, DType>{"py.bf16", DType::BFloat16},
                                    std::pair<std::string, DType>{"py.f16", DType::Float16}}) {
    const Tensor got = find_state(file.tensors, name);
    const Tensor ours = half_values().to(dtype);
    if (!got.defined() || got.dtype() != dtype || got.shape() != ours.shape() ||
        std::memcmp(got.raw_data_ptr(), ours.raw_data_ptr(), 2 * ours.numel()) != 0) {
      std::fprintf(stderr,
                   "safetensors_tool: %s: '%s' is not what tamegrad rounds: %s vs ours %s\n",
                   path.c_str(), name.c_str(), got.defined() ? got.str().c_str() : "missing",
                   ours.str().c_str());
      ++bad;
    }
  }
  if (bad == 0)
    std::printf("safetensors_tool: %s: PyTorch's BF16 and F16 bits are ours\n", path.c_str());
  return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(
        stderr,
        "usage: safetensors_tool write DIR | check FILE | check-halves FILE | accepts FILE\n");
    return 2;
  }
  if (std::string(argv[1]) == "accepts") {
    try {
      load_safetensors(argv[2]);
      return 0;
    } catch (const Error& e) {
      std::printf("%s\n", e.what());
      return 3;
    }
  }
  try {
    const std::string mode = argv[1];
    if (mode == "write") return write(argv[2]);
    if (mode == "check") return check(argv[2]);
    if (mode == "check-halves") return check_halves(argv[2]);
    std::fprintf(stderr, "safetensors_tool: unknown mode '%s'\n", argv[1]);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "safetensors_tool: %s\n", e.what());
    return 1;
  }
}
