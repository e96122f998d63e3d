// oneDNN's matmul primitive for half operands (kernels/cpu/matmul_onednn.h).
//
// Each stored operand is described with its own strides, so a transposed one (trans_a,
// trans_b) is read in place; C is row-major with ldc. beta (0, or 1 for linear's bias
// already in C) is a sum post-op. One primitive per call, run once per batch entry with the
// entry's pointers (oneDNN caches primitives itself: Note [onednn conv2d]).
// Determinism: oneDNN's bf16 matmul gave the same bits on 1, 2 and 3 threads for every
// shape tried (the MLP's and CNN's, 1x4096x10, 10x10000x3, 3x50000x2, 7x3000x300,
// 256x64x4096: a split of K would show in the long, thin ones); tests/unit/autocast_test.cpp
// keeps checking the models' shapes.
#include "matmul_onednn.h"

#include "onednn_engine.h"

namespace tg::kernels::cpu::onednn {

namespace {

using dnnl::memory;

// The (rows, cols) view of a stored operand: X itself, or Xᵀ of a row-major matrix with
// leading dimension ld.
memory::desc operand_desc(int64_t rows, int64_t cols, bool transposed, int64_t ld,
                          memory::data_type type) {
  const memory::dims strides = transposed ? memory::dims{1, ld} : memory::dims{ld, 1};
  return memory::desc({rows, cols}, type, strides);
}

}  // namespace

bool matmul_half(const MatmulArgs& g) {
  if (g.dtype != DType::BFloat16 || g.alpha != 1.0) return false;
  const auto bf16 = memory::data_type::bf16, f32 = memory::data_type::f32;
  try {
    const memory::desc a = operand_desc(g.m, g.k, g.trans_a, std::max<int64_t>(g.lda, 1), bf16);
    const memory::desc b = operand_desc(g.k, g.n, g.trans_b, std::max<int64_t>(g.ldb, 1), bf16);
    const memory::desc c({g.m, g.n}, f32, memory::dims{std::max<int64_t>(g.ldc, 1), 1});
    dnnl::primitive_attr attr;
    if (g.beta != 0) {
      dnnl::post_ops sum;
      sum.append_sum(static_cast<float>(g.beta));
      attr.set_post_ops(sum);
    }
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, cpu_engine());
    const dnnl::matmul product(pd);
    dnnl::stream stream(cpu_engine());
    for (int64_t i = 0; i < g.batch; ++i) {
      memory ma(a, cpu_engine(),
                const_cast<bfloat16*>(static_cast<const bfloat16*>(g.a) + i * g.stride_a));
      memory mb(b, cpu_engine(),
                const_cast<bfloat16*>(static_cast<const bfloat16*>(g.b) + i * g.stride_b));
      memory mc(c, cpu_engine(), static_cast<float*>(g.c) + i * g.stride_c);
      product.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    }
    stream.wait();
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_unimplemented) return false;
    TG_THROW("matmul: oneDNN's bfloat16 product failed (status ", static_cast<int>(e.status),
             ") on m = ", g.m, ", n = ", g.n, ", k = ", g.k, ": ", e.what());
  }
  return true;
}

}  // namespace tg::kernels::cpu::onednn
