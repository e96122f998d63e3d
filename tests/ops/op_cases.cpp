// The op-case table. Families of shapes per kind of op: every op gets at least 30
// variants (0, 1, odd, warp/block boundaries, 65537, broadcast and non-contiguous
// inputs), the first few of which are small enough to gradcheck.
#include "tests/ops/op_cases.h"

#include <functional>

#include "core/factory.h"
#include "core/ops.h"

namespace tg::testing {

namespace {

using Fn = GradcheckFn;
using Inputs = std::vector<Tensor>;

std::string shape_text(const Shape& s) { return to_string(s); }

// 1-D sizes around warp, block and grid boundaries.
const std::vector<int64_t> kLengths = {0, 1, 2, 3, 5, 31, 32, 33, 127, 128, 129, 255, 256, 257,
                                       1023, 1024, 1025, 4095, 4096, 4097, 65535, 65536, 65537,
                                       100003};

struct Table {
  std::vector<OpCase> cases;
  void add(const std::string& op, const std::string& variant, std::vector<InputSpec> inputs, Fn fn,
           bool small, bool differentiable = true) {
    cases.push_back({op, variant, std::move(inputs), std::move(fn), small, differentiable});
  }
};

// x of each shape; non-contiguous variants go through a transpose inside fn.
void unary_family(Table& t, const std::string& op, Fill fill, const std::function<Tensor(const Tensor&)>& f,
                  bool differentiable = true) {
  for (int64_t n : kLengths) {
    t.add(op, "[" + std::to_string(n) + "]", {{{n}, fill}}, [f](const Inputs& in) { return f(in[0]); },
          n > 0 && n <= 5, differentiable);
  }
  t.add(op, "[3, 4] transposed", {{{3, 4}, fill}}, [f](const Inputs& in) { return f(in[0].transpose(0, 1)); },
        true, differentiable);
  t.add(op, "[33, 65] transposed", {{{33, 65}, fill}},
        [f](const Inputs& in) { return f(in[0].transpose(0, 1)); }, false, differentiable);
  t.add(op, "[2, 3, 4] permuted", {{{2, 3, 4}, fill}},
        [f](const Inputs& in) { return f(in[0].permute({2, 0, 1})); }, false, differentiable);
  t.add(op, "[7, 9] sliced", {{{7, 9}, fill}},
        [f](const Inputs& in) { return f(in[0].slice(1, 1, 9, 2)); }, false, differentiable);
  t.add(op, "[1, 1, 1]", {{{1, 1, 1}, fill}}, [f](const Inputs& in) { return f(in[0]); }, false,
        differentiable);
  t.add(op, "[]", {{{}, fill}}, [f](const Inputs& in) { return f(in[0]); }, true, differentiable);
}

void binary_family(Table& t, const std::string& op, Fill fill_b,
                   const std::function<Tensor(const Tensor&, const Tensor&)>& f) {
  for (int64_t n : kLengths) {
    t.add(op, "[" + std::to_string(n) + "] x2", {{{n}}, {{n}, fill_b}},
          [f](const Inputs& in) { return f(in[0], in[1]); }, n > 0 && n <= 3);
  }
  const std::vector<std::pair<Shape, Shape>> broadcasts = {
      {{4}, {1}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}}, {{5, 1, 3}, {1, 2, 1}}, {{1}, {33, 65}},
      {{0, 3}, {1, 3}}, {{257, 3}, {3}}, {{2, 1, 1, 5}, {1, 3, 4, 1}}};
  for (const auto& [sa, sb] : broadcasts) {
    t.add(op, shape_text(sa) + " with " + shape_text(sb), {{sa}, {sb, fill_b}},
          [f](const Inputs& in) { return f(in[0], in[1]); }, shape_numel(sa) * shape_numel(sb) <= 64);
  }
  t.add(op, "[4, 3]^T with [3, 4]", {{{4, 3}}, {{3, 4}, fill_b}},
        [f](const Inputs& in) { return f(in[0].transpose(0, 1), in[1]); }, true);
  t.add(op, "[65, 33]^T with [33, 1]", {{{65, 33}}, {{33, 1}, fill_b}},
        [f](const Inputs& in) { return f(in[0].transpose(0, 1), in[1]); }, false);
}

// Reductions: all dims, each dim, keepdim, several dims.
void reduce_family(Table& t, const std::string& op,
                   const std::function<Tensor(const Tensor&, std::vector<int64_t>, bool)>& f,
                   bool allow_empty, bool differentiable = true) {
  for (int64_t n : kLengths) {
    if (n == 0 && !allow_empty) continue;
    t.add(op, "[" + std::to_string(n) + "] all", {{{n}}}, [f](const Inputs& in) { return f(in[0], {}, false); },
          n > 1 && n <= 5, differentiable);
  }
  const std::vector<std::pair<Shape, std::vector<int64_t>>> shapes = {
      {{3, 4}, {0}}, {{3, 4}, {1}}, {{3, 4}, {-1}}, {{2, 3, 4}, {0, 2}}, {{2, 3, 4}, {1}},
      {{33, 65}, {1}}, {{65, 33}, {0}}, {{1025, 3}, {0}}, {{3, 1025}, {1}}, {{4, 1, 5}, {1}},
      {{7, 300, 2}, {1}}};
  for (const auto& [shape, dims] : shapes) {
    int64_t reduced = 1;  // elements per output; var's n - 1 wants at least 2
    for (int64_t d : dims) reduced *= shape[d < 0 ? d + shape.size() : d];
    for (bool keepdim : {false, true}) {
      t.add(op, shape_text(shape) + " dims " + shape_text(dims) + (keepdim ? " keepdim" : ""),
            {{shape}}, [f, dims = dims, keepdim](const Inputs& in) { return f(in[0], dims, keepdim); },
            shape_numel(shape) <= 24 && reduced >= 2, differentiable);
    }
  }
  t.add(op, "[4, 3]^T dims [1]", {{{4, 3}}},
        [f](const Inputs& in) { return f(in[0].transpose(0, 1), {1}, false); }, true, differentiable);
}

void matmul_family(Table& t) {
  const std::vector<std::array<int64_t, 3>> mkn = {
      {1, 1, 1}, {2, 3, 4}, {3, 1, 2}, {1, 5, 1}, {4, 4, 4}, {16, 16, 16}, {17, 31, 33},
      {31, 32, 33}, {64, 65, 63}, {127, 1, 129}, {128, 64, 1}, {1, 256, 1}, {5, 0, 3},
      {0, 4, 2}, {100, 3, 7}};
  for (const auto& [m, k, n] : mkn) {
    t.add("matmul", shape_text({m, k}) + "·" + shape_text({k, n}), {{{m, k}}, {{k, n}}},
          [](const Inputs& in) { return matmul(in[0], in[1]); }, m * k + k * n <= 24 && m * k * n > 0);
  }
  const std::vector<std::array<int64_t, 4>> bmkn = {{2, 2, 3, 2}, {3, 4, 5, 6}, {1, 7, 3, 2},
                                                     {8, 16, 16, 16}, {5, 33, 17, 9}, {2, 1, 1, 1}};
  for (const auto& [b, m, k, n] : bmkn) {
    t.add("matmul", "batched " + shape_text({b, m, k}) + "·" + shape_text({b, k, n}),
          {{{b, m, k}}, {{b, k, n}}}, [](const Inputs& in) { return matmul(in[0], in[1]); },
          b * (m * k + k * n) <= 36);
    t.add("matmul", "batched " + shape_text({b, m, k}) + "·" + shape_text({k, n}),
          {{{b, m, k}}, {{k, n}}}, [](const Inputs& in) { return matmul(in[0], in[1]); },
          b * m * k + k * n <= 36);
  }
  t.add("matmul", "[3, 2]^T·[3, 4]", {{{3, 2}}, {{3, 4}}},
        [](const Inputs& in) { return matmul(in[0].transpose(0, 1), in[1]); }, true);
  t.add("matmul", "[2, 3]·[4, 3]^T", {{{2, 3}}, {{4, 3}}},
        [](const Inputs& in) { return matmul(in[0], in[1].transpose(0, 1)); }, true);
  t.add("matmul", "[2, 5, 3] sliced·[3, 2]", {{{2, 5, 3}}, {{3, 2}}},
        [](const Inputs& in) { return matmul(in[0].slice(1, 0, 5, 2), in[1]); }, true);
  t.add("matmul", "[2, 3, 4] permuted·[2, 3, 2]", {{{2, 3, 4}}, {{2, 3, 2}}},
        [](const Inputs& in) { return matmul(in[0].permute({0, 2, 1}), in[1]); }, true);
}

void linear_family(Table& t) {
  const std::vector<std::array<int64_t, 3>> sizes = {
      {1, 1, 1}, {2, 3, 4}, {4, 5, 3}, {1, 7, 1}, {8, 16, 10}, {33, 65, 17}, {64, 784, 10},
      {3, 1, 5}, {127, 129, 3}, {256, 32, 32}, {0, 4, 3}, {5, 31, 33}, {17, 2, 40}, {9, 9, 9},
      {100, 10, 1}};
  for (const auto& [n, in, out] : sizes) {
    for (bool bias : {true, false}) {
      t.add("linear", shape_text({n, in}) + " -> " + std::to_string(out) + (bias ? " +bias" : ""),
            bias ? std::vector<InputSpec>{{{n, in}}, {{out, in}}, {{out}}}
                 : std::vector<InputSpec>{{{n, in}}, {{out, in}}},
            [bias](const Inputs& in) { return linear(in[0], in[1], bias ? in[2] : Tensor()); },
            n * in + in * out + out <= 40 && n > 0);
    }
  }
  t.add("linear", "[2, 3, 4] -> 2", {{{2, 3, 4}}, {{2, 4}}, {{2}}},
        [](const Inputs& in) { return linear(in[0], in[1], in[2]); }, true);
}

struct ConvConfig {
  Shape x, w;
  Size2 stride, padding, dilation;
  int64_t groups;
  bool bias;
};

void conv_family(Table& t) {
  const std::vector<ConvConfig> configs = {
      {{1, 1, 3, 3}, {1, 1, 2, 2}, {1, 1}, {0, 0}, {1, 1}, 1, false},
      {{1, 2, 4, 4}, {2, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{2, 2, 5, 4}, {3, 2, 2, 3}, {2, 1}, {0, 1}, {1, 1}, 1, true},
      {{1, 2, 5, 5}, {2, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 2, false},
      {{1, 1, 6, 6}, {1, 1, 2, 2}, {1, 1}, {0, 0}, {2, 2}, 1, true},
      {{2, 4, 3, 3}, {4, 2, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 2, true},
      {{1, 3, 28, 28}, {8, 3, 5, 5}, {1, 1}, {2, 2}, {1, 1}, 1, true},
      {{4, 8, 14, 14}, {16, 8, 3, 3}, {2, 2}, {1, 1}, {1, 1}, 1, true},
      {{2, 6, 9, 7}, {6, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 6, false},
      {{3, 4, 8, 8}, {6, 2, 3, 3}, {1, 2}, {2, 1}, {2, 1}, 2, true},
      {{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 1, true},
      {{5, 3, 7, 7}, {4, 3, 7, 7}, {1, 1}, {0, 0}, {1, 1}, 1, true},
      {{2, 16, 16, 16}, {32, 16, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{1, 1, 33, 65}, {1, 1, 3, 3}, {2, 2}, {1, 1}, {1, 1}, 1, false},
      {{0, 2, 4, 4}, {2, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{8, 1, 28, 28}, {4, 1, 3, 3}, {1, 1}, {0, 0}, {1, 1}, 1, true},
      {{2, 3, 10, 10}, {3, 3, 3, 3}, {3, 3}, {0, 0}, {1, 1}, 1, true},
      {{1, 4, 6, 6}, {4, 4, 3, 3}, {1, 1}, {0, 0}, {2, 2}, 1, true},
      {{2, 8, 5, 5}, {8, 8, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 1, false},
      {{1, 2, 9, 9}, {4, 1, 2, 2}, {2, 2}, {1, 1}, {1, 1}, 2, true},
      {{3, 1, 12, 5}, {2, 1, 5, 2}, {1, 1}, {2, 0}, {1, 2}, 1, true},
      {{2, 12, 6, 6}, {12, 4, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 3, true},
      {{1, 1, 2, 2}, {3, 1, 2, 2}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{6, 2, 4, 4}, {2, 2, 2, 2}, {2, 2}, {0, 0}, {1, 1}, 1, false},
      {{1, 64, 8, 8}, {64, 64, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{2, 5, 11, 13}, {7, 5, 4, 3}, {3, 2}, {1, 1}, {1, 1}, 1, true},
      {{4, 4, 4, 4}, {4, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 4, true},
      {{1, 2, 7, 7}, {2, 2, 3, 3}, {1, 1}, {3, 3}, {3, 3}, 1, true},
      {{2, 1, 31, 33}, {2, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {{1, 3, 5, 5}, {2, 3, 5, 5}, {1, 1}, {2, 2}, {1, 1}, 1, true},
  };
  for (const ConvConfig& c : configs) {
    std::vector<InputSpec> inputs{{c.x}, {c.w}};
    if (c.bias) inputs.push_back({{c.w[0]}});
    const bool small = shape_numel(c.x) + shape_numel(c.w) <= 80 && c.x[0] > 0;
    t.add("conv2d", shape_text(c.x) + " * " + shape_text(c.w) + " groups " + std::to_string(c.groups),
          inputs, [c](const Inputs& in) {
            return conv2d(in[0], in[1], c.bias ? in[2] : Tensor(), c.stride, c.padding, c.dilation, c.groups);
          }, small);
  }
}

void pool_family(Table& t, const std::string& op,
                 const std::function<Tensor(const Tensor&, Size2, Size2, Size2)>& f) {
  struct PoolConfig { Shape x; Size2 kernel, stride, padding; };
  const std::vector<PoolConfig> configs = {
      {{1, 1, 4, 4}, {2, 2}, {0, 0}, {0, 0}}, {{1, 2, 5, 5}, {3, 3}, {2, 2}, {1, 1}},
      {{2, 1, 4, 6}, {2, 3}, {1, 2}, {1, 1}}, {{1, 1, 3, 3}, {3, 3}, {1, 1}, {1, 1}},
      {{2, 3, 28, 28}, {2, 2}, {0, 0}, {0, 0}}, {{1, 1, 1, 1}, {1, 1}, {0, 0}, {0, 0}},
      {{4, 8, 14, 14}, {3, 3}, {2, 2}, {1, 1}}, {{1, 1, 33, 65}, {2, 2}, {0, 0}, {0, 0}},
      {{3, 2, 7, 9}, {3, 2}, {2, 3}, {1, 1}}, {{0, 1, 4, 4}, {2, 2}, {0, 0}, {0, 0}},
      {{1, 16, 8, 8}, {4, 4}, {4, 4}, {0, 0}}, {{2, 2, 9, 9}, {5, 5}, {1, 1}, {2, 2}},
      {{1, 1, 2, 100}, {1, 5}, {1, 5}, {0, 2}}, {{5, 5, 5, 5}, {2, 2}, {1, 1}, {0, 0}},
      {{1, 3, 16, 16}, {2, 2}, {2, 2}, {1, 1}}, {{2, 4, 6, 6}, {3, 3}, {3, 3}, {0, 0}},
      {{1, 1, 65, 33}, {3, 3}, {2, 2}, {1, 1}}, {{8, 1, 12, 12}, {2, 2}, {0, 0}, {0, 0}},
      {{1, 2, 3, 7}, {3, 1}, {1, 1}, {1, 0}}, {{2, 1, 10, 10}, {4, 4}, {3, 3}, {2, 2}},
      {{3, 3, 4, 4}, {2, 2}, {1, 1}, {1, 1}}, {{1, 32, 4, 4}, {2, 2}, {0, 0}, {0, 0}},
      {{1, 1, 129, 3}, {3, 3}, {1, 1}, {0, 0}}, {{2, 2, 6, 5}, {2, 2}, {2, 1}, {1, 0}},
      {{1, 1, 8, 8}, {8, 8}, {0, 0}, {0, 0}}, {{4, 2, 3, 3}, {2, 2}, {2, 2}, {1, 1}},
      {{1, 6, 11, 11}, {3, 3}, {3, 3}, {1, 1}}, {{2, 3, 5, 8}, {5, 2}, {1, 3}, {2, 1}},
      {{1, 1, 256, 2}, {2, 2}, {0, 0}, {0, 0}}, {{3, 1, 6, 6}, {4, 4}, {2, 2}, {2, 2}},
  };
  for (const PoolConfig& c : configs) {
    t.add(op, shape_text(c.x) + " kernel " + std::to_string(c.kernel[0]) + "x" + std::to_string(c.kernel[1]),
          {{c.x}}, [f, c](const Inputs& in) { return f(in[0], c.kernel, c.stride, c.padding); },
          shape_numel(c.x) <= 50 && shape_numel(c.x) > 0);
  }
  t.add(op, "[1, 1, 5, 4] transposed", {{{1, 1, 5, 4}}},
        [f](const Inputs& in) { return f(in[0].transpose(2, 3), {2, 2}, {0, 0}, {0, 0}); }, true);
}

// (rows, cols) scores for the row-wise ops, and the class targets they come with.
const std::vector<std::pair<int64_t, int64_t>> kRowShapes = {
    {1, 1}, {1, 2}, {2, 3}, {3, 5}, {4, 10}, {1, 31}, {2, 32}, {3, 33}, {5, 127}, {2, 128},
    {7, 129}, {1, 255}, {3, 256}, {2, 257}, {4, 1023}, {1, 1024}, {2, 1025}, {64, 10}, {128, 10},
    {1000, 10}, {33, 65}, {65, 33}, {0, 4}, {1, 4097}, {257, 2}, {10, 100}, {3, 1}, {31, 7},
    {2, 65537}, {16, 16}, {2, 2}};

void softmax_family(Table& t, const std::string& op, const std::function<Tensor(const Tensor&, int64_t)>& f) {
  for (const auto& [r, c] : kRowShapes) {
    t.add(op, shape_text({r, c}) + " dim -1", {{{r, c}}}, [f](const Inputs& in) { return f(in[0], -1); },
          r * c <= 15 && r * c > 0);
  }
  t.add(op, "[3, 4] dim 0", {{{3, 4}}}, [f](const Inputs& in) { return f(in[0], 0); }, true);
  t.add(op, "[2, 3, 4] dim 1", {{{2, 3, 4}}}, [f](const Inputs& in) { return f(in[0], 1); }, true);
  t.add(op, "[4, 3]^T dim 1", {{{4, 3}}}, [f](const Inputs& in) { return f(in[0].transpose(0, 1), 1); }, true);
}

void class_loss_family(Table& t, const std::string& op,
                       const std::function<Tensor(const Tensor&, const Tensor&, Reduction)>& f) {
  int i = 0;
  for (const auto& [n, c] : kRowShapes) {
    if (n == 0) continue;
    const Reduction reduction = i % 3 == 0 ? Reduction::Mean : (i % 3 == 1 ? Reduction::Sum : Reduction::None);
    const char* name = i % 3 == 0 ? "mean" : (i % 3 == 1 ? "sum" : "none");
    ++i;
    t.add(op, shape_text({n, c}) + " " + name, {{{n, c}}, {{n}, Fill::Classes, c}},
          [f, reduction](const Inputs& in) { return f(in[0], in[1], reduction); }, n * c <= 15);
  }
}

void pair_loss_family(Table& t, const std::string& op,
                      const std::function<Tensor(const Tensor&, const Tensor&, Reduction)>& f) {
  int i = 0;
  for (int64_t n : kLengths) {
    if (n == 0) continue;
    const Reduction reduction = i % 3 == 0 ? Reduction::Mean : (i % 3 == 1 ? Reduction::Sum : Reduction::None);
    ++i;
    t.add(op, "[" + std::to_string(n) + "] reduction " + std::to_string(i % 3), {{{n}}, {{n}}},
          [f, reduction](const Inputs& in) { return f(in[0], in[1], reduction); }, n <= 5);
  }
  for (const Shape& s : std::vector<Shape>{{3, 4}, {2, 3, 5}, {33, 65}, {1, 1}, {7, 1}, {128, 10}, {2, 2, 2}}) {
    t.add(op, shape_text(s) + " mean", {{s}, {s}},
          [f](const Inputs& in) { return f(in[0], in[1], Reduction::Mean); }, shape_numel(s) <= 30);
  }
}

void index_families(Table& t) {
  // gather: index (int64) picks along a dim.
  const std::vector<std::tuple<Shape, Shape, int64_t>> gathers = {
      {{3, 4}, {3, 2}, 1}, {{3, 4}, {2, 4}, 0}, {{2, 3, 4}, {2, 3, 1}, 2}, {{5}, {7}, 0},
      {{1, 1}, {1, 1}, 0}, {{33, 65}, {33, 1}, 1}, {{65, 33}, {100, 33}, 0}, {{4, 10}, {4, 3}, 1},
      {{2, 5, 3}, {2, 5, 3}, 1}, {{1025, 2}, {1025, 2}, 0}, {{6, 6}, {3, 6}, 0}, {{128, 10}, {128, 1}, 1},
      {{2, 2, 2, 2}, {2, 2, 2, 1}, 3}, {{7, 1}, {7, 1}, 1}, {{3, 4}, {3, 0}, 1}, {{4097}, {4097}, 0},
      {{9, 8, 7}, {9, 8, 3}, 2}, {{2, 300}, {2, 17}, 1}, {{1, 65537}, {1, 5}, 1}, {{10, 10}, {1, 10}, 0},
      {{3, 3}, {3, 3}, 1}, {{5, 2}, {5, 2}, 0}, {{2, 9}, {1, 4}, 1}, {{12, 3}, {6, 3}, 0},
      {{8, 4, 2}, {8, 1, 2}, 1}, {{256, 4}, {256, 4}, 1}, {{1, 3}, {1, 6}, 1}, {{31, 31}, {31, 2}, 1},
      {{4, 4, 4}, {4, 4, 4}, 0}, {{2, 1000}, {2, 1}, 1}};
  for (const auto& [xs, is, dim] : gathers) {
    t.add("gather", shape_text(xs) + " by " + shape_text(is) + " dim " + std::to_string(dim),
          {{xs}, {is, Fill::Classes, xs[dim]}},
          [dim = dim](const Inputs& in) { return gather(in[0], dim, in[1]); }, shape_numel(xs) <= 24);
  }
  const std::vector<std::tuple<Shape, int64_t, int64_t>> selects = {
      {{5, 3}, 0, 4}, {{5, 3}, 1, 2}, {{2, 3, 4}, 1, 5}, {{7}, 0, 3}, {{1, 1}, 0, 1}, {{100, 10}, 0, 32},
      {{10, 100}, 1, 7}, {{33, 65}, 0, 65}, {{4, 4, 4}, 2, 1}, {{3, 2}, 0, 0}, {{1025}, 0, 1025},
      {{6, 5, 4}, 0, 12}, {{2, 257}, 1, 3}, {{9, 9}, 1, 9}, {{1, 4097}, 1, 2}, {{50, 3}, 0, 50},
      {{8, 2, 2}, 1, 4}, {{3, 31}, 1, 33}, {{12, 1}, 0, 6}, {{2, 2, 2, 2}, 3, 3}, {{64, 16}, 0, 128},
      {{5, 5}, 0, 25}, {{1, 10}, 1, 10}, {{20, 2}, 0, 1}, {{2, 20}, 1, 40}, {{4, 3, 2}, 2, 2},
      {{3, 65537}, 0, 2}, {{7, 7}, 1, 14}, {{16, 1}, 0, 16}, {{1, 1, 5}, 2, 5}};
  for (const auto& [xs, dim, count] : selects) {
    t.add("index_select", shape_text(xs) + " dim " + std::to_string(dim) + " x" + std::to_string(count),
          {{xs}, {{count}, Fill::Classes, xs[dim]}},
          [dim = dim](const Inputs& in) { return index_select(in[0], dim, in[1]); }, shape_numel(xs) <= 24);
  }
  for (const auto& [n, c] : kRowShapes) {
    t.add("one_hot", "[" + std::to_string(n) + "] of " + std::to_string(c), {{{n}, Fill::Classes, c}},
          [c = c](const Inputs& in) { return one_hot(in[0], c); }, false, false);
  }
  const std::vector<std::pair<std::vector<Shape>, int64_t>> cats = {
      {{{2, 3}, {4, 3}}, 0}, {{{2, 3}, {2, 1}, {2, 5}}, 1}, {{{1}, {1}}, 0}, {{{3, 0}, {3, 2}}, 1},
      {{{2, 3, 4}, {2, 1, 4}}, 1}, {{{33, 65}, {33, 65}}, 0}, {{{1025}, {3}}, 0}, {{{5, 5}}, 1},
      {{{2, 2}, {2, 2}, {2, 2}, {2, 2}}, 0}, {{{1, 4097}, {1, 1}}, 1}, {{{7, 3}, {7, 3}}, -1},
      {{{4, 4, 4}, {4, 4, 4}}, 2}, {{{0, 3}, {2, 3}}, 0}, {{{128, 10}, {64, 10}}, 0},
      {{{3, 1}, {3, 1}, {3, 1}}, 1}, {{{2, 65537}, {2, 3}}, 1}, {{{9}, {8}, {7}}, 0},
      {{{1, 2, 3, 4}, {1, 2, 3, 4}}, 3}, {{{6, 2}, {6, 3}}, 1}, {{{10, 1}, {5, 1}}, 0},
      {{{2, 5}, {2, 5}}, 0}, {{{3, 3, 3}, {3, 1, 3}, {3, 2, 3}}, 1}, {{{257}, {255}}, 0},
      {{{1, 1}, {1, 1}}, 1}, {{{4, 2}, {4, 2}}, 1}, {{{2, 31}, {2, 33}}, 1}, {{{11, 2}, {1, 2}}, 0},
      {{{5, 1, 2}, {5, 1, 2}}, 0}, {{{16, 16}, {16, 16}}, 1}, {{{3, 7}, {3, 7}}, 0}};
  for (const auto& [shapes, dim] : cats) {
    std::vector<InputSpec> inputs;
    int64_t total = 0;
    for (const Shape& s : shapes) {
      inputs.push_back({s});
      total += shape_numel(s);
    }
    t.add("cat", std::to_string(shapes.size()) + " tensors from " + shape_text(shapes[0]) + " dim " + std::to_string(dim),
          inputs, [dim = dim](const Inputs& in) { return cat(in, dim); }, total <= 30);
  }
  for (int64_t n : kLengths) {
    for (int64_t dim : {0, 1}) {
      t.add("stack", "3 x [" + std::to_string(n) + "] dim " + std::to_string(dim), {{{n}}, {{n}}, {{n}}},
            [dim](const Inputs& in) { return stack(in, dim); }, n > 0 && n <= 4);
    }
  }
  for (const Shape& s : std::vector<Shape>{{2, 3, 4}, {1}, {5, 1, 2}, {33, 65}, {2, 2, 2, 2}}) {
    for (const auto& [start, end] : std::vector<std::pair<int64_t, int64_t>>{{0, -1}, {1, -1}, {0, 0}}) {
      if (start >= static_cast<int64_t>(s.size())) continue;
      t.add("flatten", shape_text(s) + " " + std::to_string(start) + ".." + std::to_string(end), {{s}},
            [start = start, end = end](const Inputs& in) { return flatten(in[0], start, end); },
            shape_numel(s) <= 24);
    }
  }
  for (int i = 0; i < 20; ++i) {
    t.add("flatten", "[4, 3]^T #" + std::to_string(i), {{{4, 3 + i}}},
          [](const Inputs& in) { return flatten(in[0].transpose(0, 1)); }, i == 0);
  }
}

Table build() {
  Table t;
  unary_family(t, "neg", Fill::Normal, [](const Tensor& x) { return neg(x); });
  unary_family(t, "exp", Fill::Normal, [](const Tensor& x) { return exp(x); });
  unary_family(t, "log", Fill::Positive, [](const Tensor& x) { return log(x); });
  unary_family(t, "sqrt", Fill::Positive, [](const Tensor& x) { return sqrt(x); });
  unary_family(t, "abs", Fill::Normal, [](const Tensor& x) { return abs(x); });
  unary_family(t, "sign", Fill::Normal, [](const Tensor& x) { return sign(x); });
  unary_family(t, "pow", Fill::Positive, [](const Tensor& x) { return pow(x, 2.5); });
  unary_family(t, "clamp", Fill::Normal, [](const Tensor& x) { return clamp(x, -0.5, 0.7); });
  unary_family(t, "relu", Fill::Normal, [](const Tensor& x) { return relu(x); });
  unary_family(t, "leaky_relu", Fill::Normal, [](const Tensor& x) { return leaky_relu(x, 0.1); });
  unary_family(t, "sigmoid", Fill::Normal, [](const Tensor& x) { return sigmoid(x); });
  unary_family(t, "tanh", Fill::Normal, [](const Tensor& x) { return tanh(x); });
  unary_family(t, "gelu", Fill::Normal, [](const Tensor& x) { return gelu(x); });
  unary_family(t, "softplus", Fill::Normal, [](const Tensor& x) { return softplus(mul(x, 10.0)); });

  binary_family(t, "add", Fill::Normal, [](const Tensor& a, const Tensor& b) { return add(a, b); });
  binary_family(t, "sub", Fill::Normal, [](const Tensor& a, const Tensor& b) { return sub(a, b); });
  binary_family(t, "mul", Fill::Normal, [](const Tensor& a, const Tensor& b) { return mul(a, b); });
  binary_family(t, "div", Fill::Positive, [](const Tensor& a, const Tensor& b) { return div(a, b); });
  binary_family(t, "maximum", Fill::Normal, [](const Tensor& a, const Tensor& b) { return maximum(a, b); });
  binary_family(t, "minimum", Fill::Normal, [](const Tensor& a, const Tensor& b) { return minimum(a, b); });
  binary_family(t, "where", Fill::Normal, [](const Tensor& a, const Tensor& b) {
    return where(gt(a.detach(), b.detach()), mul(a, 2.0), b);
  });

  reduce_family(t, "sum", [](const Tensor& x, std::vector<int64_t> d, bool k) { return sum(x, d, k); }, true);
  reduce_family(t, "mean", [](const Tensor& x, std::vector<int64_t> d, bool k) { return mean(x, d, k); }, false);
  reduce_family(t, "var", [](const Tensor& x, std::vector<int64_t> d, bool k) { return var(x, d, true, k); }, false);
  reduce_family(t, "var", [](const Tensor& x, std::vector<int64_t> d, bool k) { return var(x, d, false, k); }, false);
  reduce_family(t, "norm", [](const Tensor& x, std::vector<int64_t> d, bool k) { return norm(x, 2, d, k); }, true);
  reduce_family(t, "norm", [](const Tensor& x, std::vector<int64_t> d, bool k) { return norm(x, 1, d, k); }, true);
  reduce_family(t, "max", [](const Tensor& x, std::vector<int64_t> d, bool k) {
    return d.size() == 1 ? max(x, d[0], k).values : max(x);
  }, false);
  reduce_family(t, "min", [](const Tensor& x, std::vector<int64_t> d, bool k) {
    return d.size() == 1 ? min(x, d[0], k).values : min(x);
  }, false);
  reduce_family(t, "argmax", [](const Tensor& x, std::vector<int64_t> d, bool k) {
    return argmax(d.size() == 1 ? x : x.reshape({-1}), d.size() == 1 ? d[0] : 0, k && d.size() == 1);
  }, false, false);

  matmul_family(t);
  linear_family(t);
  conv_family(t);
  pool_family(t, "max_pool2d", [](const Tensor& x, Size2 k, Size2 s, Size2 p) { return max_pool2d(x, k, s, p); });
  pool_family(t, "avg_pool2d", [](const Tensor& x, Size2 k, Size2 s, Size2 p) { return avg_pool2d(x, k, s, p); });
  softmax_family(t, "softmax", [](const Tensor& x, int64_t d) { return softmax(x, d); });
  softmax_family(t, "log_softmax", [](const Tensor& x, int64_t d) { return log_softmax(x, d); });
  class_loss_family(t, "cross_entropy", [](const Tensor& x, const Tensor& y, Reduction r) {
    return cross_entropy(x, y, r);
  });
  class_loss_family(t, "cross_entropy", [](const Tensor& x, const Tensor& y, Reduction r) {
    return cross_entropy(x, y, r, 0.1);
  });
  class_loss_family(t, "nll_loss", [](const Tensor& x, const Tensor& y, Reduction r) {
    return nll_loss(log_softmax(x, 1), y, r);
  });
  pair_loss_family(t, "mse_loss", [](const Tensor& a, const Tensor& b, Reduction r) { return mse_loss(a, b, r); });
  pair_loss_family(t, "binary_cross_entropy_with_logits", [](const Tensor& a, const Tensor& b, Reduction r) {
    return binary_cross_entropy_with_logits(a, sigmoid(b), r);
  });
  index_families(t);
  return t;
}

}  // namespace

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = build().cases;
  return cases;
}

std::vector<Tensor> make_inputs(const OpCase& c, DType dtype, const Device& device, bool requires_grad) {
  std::vector<Tensor> inputs;
  Generator generator(std::hash<std::string>{}(c.op + "/" + c.variant));
  for (const InputSpec& spec : c.inputs) {
    Tensor t;
    switch (spec.fill) {
      case Fill::Normal: t = randn(spec.shape, DType::Float64, &generator); break;
      case Fill::Positive: t = uniform(spec.shape, 0.5, 2.0, DType::Float64, &generator); break;
      case Fill::Classes:
        t = uniform(spec.shape, 0, static_cast<double>(spec.high), DType::Float64, &generator).to(DType::Int64);
        break;
    }
    if (spec.fill != Fill::Classes) t = t.to(dtype);
    t = t.to(device);
    if (requires_grad && spec.fill != Fill::Classes) t.requires_grad_();
    inputs.push_back(t);
  }
  return inputs;
}

}  // namespace tg::testing
