// The shape families the op table is built from (tests only): each adds a set of cases
// for one op. op_cases_math.cpp has the elementwise, reduction and matrix families,
// op_cases_nn.cpp the network ones (conv, pooling, softmax, losses, index, normalisation).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tamegrad/core/ops.h"
#include "tamegrad/tests/ops/op_cases.h"

namespace tg::testing {

using Fn = GradcheckFn;
using Inputs = std::vector<Tensor>;

struct Table {
  std::vector<OpCase> cases;
  void add(const std::string& op, const std::string& variant, std::vector<InputSpec> inputs, Fn fn,
           bool small, bool differentiable = true) {
    cases.push_back({op, variant, std::move(inputs), std::move(fn), small, differentiable});
  }
};

inline std::string shape_text(const Shape& s) { return to_string(s); }

// 1-D sizes around warp, block and grid boundaries.
extern const std::vector<int64_t> kLengths;

void unary_family(Table& t, const std::string& op, Fill fill,
                  const std::function<Tensor(const Tensor&)>& f, bool differentiable = true);
void binary_family(Table& t, const std::string& op, Fill fill_b,
                   const std::function<Tensor(const Tensor&, const Tensor&)>& f);
void reduce_family(Table& t, const std::string& op,
                   const std::function<Tensor(const Tensor&, std::vector<int64_t>, bool)>& f,
                   bool allow_empty, bool differentiable = true);
void matmul_family(Table& t);
void linear_family(Table& t);

void conv_family(Table& t);
void pool_family(Table& t, const std::string& op,
                 const std::function<Tensor(const Tensor&, Size2, Size2, Size2)>& f);
void softmax_family(Table& t, const std::string& op,
                    const std::function<Tensor(const Tensor&, int64_t)>& f);
void class_loss_family(Table& t, const std::string& op,
                       const std::function<Tensor(const Tensor&, const Tensor&, Reduction)>& f);
void pair_loss_family(Table& t, const std::string& op,
                      const std::function<Tensor(const Tensor&, const Tensor&, Reduction)>& f);
void class_loss_option_cases(Table& t);
void pool_option_cases(Table& t);  // dilation, ceil_mode, count_include_pad  // weight,
                                   // ignore_index, K-dim, probabilities
void index_families(Table& t);
void normalization_families(Table& t);

}  // namespace tg::testing
