// The shape families the op table is built from (tests only): each adds a set of cases
// for one op. op_cases_math.cpp has the elementwise, reduction and matrix families,
// op_cases_nn.cpp the network ones (conv, pooling, softmax, losses, index, normalisation).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../../core/ops.h"
#include "op_cases.h"

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

// (rows, classes) shapes shared by the softmax, loss and index families.
inline const std::vector<std::pair<int64_t, int64_t>> kRowShapes = {
    {1, 1},    {1, 2},    {2, 3},    {3, 5},     {4, 10},    {1, 31},  {2, 32},   {3, 33},
    {5, 127},  {2, 128},  {7, 129},  {1, 255},   {3, 256},   {2, 257}, {4, 1023}, {1, 1024},
    {2, 1025}, {64, 10},  {128, 10}, {1000, 10}, {33, 65},   {65, 33}, {0, 4},    {1, 4097},
    {257, 2},  {10, 100}, {3, 1},    {31, 7},    {2, 65537}, {16, 16}, {2, 2}};

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
void resample_families(Table& t);
void recurrent_families(Table& t);  // op_cases_recurrent.cpp: the fused LSTM and GRU cells  //
                                    // op_cases_resample.cpp: conv1d, adaptive pooling, interpolate

}  // namespace tg::testing
