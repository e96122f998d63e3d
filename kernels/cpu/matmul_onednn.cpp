// oneDNN's matmul primitive for half operands, and float32 products by blocks of the result
// (kernels/cpu/matmul_onednn.h).
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

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>

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

// Note [float32 matmul blocks]
// Float32 products are cut by their shape alone into blocks of C: kBlockRows rows, or, with
// fewer than 2·kBlockRows rows, kBlockCols columns. Each block is a product of its own, made
// and run on one thread (OneThread), and the blocks (of every batch entry) go over the OpenMP
// threads, so a block's sums are the same whichever thread runs it and however many there are.
// oneDNN's sgemm on its own threads did not promise that: x·Wᵀ at the MLP's shapes differed
// between 1 and 2 threads on this AMD EPYC, a 256x1024x512 x·W on an Intel Xeon; and
// Note [threads under load] changes the count while a run goes on. x·Wᵀ (A as stored, B
// transposed: Linear's forward) runs on oneDNN's matmul primitive (its brgemm kernels), which
// beat sgemm there (2 cores of an AMD EPYC: 128x512x784 491-511 against 568-584 us; 128x256x512
// 164-174 against 250-262 us); every other product (and what the primitive declines: alpha !=
// 1, k = 0, a reference kernel only) on sgemm, a block at a time, as fast as sgemm on its own
// threads at the MLP's gradients (512x784x128 from Aᵀ 478 against 479 us) and within 2-7% on a
// 1024x1024x1024 product.
constexpr int64_t kBlockRows = 64, kBlockCols = 256;

struct Cut {
  bool by_rows;
  int64_t size, count;
};

Cut cut_of(const MatmulArgs& g) {
  if (g.m >= 2 * kBlockRows) return {true, kBlockRows, (g.m + kBlockRows - 1) / kBlockRows};
  return {false, kBlockCols, (g.n + kBlockCols - 1) / kBlockCols};
}

// A block's product, made once per thread and shape (oneDNN's descriptor and dispatch cost
// more than the small products themselves), at most kMadeShapes kept per thread (all dropped
// when more come, as a run with ever new shapes would); null where oneDNN has only a reference
// kernel.
constexpr size_t kMadeShapes = 256;

struct BlockKey {
  bool trans_a, trans_b;
  int64_t rows, cols, k, lda, ldb, ldc;
  bool sum;
  bool operator<(const BlockKey& o) const {
    return std::tie(trans_a, trans_b, rows, cols, k, lda, ldb, ldc, sum) <
           std::tie(o.trans_a, o.trans_b, o.rows, o.cols, o.k, o.lda, o.ldb, o.ldc, o.sum);
  }
};

struct BlockProduct {
  memory::desc a, b, c;
  std::unique_ptr<dnnl::matmul> product;  // null: declined
};

const BlockProduct& block_product(const BlockKey& key, double beta) {
  thread_local std::map<BlockKey, BlockProduct> made;
  const auto found = made.find(key);
  if (found != made.end()) return found->second;
  if (made.size() >= kMadeShapes) made.clear();
  const auto f32 = memory::data_type::f32;
  BlockProduct p;
  p.a = operand_desc(key.rows, key.k, key.trans_a, key.lda, f32);
  p.b = operand_desc(key.k, key.cols, key.trans_b, key.ldb, f32);
  p.c = memory::desc({key.rows, key.cols}, f32, memory::dims{key.ldc, 1});
  dnnl::primitive_attr attr;
  if (key.sum) {
    dnnl::post_ops sum;
    sum.append_sum(static_cast<float>(beta));
    attr.set_post_ops(sum);
  }
  try {
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.a, p.b, p.c), attr, cpu_engine());
    if (std::string(pd.impl_info_str()).rfind("ref", 0) != 0)
      p.product = std::make_unique<dnnl::matmul>(pd);
  } catch (const dnnl::error& e) {
    if (e.status != dnnl_unimplemented) throw;
  }
  return made.emplace(key, std::move(p)).first->second;
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

bool matmul_float(const MatmulArgs& g) {
  if (g.dtype != DType::Float32) return false;
  const Cut cut = cut_of(g);
  const auto key_of = [&](int64_t block) {
    const int64_t first = block * cut.size;
    const int64_t extent = std::min(cut.size, (cut.by_rows ? g.m : g.n) - first);
    return BlockKey{g.trans_a,
                    g.trans_b,
                    cut.by_rows ? extent : g.m,
                    cut.by_rows ? g.n : extent,
                    g.k,
                    std::max<int64_t>(g.lda, 1),
                    std::max<int64_t>(g.ldb, 1),
                    std::max<int64_t>(g.ldc, 1),
                    g.beta != 0};
  };
  // x·Wᵀ on the primitive when it takes every block shape (a full one and the last: made here
  // first); everything else, and what it declines, on sgemm, a block at a time.
  bool primitive =
      !g.trans_a && g.trans_b && g.alpha == 1.0 && g.k > 0 && (g.beta == 0 || g.beta == 1);
  if (primitive) {
    const OneThread one;
    primitive = block_product(key_of(0), g.beta).product &&
                block_product(key_of(cut.count - 1), g.beta).product;
  }
  std::string error;
  const int64_t tasks = g.batch * cut.count;
#pragma omp parallel for schedule(static) if (tasks > 1)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t entry = t / cut.count, block = t % cut.count;
    const int64_t first = block * cut.size;
    const BlockKey key = key_of(block);
    const int64_t row = cut.by_rows ? first : 0, col = cut.by_rows ? 0 : first;
    const float* a =
        static_cast<const float*>(g.a) + entry * g.stride_a + (g.trans_a ? row : row * key.lda);
    const float* b =
        static_cast<const float*>(g.b) + entry * g.stride_b + (g.trans_b ? col * key.ldb : col);
    float* c = static_cast<float*>(g.c) + entry * g.stride_c + row * key.ldc + col;
    const OneThread one;
    try {
      if (!primitive) {
        const dnnl_status_t status =
            dnnl_sgemm(g.trans_a ? 'T' : 'N', g.trans_b ? 'T' : 'N', key.rows, key.cols, g.k,
                       static_cast<float>(g.alpha), a, key.lda, b, key.ldb,
                       static_cast<float>(g.beta), c, key.ldc);
        if (status != dnnl_success)
          throw std::runtime_error("sgemm status " + std::to_string(status));
        continue;
      }
      const BlockProduct& p = block_product(key, g.beta);
      memory ma(p.a, cpu_engine(), const_cast<float*>(a));
      memory mb(p.b, cpu_engine(), const_cast<float*>(b));
      memory mc(p.c, cpu_engine(), c);
      dnnl::stream stream(cpu_engine());
      p.product->execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
      stream.wait();
    } catch (const dnnl::error& e) {
#pragma omp critical(tg_matmul_float_error)
      error = "status " + std::to_string(static_cast<int>(e.status)) + ": " + e.what();
    } catch (const std::exception& e) {  // no exception may leave an OpenMP region
#pragma omp critical(tg_matmul_float_error)
      error = e.what();
    }
  }
  TG_CHECK(error.empty(), "matmul: oneDNN's float32 product failed on m = ", g.m, ", n = ", g.n,
           ", k = ", g.k, " (", error, ")");
  return true;
}

}  // namespace tg::kernels::cpu::onednn
