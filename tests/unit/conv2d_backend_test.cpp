// The CPU conv2d backends (Note [onednn conv2d], Note [cpu conv2d]): float32 runs (oneDNN's
// primitives when built with it, Winograd's where it takes the shapes: Note [winograd conv2d];
// else our im2col + GEMM) against float64 runs (always our im2col + GEMM) on many geometries,
// all three gradients and the bias's; and the float32 results are bit-identical whatever the
// OpenMP thread count, which the trainers' reproducibility rests on.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../core/autograd.h"
#include "../../core/device.h"
#include "../../core/factory.h"
#include "../../core/generator.h"
#include "../../core/ops.h"
#include "../../kernels/conv2d.h"
#include "../../kernels/cpu/conv2d_onednn.h"
#include "../support/parity.h"

namespace tg {
namespace {

struct Geometry {
  int64_t n, c_in, h, w, c_out, kh, kw;
  Size2 stride, padding, dilation;
  int64_t groups;
  std::string name() const {
    return "N" + std::to_string(n) + " C" + std::to_string(c_in) + "->" + std::to_string(c_out) +
           " " + std::to_string(h) + "x" + std::to_string(w) + " k" + std::to_string(kh) + "x" +
           std::to_string(kw) + " s" + std::to_string(stride[0]) + "x" + std::to_string(stride[1]) +
           " p" + std::to_string(padding[0]) + "x" + std::to_string(padding[1]) + " d" +
           std::to_string(dilation[0]) + " g" + std::to_string(groups);
  }
};

const std::vector<Geometry>& geometries() {
  static const std::vector<Geometry> all = {
      {2, 3, 8, 8, 4, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1},
      {1, 1, 5, 7, 6, 3, 3, {1, 1}, {0, 0}, {1, 1}, 1},
      {3, 4, 9, 11, 8, 3, 3, {2, 2}, {1, 1}, {1, 1}, 1},
      {2, 6, 10, 10, 4, 3, 3, {1, 1}, {2, 2}, {2, 2}, 2},
      {5, 8, 7, 7, 16, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1},
      {2, 3, 12, 9, 5, 5, 3, {2, 1}, {2, 1}, {1, 1}, 1},
      {17, 32, 14, 14, 64, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1},
      {3, 16, 6, 6, 32, 2, 2, {2, 2}, {0, 0}, {1, 1}, 1},
      {2, 4, 8, 8, 4, 3, 3, {3, 3}, {0, 0}, {1, 1}, 4},
      {1, 2, 4, 4, 2, 4, 4, {1, 1}, {0, 0}, {1, 1}, 1},
      // the MNIST CNN's layers at its batch size
      {128, 1, 28, 28, 32, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1},
      {128, 64, 7, 7, 128, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1},
      // Winograd's (Note [winograd conv2d]; so is the one above): blocks of 16, 16 and 8
      {40, 32, 14, 14, 64, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1},
  };
  return all;
}

struct Results {
  Tensor y, grad_x, grad_w, grad_b;
};

// Forward, then backward with a fixed upstream gradient, in `dtype`; with a bias (inside the
// passes: Note [conv2d bias]) on the geometries of odd index.
Results run(const Geometry& g, DType dtype, bool with_bias) {
  Generator gen(42);
  Tensor x = randn({g.n, g.c_in, g.h, g.w}, {}, &gen).to(dtype).requires_grad_(true);
  Tensor w =
      randn({g.c_out, g.c_in / g.groups, g.kh, g.kw}, {}, &gen).to(dtype).requires_grad_(true);
  Tensor b = with_bias ? randn({g.c_out}, {}, &gen).to(dtype).requires_grad_(true) : Tensor();
  const Tensor y = conv2d(x, w, b, g.stride, g.padding, g.dilation, g.groups);
  const Tensor upstream = randn(y.shape(), {}, &gen).to(dtype);
  y.backward(upstream);
  if (with_bias) {  // the bias's gradient is the upstream gradient summed over N, H and W
    EXPECT_TRUE(testing::tensors_close(b.grad(), sum(upstream, {0, 2, 3}), 1e-4, 1e-5));
  }
  return {y.detach(), x.grad(), w.grad(), with_bias ? b.grad() : Tensor()};
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.contiguous().raw_data_ptr(), b.contiguous().raw_data_ptr(),
                     a.numel() * a.element_size()) == 0;
}

TEST(Conv2dBackends, Float32AgreesWithFloat64OnEveryPass) {
  for (size_t i = 0; i < geometries().size(); ++i) {
    const Geometry& g = geometries()[i];
    SCOPED_TRACE(g.name());
    const bool bias = i % 2 == 1;
    const Results single = run(g, DType::Float32, bias), reference = run(g, DType::Float64, bias);
    // Winograd's error (Note [winograd conv2d]) scales with the output's size, not each
    // element's: up to ~1e-5 of the RMS (32->64 and 64->128, measured 7e-6 to 1.1e-5); the
    // direct kernels stay far below the floor of 1e-4.
    auto atol = [](const Tensor& reference) {
      return std::max(1e-4, 3e-5 * std::sqrt(mean(reference * reference).item<double>()));
    };
    EXPECT_TRUE(testing::tensors_close(single.y, reference.y, atol(reference.y), 1e-4))
        << "forward";
    EXPECT_TRUE(
        testing::tensors_close(single.grad_x, reference.grad_x, atol(reference.grad_x), 1e-4))
        << "grad x";
    // The filter gradient sums N·out_h·out_w products per element in float32: its error
    // grows like the square root of that count.
    const double terms = static_cast<double>(g.n * single.y.size(2) * single.y.size(3));
    EXPECT_TRUE(
        testing::tensors_close(single.grad_w, reference.grad_w, 1e-5 * std::sqrt(terms), 1e-4))
        << "grad w";
    if (bias) {
      EXPECT_TRUE(
          testing::tensors_close(single.grad_b, reference.grad_b, 1e-5 * std::sqrt(terms), 1e-4))
          << "grad b";
    }
  }
}

TEST(Conv2dBackends, Float32BitsDoNotDependOnTheThreadCount) {
  const int saved = omp_get_max_threads();
  for (size_t i = 0; i < geometries().size(); ++i) {
    const Geometry& g = geometries()[i];
    SCOPED_TRACE(g.name());
    const bool bias = i % 2 == 1;
    omp_set_num_threads(1);
    const Results one = run(g, DType::Float32, bias);
    for (int threads : {2, 3}) {
      omp_set_num_threads(threads);
      const Results many = run(g, DType::Float32, bias);
      EXPECT_TRUE(same_bits(one.y, many.y)) << "forward, " << threads << " threads";
      EXPECT_TRUE(same_bits(one.grad_x, many.grad_x)) << "grad x, " << threads << " threads";
      EXPECT_TRUE(same_bits(one.grad_w, many.grad_w)) << "grad w, " << threads << " threads";
      if (bias) {
        EXPECT_TRUE(same_bits(one.grad_b, many.grad_b)) << "grad b, " << threads << " threads";
      }
    }
  }
  omp_set_num_threads(saved);
}

// Passes are made once per thread and kept (Note [made passes]): the same geometry with and
// without a bias, on 1 and 2 threads, in turns, each run must be its own case's (a kept pass
// taken for another would drop or add the bias).
TEST(Conv2dBackends, KeptPassesAreTakenOnlyForTheirOwnCase) {
  const int saved = omp_get_max_threads();
  for (size_t i : {size_t{0}, size_t{6}, size_t{11}, size_t{12}}) {
    const Geometry& g = geometries()[i];
    SCOPED_TRACE(g.name());
    omp_set_num_threads(1);
    const Results with_bias = run(g, DType::Float32, true);
    const Results reference = run(g, DType::Float64, false);
    for (int threads : {2, 1}) {
      omp_set_num_threads(threads);
      const Results without = run(g, DType::Float32, false);
      const double atol =
          std::max(1e-4, 3e-5 * std::sqrt(mean(reference.y * reference.y).item<double>()));
      EXPECT_TRUE(testing::tensors_close(without.y, reference.y, atol, 1e-4))
          << "forward without the bias, " << threads << " threads";
      const Results again = run(g, DType::Float32, true);
      EXPECT_TRUE(same_bits(with_bias.y, again.y)) << "forward, " << threads << " threads";
      EXPECT_TRUE(same_bits(with_bias.grad_w, again.grad_w)) << "grad w, " << threads << " threads";
      EXPECT_TRUE(same_bits(with_bias.grad_b, again.grad_b)) << "grad b, " << threads << " threads";
    }
  }
  omp_set_num_threads(saved);
}

// The conv block's backward by blocks (Note [conv block]): each block's output gradient written
// by the callback into the buffer it is handed just before the passes read it there, the bits
// of the whole-batch passes.
TEST(Conv2dBackends, TheBackwardByBlocksMatchesTheWholeBatchPasses) {
  // 37 samples: blocks of 16, 16 and 5; an odd plane, a stride, the bias's gradient.
  kernels::Conv2dGeometry g{37, 16, 9, 7, 32, 3, 3, 2, 1, 1, 1, 1, 1, 1, 0, 0};
  g.out_h = (g.h + 2 * g.pad_h - g.kh) / g.stride_h + 1;
  g.out_w = (g.w + 2 * g.pad_w - g.kw) / g.stride_w + 1;
  Generator gen(9);
  const Tensor x = randn({g.n, g.c_in, g.h, g.w}, {}, &gen);
  const Tensor w = randn({g.c_out, g.c_in, g.kh, g.kw}, {}, &gen);
  const Tensor grad = randn({g.n * g.c_out * g.out_h * g.out_w}, {}, &gen);  // read as nChw16c
  kernels::Conv2dArgs whole{
      DType::Float32, g, x.raw_data_ptr(), w.raw_data_ptr(), grad.raw_data_ptr(), nullptr, false};
  whole.blocked = true;
  if (!kernels::cpu::conv2d_blocked_takes(whole)) GTEST_SKIP() << "no oneDNN in this build";
  const Tensor dx = empty(x.shape()), dw = empty(w.shape()), db = empty({g.c_out});
  kernels::Conv2dArgs data = whole, filter = whole;
  data.out = dx.raw_data_ptr();
  kernels::cpu::conv2d_backward_data(data);
  filter.out = dw.raw_data_ptr();
  filter.grad_bias = db.raw_data_ptr();
  kernels::cpu::conv2d_backward_filter(filter);

  // Each block's gradient goes into the buffer the callback is handed; the args' grad_out is
  // all NaN, so a pass that read it (or read a block before its callback ran) would carry NaN
  // into the results.
  const Tensor unread = full(grad.shape(), std::nan(""));
  const Tensor dx_blocks = empty(x.shape()), dw_blocks = empty(w.shape());
  const Tensor db_blocks = empty({g.c_out});
  data.grad_out = filter.grad_out = unread.raw_data_ptr();
  data.out = dx_blocks.raw_data_ptr();
  filter.out = dw_blocks.raw_data_ptr();
  filter.grad_bias = db_blocks.raw_data_ptr();
  const int64_t sample = g.c_out * g.out_h * g.out_w;
  std::vector<int> calls(static_cast<size_t>(g.n), 0);
  std::atomic<bool> aligned{true};  // the callbacks run on several threads
  const auto write_block = [&](int64_t first, int64_t count, void* grad_out) {
    std::memcpy(grad_out, grad.data_ptr<float>() + first * sample, count * sample * sizeof(float));
    if (reinterpret_cast<uintptr_t>(grad_out) % 64 != 0) aligned = false;
  };
  kernels::cpu::conv2d_backward_blocks(&data, &filter,
                                       [&](int64_t first, int64_t count, void* grad_out) {
                                         write_block(first, count, grad_out);
                                         for (int64_t n = first; n < first + count; ++n)
                                           ++calls[static_cast<size_t>(n)];  // its own samples
                                       });
  EXPECT_EQ(calls, std::vector<int>(static_cast<size_t>(g.n), 1)) << "each sample once";
  EXPECT_TRUE(aligned) << "the block buffers are 64-byte aligned";
  EXPECT_TRUE(same_bits(dx, dx_blocks)) << "grad x";
  EXPECT_TRUE(same_bits(dw, dw_blocks)) << "grad w";
  EXPECT_TRUE(same_bits(db, db_blocks)) << "grad b";

  // One pass alone; and what the callback throws reaches the caller.
  const Tensor dw_alone = empty(w.shape());
  filter.out = dw_alone.raw_data_ptr();
  filter.grad_bias = nullptr;
  kernels::cpu::conv2d_backward_blocks(nullptr, &filter, write_block);
  EXPECT_TRUE(same_bits(dw, dw_alone)) << "grad w alone";
  try {
    kernels::cpu::conv2d_backward_blocks(&data, nullptr, [](int64_t first, int64_t, void*) {
      if (first > 0) throw std::runtime_error("block gradient failed");
    });
    ADD_FAILURE() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("block gradient failed"), std::string::npos) << e.what();
  }
}

// Note [kept transformed filters]: a prepared filter the caller still holds is not written by the
// next one made for the same shape (other weights), and one made after both were let go carries
// its own weights. (A batch of two blocks, so that the blocks take Winograd: our own on AVX-512.)
TEST(Conv2dBackends, AHeldPreparedFilterIsNotOverwritten) {
  namespace onednn = kernels::cpu::onednn;
  const int64_t block = onednn::kBlockSamples, n = 2 * block;
  kernels::Conv2dGeometry g{n, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 14, 14};
  Generator gen(5);
  const Tensor wa = randn({g.c_out, g.c_in, 3, 3}, {}, &gen);
  const Tensor wb = randn({g.c_out, g.c_in, 3, 3}, {}, &gen);
  const Tensor grad = randn({n, g.c_out, g.h, g.w}, {}, &gen);
  kernels::Conv2dArgs a{DType::Float32,      g,       nullptr, wa.raw_data_ptr(),
                        grad.raw_data_ptr(), nullptr, false};
  kernels::Conv2dArgs b = a;
  b.weight = wb.raw_data_ptr();
  std::shared_ptr<const onednn::PreparedWeight> held = onednn::conv2d_data_weight(a, block);
  if (held == nullptr) GTEST_SKIP() << "no oneDNN data pass for this shape in this build";
  const auto data_gradient = [&](const kernels::Conv2dArgs& args,
                                 const onednn::PreparedWeight* weight) {
    const Tensor out = zeros({n, g.c_in, g.h, g.w});
    kernels::Conv2dArgs with_out = args;
    with_out.out = out.raw_data_ptr();
    EXPECT_EQ(onednn::conv2d_data_block(with_out, 0, block, args.grad_out, weight), "");
    return out;
  };
  const Tensor first = data_gradient(a, held.get());
  std::shared_ptr<const onednn::PreparedWeight> other = onednn::conv2d_data_weight(b, block);
  EXPECT_NE(other.get(), held.get());
  EXPECT_TRUE(same_bits(first, data_gradient(a, held.get()))) << "the held one was written";
  EXPECT_FALSE(same_bits(first, data_gradient(b, other.get()))) << "the other weights' gradient";
  held.reset();
  other.reset();
  std::shared_ptr<const onednn::PreparedWeight> again = onednn::conv2d_data_weight(a, block);
  EXPECT_TRUE(same_bits(first, data_gradient(a, again.get()))) << "made again after both went";
}

TEST(Conv2dBackends, TheBackendIsNamed) {
  EXPECT_NE(cpu_backend_description().find("GEMM"), std::string::npos) << cpu_backend_description();
}

}  // namespace
}  // namespace tg
