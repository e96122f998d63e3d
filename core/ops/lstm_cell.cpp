// Front-end of the fused LSTM cell (lstm_cell.h): checks, dispatch, autograd.
//
// Note [fused lstm cell]: composed of ops, the pointwise part of a step is four slices,
// three sigmoids, two tanhs, three products and a sum, each a launch and a graph node, and
// more again backward. Forward keeps the five activations (i, f, g, o, tanh(c')) for
// backward, which then computes no exp or tanh: tanhf alone was a quarter of an LSTM
// training step recomputing them. The output is h and c' stacked in one (2, B, H) tensor, the
// node's one output, h and c' contiguous views of it (a [h | c'] row layout made the next step's
// product read a strided h and cost more than the fusion saved); backward recomputes the
// activations from the saved gates rather than keeping them.
#include "lstm_cell.h"

#include "../../kernels/lstm_cell.h"
#include "../factory.h"
#include "op_support.h"

namespace tg {

using autograd::SavedTensor;

namespace {

// The gates' and the previous cell state's gradients from the forward's activations.
std::vector<Tensor> lstm_cell_grad(const Tensor& activations, const Tensor& c, const Tensor& grad) {
  const Tensor g = grad.contiguous();
  const int64_t batch = c.size(0), hidden = c.size(1);
  Tensor grad_gates = empty({batch, 4 * hidden}, ops::options_of(c));
  Tensor grad_c = empty(c.shape(), ops::options_of(c));
  kernels::LstmCellArgs args{};
  args.dtype = c.dtype();
  args.batch = batch;
  args.hidden = hidden;
  args.c = c.raw_data_ptr();
  args.activations = activations.raw_data_ptr();
  args.grad = g.raw_data_ptr();
  args.grad_gates = grad_gates.raw_data_ptr();
  args.grad_c = grad_c.raw_data_ptr();
  TG_ON_DEVICE(c.device(), kernels::cpu::lstm_cell_backward(args), stream,
               kernels::cuda::lstm_cell_backward(args, stream));
  return {grad_gates, grad_c};
}

}  // namespace

TG_REGISTER_OP("lstm_cell");
LstmCellResult lstm_cell(const Tensor& gates_in, const Tensor& c_in) {
  ops::check_float_pair("lstm_cell", gates_in, c_in);
  TG_CHECK(c_in.dim() == 2 && gates_in.dim() == 2 && gates_in.size(0) == c_in.size(0) &&
               gates_in.size(1) == 4 * c_in.size(1),
           "lstm_cell: gates must be (B, 4·H) for a cell state (B, H), got gates ",
           gates_in.shape(), " and c ", c_in.shape());
  const Tensor gates = gates_in.detach().contiguous(), c = c_in.detach().contiguous();
  const int64_t batch = c.size(0), hidden = c.size(1);
  const bool differentiable = autograd::any_requires_grad({gates_in, c_in});
  Tensor out = empty({2, batch, hidden}, ops::options_of(c));  // h, then c'
  const Tensor activations =
      differentiable ? empty({5, batch, hidden}, ops::options_of(c)) : Tensor();
  kernels::LstmCellArgs args{};
  args.dtype = c.dtype();
  args.batch = batch;
  args.hidden = hidden;
  args.gates = gates.raw_data_ptr();
  args.c = c.raw_data_ptr();
  args.out = out.raw_data_ptr();
  args.activations = differentiable ? activations.raw_data_ptr() : nullptr;
  TG_ON_DEVICE(c.device(), kernels::cpu::lstm_cell_forward(args), stream,
               kernels::cuda::lstm_cell_forward(args, stream));
  if (differentiable) {
    out = autograd::record("LstmCellBackward", out, {gates_in, c_in},
                           [activations, sc = SavedTensor(c_in)](const Tensor& g) {
                             return lstm_cell_grad(activations,
                                                   sc.get("LstmCellBackward").contiguous(), g);
                           });
  }
  return {out.select(0, 0), out.select(0, 1)};  // contiguous, as the next step reads them
}

}  // namespace tg
