// CPU launchers of the fused GRU cell (kernels/gru_cell.h): OpenMP over sequences, the
// per-unit math shared with the CUDA twin (kernels/cuda/gru_cell.cu).
#include "../gru_cell.h"

namespace tg::kernels::cpu {

void gru_cell_forward(const GruCellArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* a = static_cast<const T*>(args.input_gates);
    const T* b = static_cast<const T*>(args.hidden_gates);
    const T* h = static_cast<const T*>(args.h);
    T* out = static_cast<T*>(args.out);
    T* acts = static_cast<T*>(args.activations);
    const int64_t hid = args.hidden, n = args.batch * hid;
#pragma omp parallel for schedule(static) if (n > (1 << 14))
    for (int64_t s = 0; s < args.batch; ++s) {
      const T* as = a + s * 3 * hid;
      const T* bs = b + s * 3 * hid;
      for (int64_t j = 0; j < hid; ++j) {
        const int64_t k = s * hid + j;
        T* act[4] = {acts + k, acts + n + k, acts + 2 * n + k, acts + 3 * n + k};
        out[k] = gru_cell_forward_element(as[j], as[hid + j], as[2 * hid + j], bs[j], bs[hid + j],
                                          bs[2 * hid + j], h[k], acts != nullptr ? act : nullptr);
      }
    }
  });
}

void gru_cell_backward(const GruCellArgs& args) {
  visit_float_dtype(args.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* acts = static_cast<const T*>(args.activations);
    const T* h = static_cast<const T*>(args.h);
    const T* grad = static_cast<const T*>(args.grad);
    T* da = static_cast<T*>(args.grad_input_gates);
    T* db = static_cast<T*>(args.grad_hidden_gates);
    T* dh = static_cast<T*>(args.grad_h);
    const int64_t hid = args.hidden, n = args.batch * hid;
#pragma omp parallel for schedule(static) if (n > (1 << 14))
    for (int64_t s = 0; s < args.batch; ++s) {
      T* das = da + s * 3 * hid;
      T* dbs = db + s * 3 * hid;
      for (int64_t j = 0; j < hid; ++j) {
        const int64_t k = s * hid + j;
        gru_cell_backward_element(acts[k], acts[n + k], acts[2 * n + k], acts[3 * n + k], h[k],
                                  grad[k], &das[j], &das[hid + j], &das[2 * hid + j],
                                  &dbs[2 * hid + j], &dh[k]);
        dbs[j] = das[j];  // r and z enter as a + b: the same gradient
        dbs[hid + j] = das[hid + j];
      }
    }
  });
}

}  // namespace tg::kernels::cpu
