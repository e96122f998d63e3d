// Sequence layers: multi-layer RNN, LSTM and GRU over a whole sequence, as torch.nn.RNN,
// LSTM and GRU (unidirectional): the steps of recurrent_cell.h, layer after layer, with
// PyTorch's parameter names per layer (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
// then _l1, ...) and initialisation, so their state dicts load strictly.
//
// Shapes (T steps, B sequences, L layers, H hidden): input (T, B, input_size), or
// (B, T, input_size) with batch_first, or (T, input_size) unbatched; h0 and c0 (L, B, H)
// or (L, H) unbatched, zeros when left undefined. forward returns output (T, B, H) (the
// last layer's hidden state at each step; (B, T, H) with batch_first), h_n and, for the
// LSTM, c_n (L, B, H).
//
// Each layer's input projection W_ih x + b_ih is one matrix product over all steps; the
// steps then read it through unbind (O(T) in backward). Gradients flow through time by
// autograd; `steps` gives the last layer's hidden state at each step as graph tensors, to
// hook, retain or differentiate against (how rnn_gradients measures ‖∂L/∂h_t‖).
#pragma once

#include <string>
#include <vector>

#include "../foundation/config.h"
#include "recurrent_cell.h"

TG_API_BEGIN

namespace tg::layers {

struct RecurrentOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  // Dropout on each layer's output but the last's, in training mode (PyTorch's dropout).
  double dropout = 0;
  // For RNN only: RnnTanh or RnnRelu.
  RecurrentKind nonlinearity = RecurrentKind::RnnTanh;
};

struct RecurrentOutput {
  Tensor output;  // (T, B, H), or (B, T, H) with batch_first, or (T, H) unbatched
  Tensor h_n;     // (L, B, H) or (L, H)
  Tensor c_n;     // LSTM only, as h_n
  // The last layer's hidden state at each step, (B, H) (B = 1 unbatched): the tensors the
  // recurrence itself used, so a hook on one sees ∂L/∂h_t through all later steps.
  std::vector<Tensor> steps;
};

class RecurrentBase : public Module {
 public:
  // The output sequence; the state starts at zero.
  Tensor forward(const Tensor& x) override { return run(x, Tensor(), Tensor()).output; }
  // {x} or {x, h0} (an LSTM: {x, h0, c0}; an undefined state is zeros) -> {output, h_n}
  // (an LSTM: {output, h_n, c_n}), as PyTorch's rnn(x, h0) returns.
  std::vector<Tensor> forward_many(const std::vector<Tensor>& inputs) override;
  std::string extra_repr() const override;
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const RecurrentOptions& options() const { return options_; }

  std::vector<RecurrentWeights> weights;  // per layer, registered as weight_ih_l<k>, ...

 protected:
  RecurrentBase(const char* type, RecurrentKind kind, int64_t input_size, int64_t hidden_size,
                const RecurrentOptions& options, const TensorOptions& tensor_options);
  RecurrentOutput run(const Tensor& x, const Tensor& h0, const Tensor& c0);

 private:
  Tensor check_state(const Tensor& state, const char* name, int64_t batch, bool unbatched,
                     const Tensor& x) const;

  RecurrentKind kind_;
  int64_t input_size_, hidden_size_;
  RecurrentOptions options_;
};

// nn.RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) per layer.
class RNN : public RecurrentBase {
 public:
  RNN(int64_t input_size, int64_t hidden_size, const RecurrentOptions& options = {},
      const TensorOptions& tensor_options = {});
  using RecurrentBase::forward;
  RecurrentOutput forward(const Tensor& x, const Tensor& h0) { return run(x, h0, Tensor()); }
};

// nn.LSTM; forward(x, h0, c0) with either state left undefined for zeros.
class LSTM : public RecurrentBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, const RecurrentOptions& options = {},
       const TensorOptions& tensor_options = {});
  using RecurrentBase::forward;
  RecurrentOutput forward(const Tensor& x, const Tensor& h0, const Tensor& c0) {
    return run(x, h0, c0);
  }
};

// nn.GRU.
class GRU : public RecurrentBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, const RecurrentOptions& options = {},
      const TensorOptions& tensor_options = {});
  using RecurrentBase::forward;
  RecurrentOutput forward(const Tensor& x, const Tensor& h0) { return run(x, h0, Tensor()); }
};

}  // namespace tg::layers

TG_API_END
