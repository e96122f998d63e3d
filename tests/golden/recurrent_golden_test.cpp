// RNN, LSTM, GRU and their cells against PyTorch (tests/golden/make_recurrent_golden.py):
// PyTorch's state_dict loads strictly into our module, and the outputs, final states and
// the gradients through time of inputs, initial states and every parameter match, on the
// CPU (float64, float32) and on CUDA where present.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "../../core/ops.h"
#include "../../layers/recurrent.h"
#include "../support/golden.h"
#include "../support/parity.h"

namespace tg::testing {
namespace {

using Golden = std::map<std::string, Tensor>;
using layers::RecurrentKind;
using layers::RecurrentOptions;

struct Outputs {
  Tensor output, h_n, c_n;
};
// Runs the module on (x, h0, c0) as given (undefined where the file has none).
using Run =
    std::function<Outputs(layers::Module&, const Tensor& x, const Tensor& h0, const Tensor& c0)>;

Tensor entry(const Golden& golden, const std::string& key, const Device& device, DType dtype) {
  auto found = golden.find(key);
  return found == golden.end() ? Tensor() : found->second.to(dtype).to(device);
}

void check(const std::string& name, layers::Module& module, const Run& run, const Device& device,
           DType dtype) {
  SCOPED_TRACE(name + " on " + device.str() + " " + dtype_name(dtype));
  const Golden golden = read_golden(std::string(TG_GOLDEN_DIR) + "/" + name + ".txt");
  module.to(device);
  module.to(dtype);
  NamedTensors state;
  for (const auto& [key, value] : module.named_parameters()) {
    state.emplace_back(key, golden.at(key));
  }
  module.load_state_dict(state);  // strict: every PyTorch name is ours
  for (Tensor& p : module.parameters()) p.set_grad(Tensor());
  Tensor x = entry(golden, "x", device, dtype).requires_grad_();
  Tensor h0 = entry(golden, "h0", device, dtype);
  Tensor c0 = entry(golden, "c0", device, dtype);
  if (h0.defined()) h0.requires_grad_();
  if (c0.defined()) c0.requires_grad_();
  const Outputs out = run(module, x, h0, c0);
  const double tol = dtype == DType::Float64 ? 1e-10 : 2e-5;
  Tensor loss = zeros({}, TensorOptions(dtype).device(device));
  for (const auto& [key, value] : std::vector<std::pair<std::string, Tensor>>{
           {"output", out.output}, {"h_n", out.h_n}, {"c_n", out.c_n}}) {
    if (!golden.count(key)) {
      EXPECT_FALSE(value.defined()) << key;
      continue;
    }
    EXPECT_TRUE(tensors_close(value, golden.at(key), tol, tol)) << key;
    loss = add(loss, sum(mul(value, entry(golden, "grad_" + key, device, dtype))));
  }
  loss.backward();
  EXPECT_TRUE(tensors_close(x.grad(), golden.at("grad_x"), tol, tol)) << "grad of x";
  for (const auto& [key, state] :
       std::vector<std::pair<std::string, Tensor>>{{"h0", h0}, {"c0", c0}}) {
    if (state.defined()) {
      EXPECT_TRUE(tensors_close(state.grad(), golden.at("grad_" + key), tol, tol)) << key;
    }
  }
  for (const auto& [key, p] : module.named_parameters()) {
    EXPECT_TRUE(tensors_close(p.grad(), golden.at("grad_" + key), tol, tol)) << "grad of " << key;
  }
}

// Makes the module afresh for each device and dtype (a moved module keeps its place).
void check_everywhere(const std::string& name,
                      const std::function<std::shared_ptr<layers::Module>()>& make,
                      const Run& run) {
  std::vector<std::pair<Device, DType>> places{{Device::cpu(), DType::Float64},
                                               {Device::cpu(), DType::Float32}};
  if (cuda_is_available()) {
    places.push_back({Device::cuda(), DType::Float64});
    places.push_back({Device::cuda(), DType::Float32});
  }
  for (const auto& [device, dtype] : places) {
    const auto module = make();
    check(name, *module, run, device, dtype);
  }
}

template <typename Layer>
Run sequence_run() {
  return [](layers::Module& m, const Tensor& x, const Tensor& h0, const Tensor& c0) {
    auto& layer = dynamic_cast<Layer&>(m);
    layers::RecurrentOutput r;
    if constexpr (std::is_same_v<Layer, layers::LSTM>) {
      r = layer.forward(x, h0, c0);
    } else {
      r = layer.forward(x, h0);
    }
    return Outputs{r.output, r.h_n, r.c_n};
  };
}

RecurrentOptions options(int64_t num_layers, bool batch_first = false, bool bias = true) {
  RecurrentOptions o;
  o.num_layers = num_layers;
  o.batch_first = batch_first;
  o.bias = bias;
  return o;
}

TEST(RecurrentGolden, RNN) {
  check_everywhere(
      "rnn_tanh_2layers", [] { return std::make_shared<layers::RNN>(3, 4, options(2)); },
      sequence_run<layers::RNN>());
  RecurrentOptions relu = options(1, /*batch_first=*/true);
  relu.nonlinearity = RecurrentKind::RnnRelu;
  check_everywhere(
      "rnn_relu_batch_first", [relu] { return std::make_shared<layers::RNN>(3, 4, relu); },
      sequence_run<layers::RNN>());
}

TEST(RecurrentGolden, LSTM) {
  check_everywhere(
      "lstm_2layers", [] { return std::make_shared<layers::LSTM>(3, 5, options(2)); },
      sequence_run<layers::LSTM>());
  check_everywhere(
      "lstm_no_bias_batch_first",
      [] { return std::make_shared<layers::LSTM>(2, 3, options(1, true, false)); },
      sequence_run<layers::LSTM>());
  // 40 steps: the gradient of the first input passes through 40 cells.
  check_everywhere(
      "lstm_long", [] { return std::make_shared<layers::LSTM>(2, 4); },
      sequence_run<layers::LSTM>());
}

TEST(RecurrentGolden, GRU) {
  check_everywhere(
      "gru_2layers", [] { return std::make_shared<layers::GRU>(4, 3, options(2)); },
      sequence_run<layers::GRU>());
  check_everywhere(
      "gru_unbatched", [] { return std::make_shared<layers::GRU>(3, 4); },
      sequence_run<layers::GRU>());
}

TEST(RecurrentGolden, Cells) {
  check_everywhere(
      "rnn_cell", [] { return std::make_shared<layers::RNNCell>(3, 4); },
      [](layers::Module& m, const Tensor& x, const Tensor& h, const Tensor&) {
        return Outputs{Tensor(), dynamic_cast<layers::RNNCell&>(m).forward(x, h), Tensor()};
      });
  check_everywhere(
      "lstm_cell", [] { return std::make_shared<layers::LSTMCell>(3, 4); },
      [](layers::Module& m, const Tensor& x, const Tensor& h, const Tensor& c) {
        const layers::LSTMState s = dynamic_cast<layers::LSTMCell&>(m).forward(x, {h, c});
        return Outputs{Tensor(), s.h, s.c};
      });
  check_everywhere(
      "gru_cell_unbatched", [] { return std::make_shared<layers::GRUCell>(3, 4); },
      [](layers::Module& m, const Tensor& x, const Tensor& h, const Tensor&) {
        return Outputs{Tensor(), dynamic_cast<layers::GRUCell&>(m).forward(x, h), Tensor()};
      });
}

}  // namespace
}  // namespace tg::testing
