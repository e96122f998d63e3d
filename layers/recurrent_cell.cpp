// Recurrent cells and the steps they share with the sequence layers (recurrent_cell.h).
#include "recurrent_cell.h"

#include <cmath>

#include "../core/factory.h"
#include "../core/ops.h"
#include "init.h"

namespace tg::layers {

int64_t recurrent_gate_count(RecurrentKind kind) {
  switch (kind) {
    case RecurrentKind::Lstm: return 4;
    case RecurrentKind::Gru: return 3;
    default: return 1;
  }
}

Tensor rnn_step(const Tensor& input_gates, const Tensor& h, const Tensor& weight_hh,
                const Tensor& bias_hh, RecurrentKind kind) {
  const Tensor pre = add(input_gates, linear(h, weight_hh, bias_hh));
  return kind == RecurrentKind::RnnRelu ? relu(pre) : tanh(pre);
}

LSTMState lstm_step(const Tensor& input_gates, const LSTMState& state, const Tensor& weight_hh,
                    const Tensor& bias_hh) {
  // The pointwise part in one fused kernel each way (Note [fused lstm cell]).
  const LstmCellResult next =
      lstm_cell(add(input_gates, linear(state.h, weight_hh, bias_hh)), state.c);
  return LSTMState{next.h, next.c};
}

Tensor gru_step(const Tensor& input_gates, const Tensor& h, const Tensor& weight_hh,
                const Tensor& bias_hh) {
  // The pointwise part in one fused kernel each way (core/ops/gru_cell.h).
  return gru_cell(input_gates, linear(h, weight_hh, bias_hh), h);
}

void make_recurrent_weights(RecurrentWeights& weights, RecurrentKind kind, int64_t input_size,
                            int64_t hidden_size, bool bias, const TensorOptions& options,
                            const std::string& suffix,
                            const std::function<void(const std::string&, Tensor*)>& register_fn) {
  const int64_t rows = recurrent_gate_count(kind) * hidden_size;
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  auto make = [&](Tensor& t, const Shape& shape, const std::string& name) {
    t = empty(shape, options);
    init::uniform_(t, -bound, bound);
    t.requires_grad_();
    register_fn(name + suffix, &t);
  };
  make(weights.weight_ih, {rows, input_size}, "weight_ih");
  make(weights.weight_hh, {rows, hidden_size}, "weight_hh");
  if (bias) {
    make(weights.bias_ih, {rows}, "bias_ih");
    make(weights.bias_hh, {rows}, "bias_hh");
  }
}

RecurrentCellBase::RecurrentCellBase(const char* type, RecurrentKind kind, int64_t input_size,
                                     int64_t hidden_size, bool bias, const TensorOptions& options)
    : Module(type), kind_(kind), input_size_(input_size), hidden_size_(hidden_size) {
  TG_CHECK(input_size > 0 && hidden_size > 0, type,
           ": input_size and hidden_size must be positive, got ", input_size, " and ", hidden_size);
  make_recurrent_weights(
      weights, kind, input_size, hidden_size, bias, options, "",
      [this](const std::string& name, Tensor* t) { register_parameter(name, t); });
}

std::string RecurrentCellBase::extra_repr() const {
  std::string repr = std::to_string(input_size_) + ", " + std::to_string(hidden_size_);
  if (!weights.bias_ih.defined()) repr += ", bias=false";
  if (kind_ == RecurrentKind::RnnRelu) repr += ", nonlinearity=relu";
  return repr;
}

Tensor RecurrentCellBase::batched_input(const Tensor& x, bool& unbatched) const {
  TG_CHECK(x.defined() && (x.dim() == 1 || x.dim() == 2) && x.size(-1) == input_size_, type_name(),
           "(", extra_repr(), "): input must be (batch, ", input_size_, ") or (", input_size_,
           "), got ", x.defined() ? x.shape() : Shape{});
  unbatched = x.dim() == 1;
  return unbatched ? x.unsqueeze(0) : x;
}

Tensor RecurrentCellBase::batched_state(const Tensor& state, const char* name, const Tensor& x,
                                        bool unbatched) const {
  const Shape expected = unbatched ? Shape{hidden_size_} : Shape{x.size(0), hidden_size_};
  if (!state.defined()) {
    return zeros({x.size(0), hidden_size_}, TensorOptions(x.dtype()).device(x.device()));
  }
  TG_CHECK(state.shape() == expected, type_name(), "(", extra_repr(), "): ", name,
           " must have shape ", expected, " for an input of shape ",
           unbatched ? Shape{input_size_} : x.shape(), ", got ", state.shape());
  return unbatched ? state.unsqueeze(0) : state;
}

Tensor RecurrentCellBase::input_gates(const Tensor& x) const {
  return linear(x, weights.weight_ih, weights.bias_ih);
}

RNNCell::RNNCell(int64_t input_size, int64_t hidden_size, bool bias, RecurrentKind nonlinearity,
                 const TensorOptions& options)
    : RecurrentCellBase("RNNCell", nonlinearity, input_size, hidden_size, bias, options) {
  TG_CHECK(nonlinearity == RecurrentKind::RnnTanh || nonlinearity == RecurrentKind::RnnRelu,
           "RNNCell: the nonlinearity must be RnnTanh or RnnRelu");
}

Tensor RNNCell::forward(const Tensor& x, const Tensor& h) {
  bool unbatched = false;
  const Tensor xb = batched_input(x, unbatched);
  const Tensor hb = batched_state(h, "h", xb, unbatched);
  const Tensor next = rnn_step(input_gates(xb), hb, weights.weight_hh, weights.bias_hh, kind_);
  return unbatched ? next.squeeze(0) : next;
}

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, bool bias, const TensorOptions& options)
    : RecurrentCellBase("LSTMCell", RecurrentKind::Lstm, input_size, hidden_size, bias, options) {}

LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) {
  bool unbatched = false;
  const Tensor xb = batched_input(x, unbatched);
  const LSTMState s{batched_state(state.h, "h", xb, unbatched),
                    batched_state(state.c, "c", xb, unbatched)};
  const LSTMState next = lstm_step(input_gates(xb), s, weights.weight_hh, weights.bias_hh);
  return unbatched ? LSTMState{next.h.squeeze(0), next.c.squeeze(0)} : next;
}

GRUCell::GRUCell(int64_t input_size, int64_t hidden_size, bool bias, const TensorOptions& options)
    : RecurrentCellBase("GRUCell", RecurrentKind::Gru, input_size, hidden_size, bias, options) {}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) {
  bool unbatched = false;
  const Tensor xb = batched_input(x, unbatched);
  const Tensor hb = batched_state(h, "h", xb, unbatched);
  const Tensor next = gru_step(input_gates(xb), hb, weights.weight_hh, weights.bias_hh);
  return unbatched ? next.squeeze(0) : next;
}

}  // namespace tg::layers
