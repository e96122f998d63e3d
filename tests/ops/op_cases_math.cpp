// Op-table families for elementwise ops, reductions and matrix products.
#include "../../core/factory.h"
#include "op_families.h"

namespace tg::testing {

// 1-D sizes around warp, block and grid boundaries.
const std::vector<int64_t> kLengths = {0,    1,    2,    3,    5,     31,    32,    33,
                                       127,  128,  129,  255,  256,   257,   1023,  1024,
                                       1025, 4095, 4096, 4097, 65535, 65536, 65537, 100003};

// x of each shape; non-contiguous variants go through a transpose inside fn.
void unary_family(Table& t, const std::string& op, Fill fill,
                  const std::function<Tensor(const Tensor&)>& f, bool differentiable) {
  for (int64_t n : kLengths) {
    t.add(
        op, "[" + std::to_string(n) + "]", {{{n}, fill}},
        [f](const Inputs& in) { return f(in[0]); }, n > 0 && n <= 5, differentiable);
  }
  t.add(
      op, "[3, 4] transposed", {{{3, 4}, fill}},
      [f](const Inputs& in) { return f(in[0].transpose(0, 1)); }, true, differentiable);
  t.add(
      op, "[33, 65] transposed", {{{33, 65}, fill}},
      [f](const Inputs& in) { return f(in[0].transpose(0, 1)); }, false, differentiable);
  t.add(
      op, "[2, 3, 4] permuted", {{{2, 3, 4}, fill}},
      [f](const Inputs& in) {
        return f(in[0].permute({2, 0, 1}));
      },
      false, differentiable);
  t.add(
      op, "[7, 9] sliced", {{{7, 9}, fill}},
      [f](const Inputs& in) { return f(in[0].slice(1, 1, 9, 2)); }, false, differentiable);
  t.add(
      op, "[1, 1, 1]", {{{1, 1, 1}, fill}}, [f](const Inputs& in) { return f(in[0]); }, false,
      differentiable);
  t.add(
      op, "[]", {{{}, fill}}, [f](const Inputs& in) { return f(in[0]); }, true, differentiable);
}

void binary_family(Table& t, const std::string& op, Fill fill_b,
                   const std::function<Tensor(const Tensor&, const Tensor&)>& f) {
  for (int64_t n : kLengths) {
    t.add(
        op, "[" + std::to_string(n) + "] x2", {{{n}}, {{n}, fill_b}},
        [f](const Inputs& in) { return f(in[0], in[1]); }, n > 0 && n <= 3);
  }
  const std::vector<std::pair<Shape, Shape>> broadcasts = {
      {{4}, {1}},      {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}}, {{5, 1, 3}, {1, 2, 1}},
      {{1}, {33, 65}}, {{0, 3}, {1, 3}}, {{257, 3}, {3}},     {{2, 1, 1, 5}, {1, 3, 4, 1}}};
  for (const auto& [sa, sb] : broadcasts) {
    t.add(
        op, shape_text(sa) + " with " + shape_text(sb), {{sa}, {sb, fill_b}},
        [f](const Inputs& in) { return f(in[0], in[1]); }, shape_numel(sa) * shape_numel(sb) <= 64);
  }
  t.add(
      op, "[4, 3]^T with [3, 4]", {{{4, 3}}, {{3, 4}, fill_b}},
      [f](const Inputs& in) { return f(in[0].transpose(0, 1), in[1]); }, true);
  t.add(
      op, "[65, 33]^T with [33, 1]", {{{65, 33}}, {{33, 1}, fill_b}},
      [f](const Inputs& in) { return f(in[0].transpose(0, 1), in[1]); }, false);
}

// Reductions: all dims, each dim, keepdim, several dims.
void reduce_family(Table& t, const std::string& op,
                   const std::function<Tensor(const Tensor&, std::vector<int64_t>, bool)>& f,
                   bool allow_empty, bool differentiable) {
  for (int64_t n : kLengths) {
    if (n == 0 && !allow_empty) continue;
    t.add(
        op, "[" + std::to_string(n) + "] all", {{{n}}},
        [f](const Inputs& in) { return f(in[0], {}, false); }, n > 1 && n <= 5, differentiable);
  }
  const std::vector<std::pair<Shape, std::vector<int64_t>>> shapes = {
      {{3, 4}, {0}},
      {{3, 4}, {1}},
      {{3, 4}, {-1}},
      {{2, 3, 4}, {0, 2}},
      {{2, 3, 4}, {1}},
      {{33, 65}, {1}},
      {{65, 33}, {0}},
      {{1025, 3}, {0}},
      {{3, 1025}, {1}},
      {{4, 1, 5}, {1}},
      {{7, 300, 2}, {1}},
      // leading dims of a contiguous tensor: the column sum (more columns than one block)
      {{2, 3, 4}, {0, 1}},
      {{5, 700}, {0}},
      // leading and trailing around kept dims (a conv bias gradient): rows, then columns
      {{3, 4, 2, 5}, {0, 2, 3}},
      {{2, 3, 4, 5}, {0, 1, 3}}};
  for (const auto& [shape, dims] : shapes) {
    int64_t reduced = 1;  // elements per output; var's n - 1 wants at least 2
    for (int64_t d : dims) reduced *= shape[d < 0 ? d + shape.size() : d];
    for (bool keepdim : {false, true}) {
      t.add(
          op, shape_text(shape) + " dims " + shape_text(dims) + (keepdim ? " keepdim" : ""),
          {{shape}},
          [f, dims = dims, keepdim](const Inputs& in) { return f(in[0], dims, keepdim); },
          shape_numel(shape) <= 24 && reduced >= 2, differentiable);
    }
  }
  t.add(
      op, "[4, 3]^T dims [1]", {{{4, 3}}},
      [f](const Inputs& in) { return f(in[0].transpose(0, 1), {1}, false); }, true, differentiable);
}

void matmul_family(Table& t) {
  const std::vector<std::array<int64_t, 3>> mkn = {
      {1, 1, 1},    {2, 3, 4},    {3, 1, 2},    {1, 5, 1},    {4, 4, 4},
      {16, 16, 16}, {17, 31, 33}, {31, 32, 33}, {64, 65, 63}, {127, 1, 129},
      {128, 64, 1}, {1, 256, 1},  {5, 0, 3},    {0, 4, 2},    {100, 3, 7}};
  for (const auto& [m, k, n] : mkn) {
    t.add(
        "matmul", shape_text({m, k}) + "·" + shape_text({k, n}), {{{m, k}}, {{k, n}}},
        [](const Inputs& in) { return matmul(in[0], in[1]); },
        m * k + k * n <= 24 && m * k * n > 0);
  }
  const std::vector<std::array<int64_t, 4>> bmkn = {{2, 2, 3, 2},    {3, 4, 5, 6},   {1, 7, 3, 2},
                                                    {8, 16, 16, 16}, {5, 33, 17, 9}, {2, 1, 1, 1}};
  for (const auto& [b, m, k, n] : bmkn) {
    t.add(
        "matmul", "batched " + shape_text({b, m, k}) + "·" + shape_text({b, k, n}),
        {{{b, m, k}}, {{b, k, n}}}, [](const Inputs& in) { return matmul(in[0], in[1]); },
        b * (m * k + k * n) <= 36);
    t.add(
        "matmul", "batched " + shape_text({b, m, k}) + "·" + shape_text({k, n}),
        {{{b, m, k}}, {{k, n}}}, [](const Inputs& in) { return matmul(in[0], in[1]); },
        b * m * k + k * n <= 36);
  }
  t.add(
      "matmul", "[3, 2]^T·[3, 4]", {{{3, 2}}, {{3, 4}}},
      [](const Inputs& in) { return matmul(in[0].transpose(0, 1), in[1]); }, true);
  t.add(
      "matmul", "[2, 3]·[4, 3]^T", {{{2, 3}}, {{4, 3}}},
      [](const Inputs& in) { return matmul(in[0], in[1].transpose(0, 1)); }, true);
  t.add(
      "matmul", "[2, 5, 3] sliced·[3, 2]", {{{2, 5, 3}}, {{3, 2}}},
      [](const Inputs& in) { return matmul(in[0].slice(1, 0, 5, 2), in[1]); }, true);
  t.add(
      "matmul", "[2, 3, 4] permuted·[2, 3, 2]", {{{2, 3, 4}}, {{2, 3, 2}}},
      [](const Inputs& in) {
        return matmul(in[0].permute({0, 2, 1}), in[1]);
      },
      true);
  // PyTorch's full rules (Note [matmul rules]): vectors, more batch dims, broadcasting.
  const std::vector<std::pair<Shape, Shape>> general = {{{4}, {4}},
                                                        {{3}, {3, 2}},
                                                        {{2, 3}, {3}},
                                                        {{2, 4, 3}, {3}},
                                                        {{3}, {2, 3, 5}},
                                                        {{1, 2, 3}, {3, 3, 2}},
                                                        {{3, 2, 3}, {1, 3, 2}},
                                                        {{2, 1, 2, 3}, {4, 3, 2}},
                                                        {{2, 3, 2, 2}, {2, 3, 2, 1}},
                                                        {{5, 1, 1, 4, 3}, {2, 1, 3, 2}},
                                                        {{0}, {0}},
                                                        {{2, 0, 3}, {3, 4}}};
  for (const auto& [a, b] : general) {
    t.add(
        "matmul", shape_text(a) + "·" + shape_text(b), {{a}, {b}},
        [](const Inputs& in) { return matmul(in[0], in[1]); },
        shape_numel(a) + shape_numel(b) <= 40 && shape_numel(a) * shape_numel(b) > 0);
  }
}

void linear_family(Table& t) {
  const std::vector<std::array<int64_t, 3>> sizes = {
      {1, 1, 1},    {2, 3, 4},     {4, 5, 3},   {1, 7, 1},     {8, 16, 10},
      {33, 65, 17}, {64, 784, 10}, {3, 1, 5},   {127, 129, 3}, {256, 32, 32},
      {0, 4, 3},    {5, 31, 33},   {17, 2, 40}, {9, 9, 9},     {100, 10, 1}};
  for (const auto& [n, in, out] : sizes) {
    for (bool bias : {true, false}) {
      t.add(
          "linear", shape_text({n, in}) + " -> " + std::to_string(out) + (bias ? " +bias" : ""),
          bias ? std::vector<InputSpec>{{{n, in}}, {{out, in}}, {{out}}}
               : std::vector<InputSpec>{{{n, in}}, {{out, in}}},
          [bias](const Inputs& in) { return linear(in[0], in[1], bias ? in[2] : Tensor()); },
          n * in + in * out + out <= 40 && n > 0);
    }
  }
  t.add(
      "linear", "[2, 3, 4] -> 2", {{{2, 3, 4}}, {{2, 4}}, {{2}}},
      [](const Inputs& in) { return linear(in[0], in[1], in[2]); }, true);
}

}  // namespace tg::testing
