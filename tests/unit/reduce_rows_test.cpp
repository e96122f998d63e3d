// Row reductions of a few long rows, cut into chunks (Note [long rows], kernels/reduce.h):
// the cut, and the CPU launcher against a one-pass scan, with ties and NaNs placed across
// chunk boundaries, whatever the thread count. The CUDA launcher against this one:
// tests/cuda/reduce_parity_test.cpp.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "../../core/factory.h"
#include "../../core/ops/reduce.h"
#include "../../kernels/reduce.h"

namespace tg::kernels {
namespace {

TEST(ReduceChunks, CutDependsOnTheShapeAndCoversEveryRow) {
  for (int64_t outer : {1, 2, 3, 7, 100, 255, 256, 1000}) {
    for (int64_t inner : {int64_t{1}, int64_t{100}, 2 * kReduceChunk - 1, 2 * kReduceChunk,
                          int64_t{100001}, int64_t{1} << 20, int64_t{3000001}}) {
      SCOPED_TRACE(::testing::Message() << outer << " x " << inner);
      const ReduceChunks c = reduce_chunks(outer, inner);
      if (outer >= kReduceWideRows || inner < 2 * kReduceChunk) {
        EXPECT_EQ(c.count, 1);
        EXPECT_EQ(c.length, inner);
        continue;
      }
      EXPECT_GE(c.count, 2);
      EXPECT_GE(c.count * c.length, inner);        // every element in a chunk
      EXPECT_LT((c.count - 1) * c.length, inner);  // no empty chunk
      EXPECT_GE(c.length, kReduceChunk / 2);       // chunks worth a block
      EXPECT_LE(outer * c.count, std::max<int64_t>(kReduceMaxPartials, 2 * outer));
    }
  }
}

// A row reduced in one pass, written apart from the kernels (STYLE 5): the sum in double;
// the extremes as PyTorch defines them: a NaN beats every number and the first NaN stays,
// otherwise only a strictly better value replaces the best, so ties keep the first index.
struct Scan {
  double sum = 0;
  double max = 0, min = 0;
  int64_t argmax = 0, argmin = 0;
};

bool beats(double candidate, double best, bool is_max) {
  if (std::isnan(best)) return false;
  if (std::isnan(candidate)) return true;
  return is_max ? candidate > best : candidate < best;
}

template <typename T>
Scan scan(const T* x, int64_t n) {
  Scan s;
  s.max = s.min = x[0];
  for (int64_t i = 0; i < n; ++i) {
    s.sum += x[i];
    if (beats(x[i], s.max, true)) {
      s.max = x[i];
      s.argmax = i;
    }
    if (beats(x[i], s.min, false)) {
      s.min = x[i];
      s.argmin = i;
    }
  }
  return s;
}

// Values in [-1, 1) from a fixed linear congruential sequence.
template <typename T>
std::vector<T> values(int64_t n, uint64_t seed) {
  std::vector<T> v(static_cast<size_t>(n));
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (T& x : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<T>(static_cast<double>(state >> 11) / 9007199254740992.0 * 2 - 1);
  }
  return v;
}

template <typename T>
void expect_rows_match_scan(const std::vector<T>& data, int64_t outer, int64_t inner) {
  const DType dtype = std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
  std::vector<T> out(static_cast<size_t>(outer));
  std::vector<int64_t> indices(static_cast<size_t>(outer));
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
    cpu::reduce({op, dtype, outer, inner, data.data(), out.data(), indices.data()});
    for (int64_t row = 0; row < outer; ++row) {
      SCOPED_TRACE(::testing::Message() << outer << " x " << inner << ", row " << row << ", op "
                                        << static_cast<int>(op));
      const Scan s = scan(data.data() + row * inner, inner);
      if (op == ReduceOp::Sum && std::isnan(s.sum)) {
        EXPECT_TRUE(std::isnan(out[row]));
      } else if (op == ReduceOp::Sum) {
        EXPECT_NEAR(out[row], s.sum, (std::is_same_v<T, float> ? 1e-6 : 1e-12) * inner);
      } else {
        const double want = op == ReduceOp::Max ? s.max : s.min;
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(out[row]));
        } else {
          EXPECT_EQ(out[row], static_cast<T>(want));
        }
        EXPECT_EQ(indices[row], op == ReduceOp::Max ? s.argmax : s.argmin);
      }
    }
  }
}

TEST(ReduceRows, LongRowsMatchAOnePassScan) {
  for (auto [outer, inner] : std::vector<std::pair<int64_t, int64_t>>{{1, 3000001},
                                                                      {3, 100003},
                                                                      {2, 2 * kReduceChunk},
                                                                      {255, 2 * kReduceChunk + 1},
                                                                      {1, 2 * kReduceChunk - 1},
                                                                      {256, 20000}}) {
    expect_rows_match_scan(values<float>(outer * inner, 1), outer, inner);
    expect_rows_match_scan(values<double>(outer * inner, 2), outer, inner);
  }
}

TEST(ReduceRows, TiesAndNaNsAcrossChunksKeepTheFirst) {
  const int64_t inner = 100000;  // 13 chunks of 7693
  const ReduceChunks c = reduce_chunks(1, inner);
  ASSERT_GT(c.count, 3);
  std::vector<float> x = values<float>(inner, 3);
  // Equal extremes on both sides of a chunk boundary and in a later chunk.
  for (int64_t i : {c.length - 1, c.length, 3 * c.length + 5}) x[i] = 7.0f;
  for (int64_t i : {2 * c.length - 1, 2 * c.length}) x[i] = -7.0f;
  expect_rows_match_scan(x, 1, inner);
  float out = 0;
  int64_t index = -1;
  cpu::reduce({ReduceOp::Max, DType::Float32, 1, inner, x.data(), &out, &index});
  EXPECT_EQ(index, c.length - 1);
  cpu::reduce({ReduceOp::Min, DType::Float32, 1, inner, x.data(), &out, &index});
  EXPECT_EQ(index, 2 * c.length - 1);
  // NaNs in two chunks, the later one in an earlier-reduced position of its chunk: the
  // first NaN of the row wins, for max and min alike.
  x[4 * c.length + 2] = std::numeric_limits<float>::quiet_NaN();
  x[2 * c.length + 100] = std::numeric_limits<float>::quiet_NaN();
  expect_rows_match_scan(x, 1, inner);
  for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min}) {
    cpu::reduce({op, DType::Float32, 1, inner, x.data(), &out, &index});
    EXPECT_TRUE(std::isnan(out));
    EXPECT_EQ(index, 2 * c.length + 100);
  }
  // Every element equal: index 0.
  std::vector<double> flat(static_cast<size_t>(inner), -std::numeric_limits<double>::infinity());
  double value = 0;
  cpu::reduce({ReduceOp::Max, DType::Float64, 1, inner, flat.data(), &value, &index});
  EXPECT_EQ(index, 0);
  EXPECT_EQ(value, -std::numeric_limits<double>::infinity());
}

TEST(ReduceRows, SumsHaveTheSameBitsWhateverTheThreadCount) {
  const int64_t outer = 2, inner = 1000003;
  const std::vector<float> x = values<float>(outer * inner, 4);
  const int saved = omp_get_max_threads();
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    std::vector<float> out(outer);
    cpu::reduce({ReduceOp::Sum, DType::Float32, outer, inner, x.data(), out.data(), nullptr});
    results.push_back(out);
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

// Through the ops: a full sum and argmax of a long vector take the chunked path.
TEST(ReduceRows, FullReductionsOfALongTensor) {
  const int64_t n = 1 << 20;
  std::vector<double> v = values<double>(n, 5);
  v[777777] = 3.0;
  const Tensor x = from_vector(v, {n});
  const Scan s = scan(v.data(), n);
  EXPECT_NEAR(sum(x).item<double>(), s.sum, 1e-9);
  EXPECT_EQ(max(x).item<double>(), 3.0);
  EXPECT_EQ(argmax(x, 0).item<int64_t>(), 777777);
  EXPECT_NEAR(mean(x.reshape({1024, 1024})).item<double>(), s.sum / n, 1e-12);
}

}  // namespace
}  // namespace tg::kernels
