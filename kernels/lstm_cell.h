// The LSTM cell's pointwise part, fused: from the pre-activation gates of one step
// (W_ih x + b_ih + W_hh h + b_hh, in PyTorch's order i, f, g, o) and the previous cell
// state, the new hidden and cell state in one pass, and in backward the gates' gradient and
// the previous cell state's in one more (Hochreiter & Schmidhuber 1997; Gers et al. 2000):
//   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
//   c' = f·c + i·g,  h = o·tanh(c')
// backward, with dh and dc' the incoming gradients:
//   dc = dc' + dh·o·(1 − tanh²(c')),  dc_prev = dc·f
//   da_i = dc·g·i(1 − i), da_f = dc·c·f(1 − f), da_g = dc·i·(1 − g²), da_o = dh·tanh(c')·o(1 − o)
// Composed of ops, the same step is ten elementwise launches forward and more backward;
// here it is one each, and backward computes no exp or tanh (it reads the forward's
// activations): Note [fused lstm cell] in core/ops/lstm_cell.cpp has the measurement.
//
// Front-end: core/ops/lstm_cell.cpp. Tests: the op table (tests/ops/op_cases_resample.cpp
// "lstm_cell": gradcheck, CUDA parity), tests/layers/recurrent_test.cpp (against the
// composed step), tests/golden/recurrent_golden_test.cpp (PyTorch).
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"

namespace tg::kernels {

// float overloads on the host as on the device (float32 must not compute in double).
using std::exp;
using std::tanh;

struct LstmCellArgs {
  DType dtype;  // float32 or float64
  int64_t batch, hidden;
  const void* gates;  // forward: (batch, 4·hidden) contiguous
  const void* c;      // (batch, hidden) contiguous
  void* out;          // forward: (2, batch, hidden): h, then c'
  // The activations i, f, g, o and tanh(c'), (5, batch, hidden): written by forward when
  // not null (a step that will be differentiated), read by backward, which so computes no
  // exp or tanh of its own.
  void* activations;
  // backward only:
  const void* grad;  // (2, batch, hidden): dh, then dc'
  void* grad_gates;  // (batch, 4·hidden)
  void* grad_c;      // (batch, hidden)
};

template <typename T>
TG_HOST_DEVICE T lstm_sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

// One unit of one sequence: gates a_i, a_f, a_g, a_o and the previous cell state; the
// activations (i, f, g, o, tanh(c')) into act[0..4] when act is not null.
template <typename T>
TG_HOST_DEVICE void lstm_cell_forward_element(T a_i, T a_f, T a_g, T a_o, T c, T* h, T* c_new,
                                              T* act[5]) {
  const T i = lstm_sigmoid(a_i), f = lstm_sigmoid(a_f), g = tanh(a_g), o = lstm_sigmoid(a_o);
  const T next = f * c + i * g;
  const T tc = tanh(next);
  *c_new = next;
  *h = o * tc;
  if (act != nullptr) {
    *act[0] = i;
    *act[1] = f;
    *act[2] = g;
    *act[3] = o;
    *act[4] = tc;
  }
}

// From the forward's activations, the previous cell state and the incoming dh, dc'.
template <typename T>
TG_HOST_DEVICE void lstm_cell_backward_element(T i, T f, T g, T o, T tc, T c, T dh, T dc_next,
                                               T* da_i, T* da_f, T* da_g, T* da_o, T* dc_prev) {
  const T dc = dc_next + dh * o * (T(1) - tc * tc);
  *dc_prev = dc * f;
  *da_i = dc * g * i * (T(1) - i);
  *da_f = dc * c * f * (T(1) - f);
  *da_g = dc * i * (T(1) - g * g);
  *da_o = dh * tc * o * (T(1) - o);
}

namespace cpu {
void lstm_cell_forward(const LstmCellArgs& args);
void lstm_cell_backward(const LstmCellArgs& args);
}  // namespace cpu
namespace cuda {
void lstm_cell_forward(const LstmCellArgs& args, void* stream);
void lstm_cell_backward(const LstmCellArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
