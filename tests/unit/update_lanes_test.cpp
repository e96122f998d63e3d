// The CPU optimizer launchers (kernels/cpu/update_loop.h: each loop compiled per x86-64
// level, in tasks of 4096 elements over the threads) against their element functions applied
// one element at a time: the same bits for every element, on sizes around a task and the
// threading threshold, float32 and float64, in every variant (AMSGrad; centered and momentum
// RMSProp; momentum and Nesterov SGD), on operands that include zeros of both signs,
// subnormals, infinities and NaN. And the claim of the parameters' lines before each task
// (Note [claiming the parameters' lines]) leaves every bit as it was.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "../../kernels/adagrad.h"
#include "../../kernels/adam.h"
#include "../../kernels/cpu/update_loop.h"
#include "../../kernels/rmsprop.h"
#include "../../kernels/sgd.h"

namespace tg::kernels {
namespace {

const int64_t kSizes[] = {0, 1, 15, 17, 4095, 4097, (1 << 15) + 3, 100003};

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

// n operands; `positive` for state that is never negative (second moments, sums).
template <typename T>
std::vector<T> operands(std::mt19937& rng, int64_t n, bool positive = false) {
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = positive ? std::fabs(operand<T>(rng)) : operand<T>(rng);
  return v;
}

template <typename T>
bool same_bits(T a, T b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <typename T>
DType dtype_of() {
  return std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
}

// Each element of the launcher's arrays (got) against the element rule's (want).
template <typename T>
void expect_same(const std::vector<std::vector<T>>& got, const std::vector<std::vector<T>>& want,
                 const std::string& what) {
  for (size_t a = 0; a < got.size(); ++a) {
    for (size_t i = 0; i < got[a].size(); ++i) {
      ASSERT_TRUE(same_bits(got[a][i], want[a][i]))
          << what << ", array " << a << ", element " << i << ": " << got[a][i] << " against "
          << want[a][i];
    }
  }
}

template <typename T>
void check_adam(int64_t n, bool amsgrad) {
  std::mt19937 rng(static_cast<uint32_t>(n * 2 + amsgrad));
  const std::vector<T> g = operands<T>(rng, n);
  std::vector<std::vector<T>> got = {operands<T>(rng, n), operands<T>(rng, n),
                                     operands<T>(rng, n, true), operands<T>(rng, n, true)};
  std::vector<std::vector<T>> want = got;
  AdamArgs a{};
  a.dtype = dtype_of<T>();
  a.n = n;
  a.params = got[0].data();
  a.grads = g.data();
  a.m = got[1].data();
  a.v = got[2].data();
  a.v_max = amsgrad ? got[3].data() : nullptr;
  a.step.params.regularization.decoupled_weight_decay = 0.01;
  a.step = step_at(a.step, 7);
  cpu::adam(a);
  for (int64_t i = 0; i < n; ++i) {
    adam_element(want[0][i], g[i], want[1][i], want[2][i], amsgrad ? &want[3][i] : nullptr, a.step,
                 T(1));
  }
  expect_same(got, want, "adam n " + std::to_string(n) + (amsgrad ? " amsgrad" : ""));
}

template <typename T>
void check_rmsprop(int64_t n, bool centered, bool momentum) {
  std::mt19937 rng(static_cast<uint32_t>(n * 4 + centered * 2 + momentum));
  const std::vector<T> g = operands<T>(rng, n);
  std::vector<std::vector<T>> got = {operands<T>(rng, n), operands<T>(rng, n, true),
                                     operands<T>(rng, n), operands<T>(rng, n)};
  std::vector<std::vector<T>> want = got;
  RMSpropArgs a{};
  a.dtype = dtype_of<T>();
  a.n = n;
  a.params = got[0].data();
  a.grads = g.data();
  a.square_avg = got[1].data();
  a.grad_avg = centered ? got[2].data() : nullptr;
  a.momentum_buffer = momentum ? got[3].data() : nullptr;
  a.hyper.momentum = momentum ? 0.9 : 0.0;
  a.hyper.centered = centered;
  a.hyper.regularization.l2_penalty = 0.001;
  cpu::rmsprop(a);
  for (int64_t i = 0; i < n; ++i) {
    rmsprop_element(want[0][i], g[i], want[1][i], centered ? &want[2][i] : nullptr,
                    momentum ? &want[3][i] : nullptr, a.hyper, T(1));
  }
  expect_same(got, want,
              "rmsprop n " + std::to_string(n) + " centered " + std::to_string(centered) +
                  " momentum " + std::to_string(momentum));
}

template <typename T>
void check_sgd(int64_t n, bool momentum, bool nesterov) {
  std::mt19937 rng(static_cast<uint32_t>(n * 4 + momentum * 2 + nesterov));
  const std::vector<T> g = operands<T>(rng, n);
  std::vector<std::vector<T>> got = {operands<T>(rng, n), operands<T>(rng, n)};
  std::vector<std::vector<T>> want = got;
  SGDArgs a{};
  a.dtype = dtype_of<T>();
  a.n = n;
  a.params = got[0].data();
  a.grads = g.data();
  a.momentum_buffer = momentum ? got[1].data() : nullptr;
  SGDParams h;
  h.momentum = momentum ? 0.9 : 0.0;
  h.nesterov = nesterov;
  h.regularization.l1_penalty = 0.001;
  a.step = sgd_step(h, false);
  cpu::sgd(a);
  for (int64_t i = 0; i < n; ++i)
    sgd_element(want[0][i], g[i], momentum ? &want[1][i] : nullptr, a.step, T(1));
  expect_same(got, want,
              "sgd n " + std::to_string(n) + " momentum " + std::to_string(momentum) +
                  " nesterov " + std::to_string(nesterov));
}

template <typename T>
void check_adagrad(int64_t n) {
  std::mt19937 rng(static_cast<uint32_t>(n));
  const std::vector<T> g = operands<T>(rng, n);
  std::vector<std::vector<T>> got = {operands<T>(rng, n), operands<T>(rng, n, true)};
  std::vector<std::vector<T>> want = got;
  AdagradArgs a{};
  a.dtype = dtype_of<T>();
  a.n = n;
  a.params = got[0].data();
  a.grads = g.data();
  a.sum = got[1].data();
  a.step.params.lr_decay = 0.01;
  a.step = step_at(a.step, 5);
  cpu::adagrad(a);
  for (int64_t i = 0; i < n; ++i) adagrad_element(want[0][i], g[i], want[1][i], a.step, T(1));
  expect_same(got, want, "adagrad n " + std::to_string(n));
}

TEST(UpdateLanes, AdamFollowsTheElementRule) {
  for (int64_t n : kSizes) {
    for (bool amsgrad : {false, true}) {
      check_adam<float>(n, amsgrad);
      check_adam<double>(n, amsgrad);
    }
  }
}

TEST(UpdateLanes, RmspropFollowsTheElementRule) {
  for (int64_t n : kSizes) {
    for (bool centered : {false, true}) {
      for (bool momentum : {false, true}) {
        check_rmsprop<float>(n, centered, momentum);
        check_rmsprop<double>(n, centered, momentum);
      }
    }
  }
}

TEST(UpdateLanes, SgdFollowsTheElementRule) {
  for (int64_t n : kSizes) {
    for (auto [momentum, nesterov] : {std::pair{false, false}, {true, false}, {true, true}}) {
      check_sgd<float>(n, momentum, nesterov);
      check_sgd<double>(n, momentum, nesterov);
    }
  }
}

TEST(UpdateLanes, AdagradFollowsTheElementRule) {
  for (int64_t n : kSizes) {
    check_adagrad<float>(n);
    check_adagrad<double>(n);
  }
}

// Every bit pattern kept, signalling NaNs included, on ranges that start and end inside a cache
// line, with two threads claiming neighbouring ranges that share a line.
template <typename T, typename Bits>
void check_claim() {
  std::mt19937 rng(7);
  std::vector<Bits> bits(1000);
  for (Bits& b : bits) b = static_cast<Bits>(rng()) * static_cast<Bits>(rng() | 1u);
  bits[3] = sizeof(T) == 4 ? Bits(0x7f800001u) : Bits(0x7ff0000000000001ull);  // signalling NaN
  std::vector<T> values(bits.size());
  std::memcpy(values.data(), bits.data(), bits.size() * sizeof(T));
  for (auto [first, last] : {std::pair<int64_t, int64_t>{0, 0}, {0, 1}, {3, 4}, {5, 997}}) {
    cpu::claim_lines(values.data(), first, last);
  }
  const int64_t split = 501;
#pragma omp parallel for num_threads(2)
  for (int part = 0; part < 2; ++part) {
    cpu::claim_lines(values.data(), part == 0 ? 1 : split, part == 0 ? split : 1000);
  }
  EXPECT_EQ(std::memcmp(values.data(), bits.data(), bits.size() * sizeof(T)), 0);
}

TEST(UpdateLanes, ClaimingTheLinesKeepsEveryBit) {
  check_claim<float, uint32_t>();
  check_claim<double, uint64_t>();
}

}  // namespace
}  // namespace tg::kernels
