// oneDNN's matmul primitive for half operands, and float32 x·Wᵀ by blocks of the result
// (kernels/cpu/matmul_onednn.h).
//
// Each stored operand is described with its own strides, so a transposed one (trans_a,
// trans_b) is read in place; C is row-major with ldc. beta (0 or 1) is a sum post-op, a bias
// (Linear's, kernels/matmul.h) a binary-add post-op. One primitive per call, run once per
// batch entry with the entry's pointers (made again from oneDNN's own primitive cache each call).
// Determinism: oneDNN's bf16 matmul gave the same bits on 1, 2 and 3 threads for every
// shape tried (the MLP's and CNN's, 1x4096x10, 10x10000x3, 3x50000x2, 7x3000x300,
// 256x64x4096: a split of K would show in the long, thin ones); tests/unit/autocast_test.cpp
// keeps checking the models' shapes.
#include "matmul_onednn.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>

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
// Float32 products x·Wᵀ (A as stored, B transposed: Linear's forward) run on oneDNN's matmul
// primitive (its brgemm kernels), which beats its sgemm there (2 cores of an AMD EPYC:
// 128x512x784 491-511 against 568-584 us; 128x256x512 164-174 against 250-262 us). Planned for
// several threads the primitive may split K between them (seen on long, thin products), and
// sgemm on its own threads gave this x·W1ᵀ different bits on 1 and 2 threads; so C is cut by
// its shape alone into blocks (cut_of), each block a product of its own, made and run on one
// thread (OneThread), the blocks (of every batch entry) over the OpenMP threads: a block's sums
// are the same whichever thread runs it and however many there are. The other products stay on
// sgemm on its own threads: a block at a time on one thread it was as fast at the MLP's
// gradients but 20-30% slower on large ones (1024x1024x1024: 12.7-13.6 against 10.4-10.9 ms),
// and so was the primitive by blocks (11.5 against 10.3 ms); their bits matched on 1 and 2
// threads for every shape tried here, not on an Intel Xeon (core/threads.h). What the
// primitive does not take (alpha != 1, k = 0, a reference kernel only) goes to sgemm too.
constexpr int64_t kBlockRows = 64, kBlockCols = 128;

struct Cut {
  int64_t rows, cols;  // a block's (the last of a row or column may be shorter)
  int64_t row_blocks, col_blocks;
  int64_t count() const { return row_blocks * col_blocks; }
};

// Rows of kBlockRows; below two row blocks (a batch under 128) columns of kBlockCols as well,
// so a small batch still has blocks for every thread (one sample's 1x512x784: 12.8 against
// 73.8 us as one block). With two row blocks or more the columns stay whole: smaller blocks
// cost more than they gave (the MLP step 2.12-2.28 ms with 64x128 blocks, 2.01-2.17 with rows).
Cut cut_of(const MatmulArgs& g) {
  const int64_t cols = g.m >= 2 * kBlockRows ? std::max<int64_t>(g.n, 1) : kBlockCols;
  return {kBlockRows, cols, (g.m + kBlockRows - 1) / kBlockRows, (g.n + cols - 1) / cols};
}

// A block's product, made once per thread and shape (oneDNN's descriptor and dispatch cost
// more than the small products themselves), at most kMadeShapes kept per thread (all dropped
// when more come, as a run with ever new shapes would); null where oneDNN has only a reference
// kernel.
constexpr size_t kMadeShapes = 256;

// A block of x·Wᵀ: A (rows, k) as stored, B (k, cols) the transpose of a stored (cols, k); sum:
// C's own values added (beta = 1); bias: a row of cols values added to every row (Linear's,
// with beta = 0, so it is post-op 0). The bias is a binary-add post-op, applied to the finished
// sums as the sum post-op is: the same bits as the bias put in C first and the product added
// with beta = 1. The primitive's own bias argument did not give them (112x256x1152: 12,529 of
// 28,672 elements differed; it seems to enter the sums before K's last block).
struct BlockKey {
  int64_t rows, cols, k, lda, ldb, ldc;
  bool sum, bias;
  bool operator<(const BlockKey& o) const {
    return std::tie(rows, cols, k, lda, ldb, ldc, sum, bias) <
           std::tie(o.rows, o.cols, o.k, o.lda, o.ldb, o.ldc, o.sum, o.bias);
  }
};

struct BlockProduct {
  memory::desc a, b, c, bias;
  std::unique_ptr<dnnl::matmul> product;  // null: declined
};

const BlockProduct& block_product(const BlockKey& key) {
  thread_local std::map<BlockKey, BlockProduct> made;
  const auto found = made.find(key);
  if (found != made.end()) return found->second;
  if (made.size() >= kMadeShapes) made.clear();
  const auto f32 = memory::data_type::f32;
  BlockProduct p;
  p.a = operand_desc(key.rows, key.k, false, key.lda, f32);
  p.b = operand_desc(key.k, key.cols, true, key.ldb, f32);
  p.c = memory::desc({key.rows, key.cols}, f32, memory::dims{key.ldc, 1});
  dnnl::primitive_attr attr;
  dnnl::post_ops post;
  if (key.sum) post.append_sum(1.0f);
  if (key.bias) {
    p.bias = memory::desc({1, key.cols}, f32, memory::dims{key.cols, 1});
    post.append_binary(dnnl::algorithm::binary_add, p.bias);
  }
  if (key.sum || key.bias) attr.set_post_ops(post);
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
  if (g.dtype != DType::Float32 || g.trans_a || !g.trans_b || g.alpha != 1.0 || g.k == 0 ||
      (g.beta != 0 && g.beta != 1))
    return false;
  const Cut cut = cut_of(g);
  const auto key_of = [&](int64_t block) {
    const int64_t row = block / cut.col_blocks * cut.rows;
    const int64_t col = block % cut.col_blocks * cut.cols;
    return BlockKey{std::min(cut.rows, g.m - row),
                    std::min(cut.cols, g.n - col),
                    g.k,
                    std::max<int64_t>(g.lda, 1),
                    std::max<int64_t>(g.ldb, 1),
                    std::max<int64_t>(g.ldc, 1),
                    g.beta != 0,
                    g.bias != nullptr};
  };
  try {
    // Every block shape (a full one, the last row's, the last column's) made here first, so
    // that a declined one sends the whole product to sgemm before any block ran.
    const OneThread one;
    for (int64_t block :
         {int64_t{0}, cut.count() - 1, cut.col_blocks - 1, cut.count() - cut.col_blocks}) {
      if (!block_product(key_of(block)).product) return false;
    }
  } catch (const dnnl::error& e) {
    TG_THROW("matmul: oneDNN could not make a float32 product of m = ", g.m, ", n = ", g.n,
             ", k = ", g.k, " (status ", static_cast<int>(e.status), ": ", e.what(), ")");
  }
  std::string error;
  const int64_t tasks = g.batch * cut.count();
#pragma omp parallel for schedule(static) if (tasks > 1)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t entry = t / cut.count(), block = t % cut.count();
    const int64_t row = block / cut.col_blocks * cut.rows;
    const int64_t col = block % cut.col_blocks * cut.cols;
    const BlockKey key = key_of(block);
    const std::string failed = failure_of("matmul: oneDNN's float32 product", [&] {
      const OneThread one;
      const BlockProduct& p = block_product(key);
      const float* a = static_cast<const float*>(g.a) + entry * g.stride_a + row * key.lda;
      const float* b = static_cast<const float*>(g.b) + entry * g.stride_b + col * key.ldb;
      float* c = static_cast<float*>(g.c) + entry * g.stride_c + row * key.ldc + col;
      memory ma(p.a, cpu_engine(), const_cast<float*>(a));
      memory mb(p.b, cpu_engine(), const_cast<float*>(b));
      memory mc(p.c, cpu_engine(), c);
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}};
      if (key.bias) {
        args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1,
                     memory(p.bias, cpu_engine(),
                            const_cast<float*>(static_cast<const float*>(g.bias)) + col));
      }
      dnnl::stream stream(cpu_engine());
      p.product->execute(stream, args);
      stream.wait();
    });
    if (!failed.empty()) {
#pragma omp critical(tg_matmul_float_error)
      error = failed;
    }
  }
  TG_CHECK(error.empty(), error, " (m = ", g.m, ", n = ", g.n, ", k = ", g.k, ")");
  return true;
}

}  // namespace tg::kernels::cpu::onednn
