// Front-end of the fused GRU cell (gru_cell.h): checks, dispatch, autograd. As the LSTM
// cell's (Note [fused lstm cell] in lstm_cell.cpp): one kernel each way, forward keeping
// r, z, n and the hidden gates' n block so backward computes no exp or tanh.
#include "gru_cell.h"

#include "../../kernels/gru_cell.h"
#include "../factory.h"
#include "op_support.h"

namespace tg {

using autograd::SavedTensor;

namespace {

// The three inputs' gradients from the forward's activations.
std::vector<Tensor> gru_cell_grad(const Tensor& activations, const Tensor& h, const Tensor& grad) {
  const Tensor g = grad.contiguous();
  const int64_t batch = h.size(0), hidden = h.size(1);
  Tensor grad_input = empty({batch, 3 * hidden}, ops::options_of(h));
  Tensor grad_hidden = empty({batch, 3 * hidden}, ops::options_of(h));
  Tensor grad_h = empty(h.shape(), ops::options_of(h));
  kernels::GruCellArgs args{};
  args.dtype = h.dtype();
  args.batch = batch;
  args.hidden = hidden;
  args.h = h.raw_data_ptr();
  args.activations = activations.raw_data_ptr();
  args.grad = g.raw_data_ptr();
  args.grad_input_gates = grad_input.raw_data_ptr();
  args.grad_hidden_gates = grad_hidden.raw_data_ptr();
  args.grad_h = grad_h.raw_data_ptr();
  TG_ON_DEVICE(h.device(), kernels::cpu::gru_cell_backward(args), stream,
               kernels::cuda::gru_cell_backward(args, stream));
  return {grad_input, grad_hidden, grad_h};
}

}  // namespace

TG_REGISTER_OP("gru_cell");
Tensor gru_cell(const Tensor& input_gates_in, const Tensor& hidden_gates_in, const Tensor& h_in) {
  ops::check_float_pair("gru_cell", input_gates_in, h_in);
  ops::check_float_pair("gru_cell", hidden_gates_in, h_in);
  TG_CHECK(h_in.dim() == 2 && input_gates_in.dim() == 2 &&
               input_gates_in.shape() == hidden_gates_in.shape() &&
               input_gates_in.size(0) == h_in.size(0) && input_gates_in.size(1) == 3 * h_in.size(1),
           "gru_cell: input and hidden gates must be (B, 3·H) for a hidden state (B, H), got ",
           input_gates_in.shape(), ", ", hidden_gates_in.shape(), " and ", h_in.shape());
  const Tensor a = input_gates_in.detach().contiguous();
  const Tensor b = hidden_gates_in.detach().contiguous();
  const Tensor h = h_in.detach().contiguous();
  const int64_t batch = h.size(0), hidden = h.size(1);
  const bool differentiable = autograd::any_requires_grad({input_gates_in, hidden_gates_in, h_in});
  Tensor out = empty({batch, hidden}, ops::options_of(h));
  const Tensor activations =
      differentiable ? empty({4, batch, hidden}, ops::options_of(h)) : Tensor();
  kernels::GruCellArgs args{};
  args.dtype = h.dtype();
  args.batch = batch;
  args.hidden = hidden;
  args.input_gates = a.raw_data_ptr();
  args.hidden_gates = b.raw_data_ptr();
  args.h = h.raw_data_ptr();
  args.out = out.raw_data_ptr();
  args.activations = differentiable ? activations.raw_data_ptr() : nullptr;
  TG_ON_DEVICE(h.device(), kernels::cpu::gru_cell_forward(args), stream,
               kernels::cuda::gru_cell_forward(args, stream));
  if (!differentiable) return out;
  return autograd::record("GruCellBackward", out, {input_gates_in, hidden_gates_in, h_in},
                          [activations, sh = SavedTensor(h_in)](const Tensor& g) {
                            return gru_cell_grad(activations,
                                                 sh.get("GruCellBackward").contiguous(), g);
                          });
}

}  // namespace tg
