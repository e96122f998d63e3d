// The CPU Adam launcher (kernels/cpu/adam.cpp: the loop compiled per x86-64 level, in tasks of
// 4096 elements over the threads) against adam_element applied one element at a time: the
// same bits for every element, on sizes around a task and the threading threshold, float32
// and float64, with and without AMSGrad, on operands that include zeros of both signs,
// subnormals, infinities and NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "../../kernels/adam.h"

namespace tg::kernels {
namespace {

template <typename T>
T operand(std::mt19937& rng) {
  std::uniform_int_distribution<int> kind(0, 19);
  std::normal_distribution<double> normal(0.0, 1.0);
  switch (kind(rng)) {
    case 0: return T(0);
    case 1: return -T(0);
    case 2: return std::numeric_limits<T>::denorm_min() * T(3);
    case 3: return -std::numeric_limits<T>::min() / T(4);  // subnormal
    case 4: return std::numeric_limits<T>::infinity();
    case 5: return std::numeric_limits<T>::quiet_NaN();
    default: return static_cast<T>(normal(rng) * std::pow(10.0, kind(rng) % 7 - 5));
  }
}

template <typename T>
bool same_bits(T a, T b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <typename T>
void check(int64_t n, bool amsgrad) {
  std::mt19937 rng(static_cast<uint32_t>(n * 2 + amsgrad));
  std::vector<T> p(n), g(n), m(n), v(n), v_max(n);
  for (int64_t i = 0; i < n; ++i) {
    p[i] = operand<T>(rng);
    g[i] = operand<T>(rng);
    m[i] = operand<T>(rng);
    v[i] = std::fabs(operand<T>(rng));
    v_max[i] = std::fabs(operand<T>(rng));
  }
  std::vector<T> p1 = p, m1 = m, v1 = v, v_max1 = v_max;
  AdamArgs a{};
  a.dtype = std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
  a.n = n;
  a.params = p1.data();
  a.grads = g.data();
  a.m = m1.data();
  a.v = v1.data();
  a.v_max = amsgrad ? v_max1.data() : nullptr;
  a.step.params.regularization.decoupled_weight_decay = 0.01;
  a.step = step_at(a.step, 7);
  cpu::adam(a);
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i], mi = m[i], vi = v[i], vmax_i = v_max[i];
    adam_element(pi, g[i], mi, vi, amsgrad ? &vmax_i : nullptr, a.step, T(1));
    ASSERT_TRUE(same_bits(p1[i], pi) && same_bits(m1[i], mi) && same_bits(v1[i], vi) &&
                (!amsgrad || same_bits(v_max1[i], vmax_i)))
        << "n " << n << ", amsgrad " << amsgrad << ", element " << i << ": p " << p[i] << " g "
        << g[i] << " m " << m[i] << " v " << v[i];
  }
}

TEST(AdamLanes, EveryElementFollowsTheElementRule) {
  for (int64_t n : {0, 1, 15, 17, 4095, 4097, (1 << 15) + 3, 100003}) {
    for (bool amsgrad : {false, true}) {
      check<float>(n, amsgrad);
      check<double>(n, amsgrad);
    }
  }
}

}  // namespace
}  // namespace tg::kernels
