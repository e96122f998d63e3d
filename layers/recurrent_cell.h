// Recurrent cells: one time step of an Elman RNN, an LSTM (Hochreiter & Schmidhuber 1997,
// with the forget gate of Gers et al. 2000) and a GRU (Cho et al. 2014), with PyTorch's
// equations, gate order and parameter names, so nn.RNNCell/LSTMCell/GRUCell state dicts
// load strictly:
//   RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu
//   LSTM: i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh) into 4 of hidden_size
//         c' = σ(f)·c + σ(i)·tanh(g),  h' = σ(o)·tanh(c')
//   GRU:  r, z, n_i = split(W_ih x + b_ih), r_h, z_h, n_h = split(W_hh h + b_hh)
//         r = σ(r_i + r_h), z = σ(z_i + z_h), n = tanh(n_i + r·n_h),  h' = (1 − z)·n + z·h
// weight_ih (gates·hidden, input), weight_hh (gates·hidden, hidden), bias_ih and bias_hh
// (gates·hidden,), all drawn from U(−1/sqrt(hidden), 1/sqrt(hidden)) as PyTorch does.
// Each step is two products (matmul) and a fused pointwise kernel pair for the LSTM and GRU
// (core/ops/lstm_cell.h, gru_cell.h), so it runs on every device and autograd carries
// gradients through time. x (batch, input) or (input); h, c (batch, hidden) or
// (hidden); a state left undefined starts at zero.
#pragma once

#include <functional>
#include <string>

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

enum class RecurrentKind { RnnTanh, RnnRelu, Lstm, Gru };

// The step functions the cells and the multi-layer RNN, LSTM and GRU share. `input_gates`
// is W_ih x + b_ih, already computed (a sequence layer does it for all steps in one
// product); h and c (batch, hidden).
Tensor rnn_step(const Tensor& input_gates, const Tensor& h, const Tensor& weight_hh,
                const Tensor& bias_hh, RecurrentKind kind);
struct LSTMState {
  Tensor h;
  Tensor c;
};
LSTMState lstm_step(const Tensor& input_gates, const LSTMState& state, const Tensor& weight_hh,
                    const Tensor& bias_hh);
Tensor gru_step(const Tensor& input_gates, const Tensor& h, const Tensor& weight_hh,
                const Tensor& bias_hh);

// Parameters of one cell or one layer of a sequence model, registered under `suffix`
// ("" for a cell: weight_ih; "_l0" for a layer: weight_ih_l0).
struct RecurrentWeights {
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;
};

// The common part of the three cells: parameters, checks, the zero state.
class RecurrentCellBase : public Module {
 public:
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  std::string extra_repr() const override;

  RecurrentWeights weights;

 protected:
  RecurrentCellBase(const char* type, RecurrentKind kind, int64_t input_size, int64_t hidden_size,
                    bool bias, const TensorOptions& options);
  // x as (batch, input) and whether it came without a batch dimension.
  Tensor batched_input(const Tensor& x, bool& unbatched) const;
  // A state for x's batch: the given one (checked, batched like x) or zeros.
  Tensor batched_state(const Tensor& state, const char* name, const Tensor& x,
                       bool unbatched) const;
  Tensor input_gates(const Tensor& x) const;

  RecurrentKind kind_;
  int64_t input_size_, hidden_size_;
};

// nn.RNNCell: forward(x, h) -> h'.
class RNNCell : public RecurrentCellBase {
 public:
  RNNCell(int64_t input_size, int64_t hidden_size, bool bias = true,
          RecurrentKind nonlinearity = RecurrentKind::RnnTanh, const TensorOptions& options = {});
  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
  Tensor forward(const Tensor& x, const Tensor& h);
};

// nn.LSTMCell: forward(x, {h, c}) -> {h', c'}; forward(x) gives h' from a zero state.
class LSTMCell : public RecurrentCellBase {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true,
           const TensorOptions& options = {});
  Tensor forward(const Tensor& x) override { return forward(x, LSTMState{}).h; }
  LSTMState forward(const Tensor& x, const LSTMState& state);
};

// nn.GRUCell: forward(x, h) -> h'.
class GRUCell : public RecurrentCellBase {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true,
          const TensorOptions& options = {});
  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
  Tensor forward(const Tensor& x, const Tensor& h);
};

// Gate blocks per kind: 1 (RNN), 4 (LSTM), 3 (GRU).
int64_t recurrent_gate_count(RecurrentKind kind);

// Makes one cell's or layer's parameters, registered in `module` under PyTorch's names with
// `suffix`, drawn from U(−1/sqrt(hidden), 1/sqrt(hidden)).
void make_recurrent_weights(RecurrentWeights& weights, RecurrentKind kind, int64_t input_size,
                            int64_t hidden_size, bool bias, const TensorOptions& options,
                            const std::string& suffix,
                            const std::function<void(const std::string&, Tensor*)>& register_fn);

}  // namespace tg::layers

TG_API_END
