// CPU launchers of the fused LSTM cell (kernels/lstm_cell.h): OpenMP over sequences, the
// per-unit math shared with the CUDA twin (kernels/cuda/lstm_cell.cu).
#include "../lstm_cell.h"

namespace tg::kernels::cpu {

void lstm_cell_forward(const LstmCellArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* gates = static_cast<const T*>(args.gates);
    const T* c = static_cast<const T*>(args.c);
    T* out = static_cast<T*>(args.out);
    T* acts = static_cast<T*>(args.activations);
    const int64_t hid = args.hidden, n = args.batch * hid;
#pragma omp parallel for schedule(static) if (args.batch * hid > (1 << 14))
    for (int64_t b = 0; b < args.batch; ++b) {
      const T* a = gates + b * 4 * hid;
      T* h = out + b * hid;
      T* c_new = out + (args.batch + b) * hid;
      for (int64_t j = 0; j < hid; ++j) {
        const int64_t k = b * hid + j;
        T* act[5] = {acts + k, acts + n + k, acts + 2 * n + k, acts + 3 * n + k, acts + 4 * n + k};
        lstm_cell_forward_element(a[j], a[hid + j], a[2 * hid + j], a[3 * hid + j], c[k], &h[j],
                                  &c_new[j], acts != nullptr ? act : nullptr);
      }
    }
  });
}

void lstm_cell_backward(const LstmCellArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* acts = static_cast<const T*>(args.activations);
    const T* c = static_cast<const T*>(args.c);
    const T* grad = static_cast<const T*>(args.grad);
    T* grad_gates = static_cast<T*>(args.grad_gates);
    T* grad_c = static_cast<T*>(args.grad_c);
    const int64_t hid = args.hidden, n = args.batch * hid;
#pragma omp parallel for schedule(static) if (args.batch * hid > (1 << 14))
    for (int64_t b = 0; b < args.batch; ++b) {
      T* da = grad_gates + b * 4 * hid;
      for (int64_t j = 0; j < hid; ++j) {
        const int64_t k = b * hid + j;
        lstm_cell_backward_element(acts[k], acts[n + k], acts[2 * n + k], acts[3 * n + k],
                                   acts[4 * n + k], c[k], grad[k], grad[n + k], &da[j],
                                   &da[hid + j], &da[2 * hid + j], &da[3 * hid + j], &grad_c[k]);
      }
    }
  });
}

}  // namespace tg::kernels::cpu
