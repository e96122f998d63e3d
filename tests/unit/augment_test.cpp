// Random crop + flip (kernels/augment.h) on the CPU against a naive loop written from the
// formula, on sizes 0, 1, odd and large; pad 0 without flip is the identity; the draws
// cover every shift and both flips.
#include <gtest/gtest.h>

#include <set>

#include "../../core/factory.h"
#include "../../core/ops/augment.h"
#include "../../kernels/augment.h"
#include "../support/parity.h"

namespace tg {
namespace {

// The formula, one loop per index, draws taken straight from Philox.
Tensor naive(const Tensor& x, int64_t pad, bool flip, RandomState s) {
  const Tensor in = x.contiguous().to(DType::Float64);
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  Tensor out = zeros(x.shape(), DType::Float64);
  const double* src = in.data_ptr<double>();
  double* dst = out.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    const kernels::Philox4x32 r = kernels::philox_block(s.seed, s.offset, uint64_t(i));
    const int64_t dy = int64_t((uint64_t(r.v[0]) * uint64_t(2 * pad + 1)) >> 32) - pad;
    const int64_t dx = int64_t((uint64_t(r.v[1]) * uint64_t(2 * pad + 1)) >> 32) - pad;
    const bool f = flip && (r.v[2] & 1u);
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t xx = 0; xx < w; ++xx) {
          const int64_t sy = y + dy, sx = (f ? w - 1 - xx : xx) + dx;
          if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
          dst[((i * c + ch) * h + y) * w + xx] = src[((i * c + ch) * h + sy) * w + sx];
        }
      }
    }
  }
  return out.to(x.dtype());
}

TEST(Augment, MatchesTheFormulaOnManyShapes) {
  Generator g(8);
  for (const Shape& shape : std::vector<Shape>{{0, 1, 28, 28},
                                               {1, 1, 1, 1},
                                               {3, 2, 5, 7},
                                               {7, 3, 28, 28},
                                               {64, 1, 28, 28},
                                               {2, 1, 3, 3}}) {
    for (int64_t pad : {0, 1, 2, 4}) {
      for (bool flip : {false, true}) {
        for (DType dtype : {DType::Float32, DType::Float64}) {
          SCOPED_TRACE(to_string(shape) + " pad " + std::to_string(pad) + (flip ? " flip" : ""));
          const Tensor x = randn(shape, dtype, &g);
          const RandomState s{0x1234u + static_cast<uint64_t>(pad), 7};
          EXPECT_TRUE(testing::tensors_bitwise_equal(random_crop_flip(x, pad, flip, s),
                                                     naive(x, pad, flip, s)));
        }
      }
    }
  }
}

TEST(Augment, IdentityWithoutPadOrFlipAndEveryDrawReachable) {
  const Tensor x = randn({5, 1, 6, 6});
  EXPECT_TRUE(testing::tensors_bitwise_equal(random_crop_flip(x, 0, false, {1, 2}), x));
  std::set<std::tuple<int64_t, int64_t, bool>> seen;
  kernels::AugmentArgs a{};
  a.pad = 2;
  a.flip = true;
  a.seed = 99;
  for (int64_t i = 0; i < 2000; ++i) {
    const kernels::AugmentDraw d = kernels::augment_draw(a, i);
    ASSERT_TRUE(d.dy >= -2 && d.dy <= 2 && d.dx >= -2 && d.dx <= 2);
    seen.insert({d.dy, d.dx, d.flip});
  }
  EXPECT_EQ(seen.size(), 5u * 5u * 2u) << "every shift and both flips drawn";
}

TEST(Augment, BadInputIsNamed) {
  EXPECT_NE(testing::error_of([] {
              random_crop_flip(zeros({2, 28, 28}), 2, true, {1, 0});
            }).find("random_crop_flip: input must be (N, C, H, W), got shape [2, 28, 28]"),
            std::string::npos);
  EXPECT_NE(testing::error_of([] {
              random_crop_flip(zeros({1, 1, 2, 2}), -1, true, {1, 0});
            }).find("pad must be in [0, 2^30), got -1"),
            std::string::npos);
}

}  // namespace
}  // namespace tg
