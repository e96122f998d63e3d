// The GRU cell's pointwise part, fused (Cho et al. 2014, with PyTorch's placement of the
// reset gate): from the input gates a = W_ih x + b_ih and hidden gates b = W_hh h + b_hh of
// one step, each (r, z, n) blocks, and the previous hidden state h:
//   r = σ(a_r + b_r), z = σ(a_z + b_z), n = tanh(a_n + r·b_n),  h' = n + z·(h − n)
// backward, with dh' the incoming gradient:
//   dn = dh'·(1 − z)·(1 − n²), dz = dh'·(h − n)·z(1 − z), dr = dn·b_n·r(1 − r)
//   da = (dr, dz, dn), db = (dr, dz, dn·r), dh = dh'·z
// One kernel each way; forward keeps r, z, n and b_n so backward computes no exp or tanh
// (as the LSTM cell: kernels/lstm_cell.h, Note [fused lstm cell]).
//
// Front-end: core/ops/gru_cell.cpp. Tests: the op table (tests/ops/op_cases_recurrent.cpp
// "gru_cell": gradcheck, CUDA parity), tests/layers/recurrent_test.cpp (against the composed
// step), tests/golden/recurrent_golden_test.cpp (PyTorch).
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"

namespace tg::kernels {

// float overloads on the host as on the device.
using std::exp;
using std::tanh;

struct GruCellArgs {
  DType dtype;  // float32 or float64
  int64_t batch, hidden;
  const void* input_gates;   // forward: (batch, 3·hidden) contiguous
  const void* hidden_gates;  // forward: (batch, 3·hidden) contiguous
  const void* h;             // (batch, hidden) contiguous
  void* out;                 // forward: (batch, hidden)
  // r, z, n and b_n, (4, batch, hidden): written by forward when not null, read by backward.
  void* activations;
  // backward only:
  const void* grad;         // (batch, hidden)
  void* grad_input_gates;   // (batch, 3·hidden)
  void* grad_hidden_gates;  // (batch, 3·hidden)
  void* grad_h;             // (batch, hidden)
};

template <typename T>
TG_HOST_DEVICE T gru_sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

// One unit of one sequence; act[0..3] = r, z, n, b_n when act is not null.
template <typename T>
TG_HOST_DEVICE T gru_cell_forward_element(T a_r, T a_z, T a_n, T b_r, T b_z, T b_n, T h,
                                          T* act[4]) {
  const T r = gru_sigmoid(a_r + b_r), z = gru_sigmoid(a_z + b_z), n = tanh(a_n + r * b_n);
  if (act != nullptr) {
    *act[0] = r;
    *act[1] = z;
    *act[2] = n;
    *act[3] = b_n;
  }
  return n + z * (h - n);
}

// From the forward's r, z, n, b_n, the previous h and dh': the six gate gradients and dh.
template <typename T>
TG_HOST_DEVICE void gru_cell_backward_element(T r, T z, T n, T b_n, T h, T dh_next, T* da_r,
                                              T* da_z, T* da_n, T* db_n, T* dh) {
  const T dn = dh_next * (T(1) - z) * (T(1) - n * n);
  *da_z = dh_next * (h - n) * z * (T(1) - z);
  *da_r = dn * b_n * r * (T(1) - r);
  *da_n = dn;
  *db_n = dn * r;
  *dh = dh_next * z;
}

namespace cpu {
void gru_cell_forward(const GruCellArgs& args);
void gru_cell_backward(const GruCellArgs& args);
}  // namespace cpu
namespace cuda {
void gru_cell_forward(const GruCellArgs& args, void* stream);
void gru_cell_backward(const GruCellArgs& args, void* stream);
}  // namespace cuda

}  // namespace tg::kernels
