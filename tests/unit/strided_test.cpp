// Note [coalesced iteration] (kernels/strided.h, kernels/cpu/strided_loop.h): the coalesced
// layouts themselves, and the CPU binary, where and copy launchers on random strided
// operands (broadcast along every dimension, size-1 dimensions, permuted and negative
// strides from views, 0-size and 0-d shapes, sizes past the parallel threshold) against a
// naive loop that computes every element's offset from its multi-index.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../../kernels/copy.h"
#include "../../kernels/elementwise.h"
#include "../../kernels/strided.h"

namespace tg::kernels {
namespace {

template <int N>
StridedLayout<N> layout_of(std::vector<int64_t> sizes, std::vector<std::vector<int64_t>> strides) {
  const int64_t* ptrs[N];
  for (int k = 0; k < N; ++k) ptrs[k] = strides[k].data();
  return coalesce<N>(static_cast<int>(sizes.size()), sizes.data(), ptrs);
}

template <int N>
void expect_layout(const StridedLayout<N>& got, std::vector<int64_t> sizes,
                   std::vector<std::vector<int64_t>> strides) {
  ASSERT_EQ(got.ndim, static_cast<int>(sizes.size()));
  for (int d = 0; d < got.ndim; ++d) {
    EXPECT_EQ(got.sizes[d], sizes[d]) << "dim " << d;
    for (int k = 0; k < N; ++k) EXPECT_EQ(got.strides[k][d], strides[k][d]) << "operand " << k;
  }
}

TEST(Coalesce, ContiguousBecomesOneDimension) {
  expect_layout(layout_of<2>({2, 3, 4}, {{12, 4, 1}, {12, 4, 1}}), {24}, {{1}, {1}});
}

TEST(Coalesce, BiasOverABatchStaysTwoDimensions) {
  expect_layout(layout_of<3>({128, 512}, {{512, 1}, {512, 1}, {0, 1}}), {128, 512},
                {{512, 1}, {512, 1}, {0, 1}});
}

TEST(Coalesce, PerChannelTermMergesTheSpatialDimensions) {
  // (N, C, H, W) with a (C, 1, 1) operand: (N, C, H·W).
  expect_layout(layout_of<2>({8, 16, 5, 7}, {{560, 35, 7, 1}, {0, 1, 0, 0}}), {8, 16, 35},
                {{560, 35, 1}, {0, 1, 0}});
}

TEST(Coalesce, SizeOneDimensionsAreDroppedWhateverTheirStride) {
  expect_layout(layout_of<2>({1, 6, 1, 5}, {{99, 5, 7, 1}, {-3, 5, 0, 1}}), {30}, {{1}, {1}});
}

TEST(Coalesce, ATransposedOperandKeepsBothDimensions) {
  expect_layout(layout_of<2>({3, 4}, {{4, 1}, {1, 3}}), {3, 4}, {{4, 1}, {1, 3}});
}

TEST(Coalesce, NegativeStridesMergeWhenConsistent) {
  // A fully reversed contiguous tensor walks as one dimension of stride -1.
  expect_layout(layout_of<2>({2, 3}, {{3, 1}, {-3, -1}}), {6}, {{1}, {-1}});
}

TEST(Coalesce, ZeroDimensionalAndZeroSizeShapes) {
  expect_layout(layout_of<2>({}, {{}, {}}), {1}, {{1}, {1}});
  expect_layout(layout_of<2>({1, 1}, {{1, 1}, {0, 0}}), {1}, {{1}, {1}});
  EXPECT_EQ(layout_of<2>({3, 0, 2}, {{0, 2, 1}, {0, 2, 1}}).numel(), 0);
}

// One operand's view: where its first element sits in a buffer, and its strides.
struct View {
  int64_t base = 0;
  std::vector<int64_t> strides;
  int64_t extent = 1;  // elements the buffer needs
};

// A random view of `sizes`: each dimension broadcast (if allowed) or stored, the stored
// dimensions in a random order, some walked backwards.
View random_view(const std::vector<int64_t>& sizes, bool allow_broadcast, std::mt19937& rng) {
  const int ndim = static_cast<int>(sizes.size());
  View v;
  v.strides.assign(ndim, 0);
  std::vector<int> order(ndim);
  for (int d = 0; d < ndim; ++d) order[d] = d;
  std::shuffle(order.begin(), order.end(), rng);
  int64_t stride = 1;
  for (int i = ndim - 1; i >= 0; --i) {
    const int d = order[i];
    if (allow_broadcast && rng() % 3 == 0) continue;  // stride 0
    v.strides[d] = stride;
    stride *= std::max<int64_t>(sizes[d], 1);
  }
  v.extent = stride;
  for (int d = 0; d < ndim; ++d) {
    if (v.strides[d] != 0 && rng() % 4 == 0 && sizes[d] > 0) {
      v.base += (sizes[d] - 1) * v.strides[d];
      v.strides[d] = -v.strides[d];
    }
  }
  return v;
}

int64_t offset_of(const View& v, const std::vector<int64_t>& index) {
  int64_t offset = v.base;
  for (size_t d = 0; d < index.size(); ++d) offset += index[d] * v.strides[d];
  return offset;
}

// Calls f(multi-index) for every element of `sizes` in row-major order.
template <typename F>
void for_each_index(const std::vector<int64_t>& sizes, F&& f) {
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  std::vector<int64_t> index(sizes.size(), 0);
  for (int64_t i = 0; i < numel; ++i) {
    int64_t rest = i;
    for (int d = static_cast<int>(sizes.size()) - 1; d >= 0; --d) {
      index[d] = rest % sizes[d];
      rest /= sizes[d];
    }
    f(index);
  }
}

std::vector<int64_t> random_sizes(std::mt19937& rng) {
  const int ndim = static_cast<int>(rng() % 5);
  std::vector<int64_t> sizes(ndim);
  for (auto& s : sizes) s = rng() % 10 == 0 ? 0 : 1 + static_cast<int64_t>(rng() % 6);
  return sizes;
}

void fill(std::vector<float>& values, std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(-50, 50);
  for (float& x : values) x = static_cast<float>(pick(rng)) * 0.25f;
}

struct BinaryCase {
  std::vector<int64_t> sizes;
  View out, a, b;
};

void check_binary(const BinaryCase& c, BinaryOp op, std::mt19937& rng) {
  std::vector<float> out(c.out.extent, -777.0f), a(c.a.extent), b(c.b.extent);
  fill(a, rng);
  fill(b, rng);
  BinaryArgs args{};
  args.op = op;
  args.dtype = DType::Float32;
  args.ndim = static_cast<int>(c.sizes.size());
  args.numel = 1;
  for (int d = 0; d < args.ndim; ++d) {
    args.sizes[d] = c.sizes[d];
    args.numel *= c.sizes[d];
    args.out_strides[d] = c.out.strides[d];
    args.a.strides[d] = c.a.strides[d];
    args.b.strides[d] = c.b.strides[d];
  }
  args.out = out.data() + c.out.base;
  args.a.data = a.data() + c.a.base;
  args.b.data = b.data() + c.b.base;
  cpu::binary(args);
  std::vector<float> expected(c.out.extent, -777.0f);
  for_each_index(c.sizes, [&](const std::vector<int64_t>& index) {
    expected[offset_of(c.out, index)] =
        binary_element(op, a[offset_of(c.a, index)], b[offset_of(c.b, index)]);
  });
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i], expected[i]) << "buffer element " << i << " of " << out.size();
  }
}

TEST(StridedBinary, RandomViewsAgreeWithTheNaiveLoop) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    BinaryCase c;
    c.sizes = random_sizes(rng);
    c.out = random_view(c.sizes, false, rng);
    c.a = random_view(c.sizes, true, rng);
    c.b = random_view(c.sizes, true, rng);
    SCOPED_TRACE("trial " + std::to_string(trial));
    check_binary(c, trial % 2 ? BinaryOp::Sub : BinaryOp::Maximum, rng);
  }
}

TEST(StridedBinary, BroadcastAlongEveryDimensionPastTheParallelThreshold) {
  std::mt19937 rng(11);
  const std::vector<int64_t> sizes{33, 40, 31};  // 40,920 elements: the parallel path
  for (int broadcast = 0; broadcast < 3; ++broadcast) {
    BinaryCase c;
    c.sizes = sizes;
    c.out = View{0, {40 * 31, 31, 1}, 33 * 40 * 31};
    c.a = c.out;
    std::vector<int64_t> stored = sizes;
    stored[broadcast] = 1;
    c.b = View{0, {stored[1] * stored[2], stored[2], 1}, stored[0] * stored[1] * stored[2]};
    c.b.strides[broadcast] = 0;
    SCOPED_TRACE("broadcast along dim " + std::to_string(broadcast));
    check_binary(c, BinaryOp::Add, rng);
  }
}

TEST(StridedBinary, InPlaceWithTheOutputAliasingA) {
  std::vector<float> a(6 * 7), bias(7);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = 100.0f * static_cast<float>(i);
  BinaryArgs args{};
  args.op = BinaryOp::Add;
  args.dtype = DType::Float32;
  args.ndim = 2;
  args.numel = 42;
  args.sizes[0] = 6;
  args.sizes[1] = 7;
  args.out_strides[0] = args.a.strides[0] = 7;
  args.out_strides[1] = args.a.strides[1] = args.b.strides[1] = 1;
  args.out = a.data();
  args.a.data = a.data();
  args.b.data = bias.data();
  cpu::binary(args);
  for (int64_t i = 0; i < 42; ++i) EXPECT_EQ(a[i], static_cast<float>(i) + 100.0f * (i % 7));
}

TEST(StridedWhere, RandomViewsAgreeWithTheNaiveLoop) {
  std::mt19937 rng(13);
  for (int trial = 0; trial < 200; ++trial) {
    const std::vector<int64_t> sizes = random_sizes(rng);
    const View cond = random_view(sizes, true, rng), a = random_view(sizes, true, rng),
               b = random_view(sizes, true, rng);
    std::vector<uint8_t> c(cond.extent);
    for (auto& x : c) x = static_cast<uint8_t>(rng() % 2);
    std::vector<float> av(a.extent), bv(b.extent);
    fill(av, rng);
    fill(bv, rng);
    WhereArgs args{};
    args.dtype = DType::Float32;
    args.ndim = static_cast<int>(sizes.size());
    args.numel = 1;
    for (int d = 0; d < args.ndim; ++d) {
      args.sizes[d] = sizes[d];
      args.numel *= sizes[d];
      args.cond.strides[d] = cond.strides[d];
      args.a.strides[d] = a.strides[d];
      args.b.strides[d] = b.strides[d];
    }
    std::vector<float> out(args.numel, -777.0f), expected;
    args.out = out.data();
    args.cond.data = c.data() + cond.base;
    args.a.data = av.data() + a.base;
    args.b.data = bv.data() + b.base;
    cpu::where(args);
    for_each_index(sizes, [&](const std::vector<int64_t>& index) {
      expected.push_back(c[offset_of(cond, index)] ? av[offset_of(a, index)]
                                                   : bv[offset_of(b, index)]);
    });
    ASSERT_EQ(out, expected) << "trial " << trial;
  }
}

TEST(StridedCopy, RandomViewsWithConversionAgreeWithTheNaiveLoop) {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int64_t> sizes = random_sizes(rng);
    if (trial % 50 == 0) sizes = {70, 3, 200};  // past the parallel threshold
    const View src = random_view(sizes, true, rng), dst = random_view(sizes, false, rng);
    std::vector<float> s(src.extent);
    fill(s, rng);
    std::vector<int64_t> d(dst.extent, -777), expected(dst.extent, -777);
    CopyArgs args{};
    args.src = s.data() + src.base;
    args.src_dtype = DType::Float32;
    args.dst = d.data() + dst.base;
    args.dst_dtype = DType::Int64;
    args.ndim = static_cast<int>(sizes.size());
    args.numel = 1;
    for (int k = 0; k < args.ndim; ++k) {
      args.sizes[k] = sizes[k];
      args.numel *= sizes[k];
      args.src_strides[k] = src.strides[k];
      args.dst_strides[k] = dst.strides[k];
    }
    cpu::copy(args);
    for_each_index(sizes, [&](const std::vector<int64_t>& index) {
      expected[offset_of(dst, index)] = static_cast<int64_t>(s[offset_of(src, index)]);
    });
    ASSERT_EQ(d, expected) << "trial " << trial;
  }
}

}  // namespace
}  // namespace tg::kernels
