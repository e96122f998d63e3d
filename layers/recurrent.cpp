// Multi-layer RNN, LSTM and GRU over a sequence (recurrent.h).
#include "recurrent.h"

#include "../core/factory.h"
#include "../core/ops.h"

namespace tg::layers {

RecurrentBase::RecurrentBase(const char* type, RecurrentKind kind, int64_t input_size,
                             int64_t hidden_size, const RecurrentOptions& options,
                             const TensorOptions& tensor_options)
    : Module(type),
      kind_(kind),
      input_size_(input_size),
      hidden_size_(hidden_size),
      options_(options) {
  TG_CHECK(input_size > 0 && hidden_size > 0, type,
           ": input_size and hidden_size must be positive, got ", input_size, " and ", hidden_size);
  TG_CHECK(options.num_layers > 0, type, ": num_layers must be positive, got ", options.num_layers);
  TG_CHECK(options.dropout >= 0 && options.dropout < 1, type, ": dropout must be in [0, 1), got ",
           options.dropout);
  // Sized once: the registered pointers point into this vector.
  weights.resize(static_cast<size_t>(options.num_layers));
  for (int64_t k = 0; k < options.num_layers; ++k) {
    make_recurrent_weights(
        weights[k], kind, k == 0 ? input_size : hidden_size, hidden_size, options.bias,
        tensor_options, "_l" + std::to_string(k),
        [this](const std::string& name, Tensor* t) { register_parameter(name, t); });
  }
}

std::string RecurrentBase::extra_repr() const {
  std::string repr = std::to_string(input_size_) + ", " + std::to_string(hidden_size_);
  if (options_.num_layers != 1) repr += ", num_layers=" + std::to_string(options_.num_layers);
  if (!options_.bias) repr += ", bias=false";
  if (options_.batch_first) repr += ", batch_first=true";
  if (options_.dropout > 0) repr += ", dropout=" + std::to_string(options_.dropout);
  if (kind_ == RecurrentKind::RnnRelu) repr += ", nonlinearity=relu";
  return repr;
}

Tensor RecurrentBase::check_state(const Tensor& state, const char* name, int64_t batch,
                                  bool unbatched, const Tensor& x) const {
  const int64_t layers = options_.num_layers;
  if (!state.defined()) {
    return zeros({layers, batch, hidden_size_}, TensorOptions(x.dtype()).device(x.device()));
  }
  const Shape expected =
      unbatched ? Shape{layers, hidden_size_} : Shape{layers, batch, hidden_size_};
  TG_CHECK(state.shape() == expected, type_name(), "(", extra_repr(), "): ", name,
           " must have shape ", expected, " for an input of shape ", x.shape(), ", got ",
           state.shape());
  TG_CHECK(state.dtype() == x.dtype() && state.device() == x.device(), type_name(), ": ", name,
           " is ", state.dtype(), " on ", state.device(), ", the input ", x.dtype(), " on ",
           x.device());
  return unbatched ? state.unsqueeze(1) : state;
}

RecurrentOutput RecurrentBase::run(const Tensor& x, const Tensor& h0, const Tensor& c0) {
  const bool lstm = kind_ == RecurrentKind::Lstm;
  TG_CHECK(x.defined() && (x.dim() == 2 || x.dim() == 3) && x.size(-1) == input_size_, type_name(),
           "(", extra_repr(), "): input must be (steps, batch, ", input_size_, ")",
           options_.batch_first ? " with batch_first (batch, steps, ...)" : "",
           " or unbatched (steps, ", input_size_, "), got ", x.defined() ? x.shape() : Shape{});
  TG_CHECK(lstm || !c0.defined(), type_name(), ": only an LSTM has a cell state c0");
  const bool unbatched = x.dim() == 2;
  // (T, B, input): the layout every layer works in.
  Tensor seq = unbatched ? x.unsqueeze(1) : (options_.batch_first ? x.transpose(0, 1) : x);
  const int64_t steps = seq.size(0), batch = seq.size(1);
  TG_CHECK(steps > 0, type_name(), ": the input has no steps (shape ", x.shape(), ")");
  const Tensor h_init = check_state(h0, "h0", batch, unbatched, x);
  const Tensor c_init = lstm ? check_state(c0, "c0", batch, unbatched, x) : Tensor();

  RecurrentOutput result;
  std::vector<Tensor> h_last, c_last;
  for (int64_t k = 0; k < options_.num_layers; ++k) {
    const RecurrentWeights& w = weights[static_cast<size_t>(k)];
    // One product for every step's input projection: (T, B, gates·H).
    const std::vector<Tensor> input_gates = unbind(linear(seq, w.weight_ih, w.bias_ih), 0);
    Tensor h = h_init.select(0, k);
    Tensor c = lstm ? c_init.select(0, k) : Tensor();
    std::vector<Tensor> hidden;
    hidden.reserve(static_cast<size_t>(steps));
    for (int64_t t = 0; t < steps; ++t) {
      const Tensor& gi = input_gates[static_cast<size_t>(t)];
      if (lstm) {
        const LSTMState next = lstm_step(gi, LSTMState{h, c}, w.weight_hh, w.bias_hh);
        h = next.h;
        c = next.c;
      } else if (kind_ == RecurrentKind::Gru) {
        h = gru_step(gi, h, w.weight_hh, w.bias_hh);
      } else {
        h = rnn_step(gi, h, w.weight_hh, w.bias_hh, kind_);
      }
      hidden.push_back(h);
    }
    h_last.push_back(h);
    if (lstm) c_last.push_back(c);
    seq = stack(hidden, 0);
    const bool last = k + 1 == options_.num_layers;
    if (!last && options_.dropout > 0) seq = dropout(seq, options_.dropout, is_training());
    if (last) result.steps = std::move(hidden);
  }
  result.h_n = stack(h_last, 0);
  if (lstm) result.c_n = stack(c_last, 0);
  if (unbatched) {
    seq = seq.squeeze(1);
    result.h_n = result.h_n.squeeze(1);
    if (lstm) result.c_n = result.c_n.squeeze(1);
  } else if (options_.batch_first) {
    seq = seq.transpose(0, 1);
  }
  result.output = seq;
  return result;
}

std::vector<Tensor> RecurrentBase::forward_many(const std::vector<Tensor>& inputs) {
  const bool lstm = kind_ == RecurrentKind::Lstm;
  TG_CHECK(!inputs.empty() && inputs.size() <= (lstm ? 3u : 2u), type_name(), ": takes {x",
           lstm ? ", h0, c0}" : ", h0}", " (states optional), got ", inputs.size(), " tensors");
  const RecurrentOutput r = run(inputs[0], inputs.size() > 1 ? inputs[1] : Tensor(),
                                inputs.size() > 2 ? inputs[2] : Tensor());
  if (lstm) return {r.output, r.h_n, r.c_n};
  return {r.output, r.h_n};
}

RNN::RNN(int64_t input_size, int64_t hidden_size, const RecurrentOptions& options,
         const TensorOptions& tensor_options)
    : RecurrentBase("RNN", options.nonlinearity, input_size, hidden_size, options, tensor_options) {
  TG_CHECK(options.nonlinearity == RecurrentKind::RnnTanh ||
               options.nonlinearity == RecurrentKind::RnnRelu,
           "RNN: the nonlinearity must be RnnTanh or RnnRelu");
}

LSTM::LSTM(int64_t input_size, int64_t hidden_size, const RecurrentOptions& options,
           const TensorOptions& tensor_options)
    : RecurrentBase("LSTM", RecurrentKind::Lstm, input_size, hidden_size, options, tensor_options) {
}

GRU::GRU(int64_t input_size, int64_t hidden_size, const RecurrentOptions& options,
         const TensorOptions& tensor_options)
    : RecurrentBase("GRU", RecurrentKind::Gru, input_size, hidden_size, options, tensor_options) {}

}  // namespace tg::layers
