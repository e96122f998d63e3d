// CUDA copy, fill and arange against their CPU twins, bit for bit: every dtype pair (the
// half dtypes too, Note [half dtypes]),
// sizes around warp and block boundaries, and strided sources and destinations written
// inside guard-filled buffers (so an out-of-bounds write shows as a changed guard).
#include <gtest/gtest.h>

#include "../../core/factory.h"
#include "../support/parity.h"

namespace tg {
namespace {

const int64_t kSizes[] = {0,   1,   2,    3,    31,   32,   33,    255,
                          256, 257, 1023, 1024, 1025, 4097, 65537, 1 << 20};
const DType kDtypes[] = {DType::Float32, DType::Float64,  DType::Int64,
                         DType::UInt8,   DType::BFloat16, DType::Float16};

// Values that exercise conversions: fractions, negatives, values past uint8's range.
Tensor source_values(int64_t n, const Device& device) {
  Generator g(n + 1);
  return uniform({n}, -300, 300, DType::Float64, &g).to(device);
}

TEST(CopyCuda, ContiguousConversionsMatchCpu) {
  TG_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    const Tensor base = source_values(n, Device::cpu());
    for (DType from : kDtypes) {
      const Tensor src_cpu = base.to(from);
      const Tensor src_gpu = src_cpu.to(Device::cuda());
      for (DType to : kDtypes) {
        EXPECT_TRUE(testing::tensors_bitwise_equal(src_gpu.to(to), src_cpu.to(to)))
            << "n " << n << " " << from << " -> " << to;
      }
    }
  }
}

struct StridedCase {
  Shape shape;
  std::vector<int64_t> permutation;  // applied to the source
  int64_t slice_step;                // along the destination's last dim
};

TEST(CopyCuda, StridedCopiesMatchCpuAndKeepGuards) {
  TG_REQUIRE_CUDA();
  const StridedCase cases[] = {
      {{1, 1}, {1, 0}, 1},
      {{33, 65}, {1, 0}, 1},
      {{65, 33}, {1, 0}, 2},
      {{7, 11, 13}, {2, 0, 1}, 3},
      {{2, 3, 4, 5}, {3, 2, 1, 0}, 1},
      {{1025, 3}, {1, 0}, 2},
      {{0, 5}, {1, 0}, 1},
      {{257, 129}, {1, 0}, 1},
      {{3, 1, 1, 5, 1}, {4, 3, 2, 1, 0}, 2},
  };
  for (const StridedCase& c : cases) {
    for (DType from : {DType::Float32, DType::Int64, DType::BFloat16}) {
      for (DType to : {DType::Float64, DType::UInt8, DType::Float16}) {
        Shape permuted(c.shape.size());
        for (size_t d = 0; d < c.shape.size(); ++d) permuted[d] = c.shape[c.permutation[d]];
        const Tensor src_cpu = source_values(shape_numel(c.shape), Device::cpu())
                                   .to(from)
                                   .view(c.shape)
                                   .permute(c.permutation);
        // The destination: every slice_step-th column of a guard-filled buffer.
        Shape buffer_shape = permuted;
        buffer_shape.back() = permuted.back() * c.slice_step + 1;
        Tensor guard_cpu = full(buffer_shape, 123.0, to);
        Tensor guard_gpu = full(buffer_shape, 123.0, TensorOptions(to).device(Device::cuda()));
        const int64_t last = static_cast<int64_t>(permuted.size()) - 1;
        guard_cpu.slice(last, 1, buffer_shape.back(), c.slice_step).copy_(src_cpu);
        guard_gpu.slice(last, 1, buffer_shape.back(), c.slice_step)
            .copy_(src_cpu.to(Device::cuda()));
        EXPECT_TRUE(testing::tensors_bitwise_equal(guard_gpu, guard_cpu))
            << "shape " << to_string(c.shape) << " " << from << " -> " << to;
      }
    }
  }
}

TEST(CopyCuda, CrossDeviceCopyIntoNonContiguousDestination) {
  TG_REQUIRE_CUDA();
  Tensor dst = zeros({4, 6}, Device::cuda());
  const Tensor src = arange(12.0, DType::Int64).view({4, 3});
  dst.slice(1, 0, 6, 2).copy_(src);  // host int64 into strided cuda float32
  Tensor expected = zeros({4, 6});
  expected.slice(1, 0, 6, 2).copy_(src);
  EXPECT_TRUE(testing::tensors_bitwise_equal(dst, expected));
}

TEST(FillCuda, FillAndArangeMatchCpu) {
  TG_REQUIRE_CUDA();
  for (int64_t n : kSizes) {
    for (DType dtype : kDtypes) {
      const TensorOptions cpu(dtype), gpu = TensorOptions(dtype).device(Device::cuda());
      // 0 takes the memset path, -0.0 (sign bit set) the kernel: both must match bit for bit.
      for (double value : {-2.75, 0.0, -0.0}) {
        EXPECT_TRUE(
            testing::tensors_bitwise_equal(full({n}, 7.0, gpu).fill_(value), full({n}, value, cpu)))
            << n << " " << dtype << " value " << value;
      }
      const double step = dtype == DType::UInt8 ? 0.37 : 0.1;
      EXPECT_TRUE(testing::tensors_bitwise_equal(arange(-5, -5 + step * n, step, gpu),
                                                 arange(-5, -5 + step * n, step, cpu)))
          << n << " " << dtype;
    }
  }
}

// Copies between every pair of devices, with a converted (so staged, temporary) source
// that is freed on its own stream right after the copy is queued: the source's stream must
// wait for the copy before that memory is reused. With one GPU only the CPU pairs and the
// same-device pair run; the peer path needs two.
TEST(CopyCuda, EveryDevicePairCopiesAStagedSource) {
  TG_REQUIRE_CUDA();
  std::vector<Device> devices{Device::cpu()};
  for (int i = 0; i < cuda_device_count(); ++i) devices.push_back(Device::cuda(i));
  const Tensor expected = source_values(1 << 22, Device::cpu()).to(DType::Float32);
  for (const Device& from : devices) {
    const Tensor src = expected.to(DType::Float64).to(from);
    for (const Device& to : devices) {
      Tensor dst = empty({1 << 22}, TensorOptions(DType::Float32).device(to));
      dst.copy_(src);  // stages src.to(Float32) on `from`, freed when copy_ returns
      // Reuse the freed block on `from` at once: it must not change what was copied.
      full({1 << 22}, -1.0, TensorOptions(DType::Float32).device(from));
      EXPECT_TRUE(testing::tensors_bitwise_equal(dst.to(Device::cpu()), expected))
          << from << " -> " << to;
    }
  }
}

}  // namespace
}  // namespace tg
