// Op-table families for network ops: convolution, pooling (with PyTorch's options), index
// ops and embedding, dropout, batch and layer normalisation. Softmax and the losses:
// op_cases_loss.cpp.
#include <algorithm>
#include <utility>

#include "../../core/factory.h"
#include "op_families.h"

namespace tg::testing {

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
    t.add(
        "conv2d", shape_text(c.x) + " * " + shape_text(c.w) + " groups " + std::to_string(c.groups),
        inputs,
        [c](const Inputs& in) {
          return conv2d(in[0], in[1], c.bias ? in[2] : Tensor(), c.stride, c.padding, c.dilation,
                        c.groups);
        },
        small);
  }
  // padding "same" (odd totals: even kernels, dilation) and "valid"
  struct ModeConfig {
    Shape x, w;
    Size2 dilation;
    ConvPadding padding;
  };
  const std::vector<ModeConfig> modes = {
      {{1, 2, 5, 5}, {2, 2, 3, 3}, {1, 1}, ConvPadding::Same},
      {{2, 1, 6, 5}, {3, 1, 2, 2}, {1, 1}, ConvPadding::Same},
      {{1, 2, 7, 6}, {2, 1, 4, 3}, {1, 1}, ConvPadding::Same},
      {{1, 1, 9, 9}, {2, 1, 3, 2}, {2, 3}, ConvPadding::Same},
      {{2, 3, 6, 7}, {4, 3, 3, 2}, {1, 1}, ConvPadding::Valid},
  };
  for (const ModeConfig& m : modes) {
    const int64_t groups = m.x[1] / m.w[1];
    t.add(
        "conv2d",
        shape_text(m.x) + " * " + shape_text(m.w) +
            (m.padding == ConvPadding::Same ? " padding same" : " padding valid"),
        {{m.x}, {m.w}, {{m.w[0]}}},
        [m, groups](const Inputs& in) {
          return conv2d(in[0], in[1], in[2], {1, 1}, m.padding, m.dilation, groups);
        },
        shape_numel(m.x) + shape_numel(m.w) <= 80);
  }
}

void pool_family(Table& t, const std::string& op,
                 const std::function<Tensor(const Tensor&, Size2, Size2, Size2)>& f) {
  struct PoolConfig {
    Shape x;
    Size2 kernel, stride, padding;
  };
  const std::vector<PoolConfig> configs = {
      {{1, 1, 4, 4}, {2, 2}, {0, 0}, {0, 0}},   {{1, 2, 5, 5}, {3, 3}, {2, 2}, {1, 1}},
      {{2, 1, 4, 6}, {2, 3}, {1, 2}, {1, 1}},   {{1, 1, 3, 3}, {3, 3}, {1, 1}, {1, 1}},
      {{2, 3, 28, 28}, {2, 2}, {0, 0}, {0, 0}}, {{1, 1, 1, 1}, {1, 1}, {0, 0}, {0, 0}},
      {{4, 8, 14, 14}, {3, 3}, {2, 2}, {1, 1}}, {{1, 1, 33, 65}, {2, 2}, {0, 0}, {0, 0}},
      {{3, 2, 7, 9}, {3, 2}, {2, 3}, {1, 1}},   {{0, 1, 4, 4}, {2, 2}, {0, 0}, {0, 0}},
      {{1, 16, 8, 8}, {4, 4}, {4, 4}, {0, 0}},  {{2, 2, 9, 9}, {5, 5}, {1, 1}, {2, 2}},
      {{1, 1, 2, 100}, {1, 5}, {1, 5}, {0, 2}}, {{5, 5, 5, 5}, {2, 2}, {1, 1}, {0, 0}},
      {{1, 3, 16, 16}, {2, 2}, {2, 2}, {1, 1}}, {{2, 4, 6, 6}, {3, 3}, {3, 3}, {0, 0}},
      {{1, 1, 65, 33}, {3, 3}, {2, 2}, {1, 1}}, {{8, 1, 12, 12}, {2, 2}, {0, 0}, {0, 0}},
      {{1, 2, 3, 7}, {3, 1}, {1, 1}, {1, 0}},   {{2, 1, 10, 10}, {4, 4}, {3, 3}, {2, 2}},
      {{3, 3, 4, 4}, {2, 2}, {1, 1}, {1, 1}},   {{1, 32, 4, 4}, {2, 2}, {0, 0}, {0, 0}},
      {{1, 1, 129, 3}, {3, 3}, {1, 1}, {0, 0}}, {{2, 2, 6, 5}, {2, 2}, {2, 1}, {1, 0}},
      {{1, 1, 8, 8}, {8, 8}, {0, 0}, {0, 0}},   {{4, 2, 3, 3}, {2, 2}, {2, 2}, {1, 1}},
      {{1, 6, 11, 11}, {3, 3}, {3, 3}, {1, 1}}, {{2, 3, 5, 8}, {5, 2}, {1, 3}, {2, 1}},
      {{1, 1, 256, 2}, {2, 2}, {0, 0}, {0, 0}}, {{3, 1, 6, 6}, {4, 4}, {2, 2}, {2, 2}},
  };
  for (const PoolConfig& c : configs) {
    t.add(
        op,
        shape_text(c.x) + " kernel " + std::to_string(c.kernel[0]) + "x" +
            std::to_string(c.kernel[1]),
        {{c.x}}, [f, c](const Inputs& in) { return f(in[0], c.kernel, c.stride, c.padding); },
        shape_numel(c.x) <= 50 && shape_numel(c.x) > 0);
  }
  t.add(
      op, "[1, 1, 5, 4] transposed", {{{1, 1, 5, 4}}},
      [f](const Inputs& in) {
        return f(in[0].transpose(2, 3), {2, 2}, {0, 0}, {0, 0});
      },
      true);
}

// (rows, cols) scores for the row-wise ops, and the class targets they come with.
// PyTorch's pooling options: max pooling's dilation and ceil_mode (a last, partial window),
// average pooling's ceil_mode and count_include_pad = false.
void pool_option_cases(Table& t) {
  struct PoolOption {
    Shape x;
    Size2 kernel, stride, padding, dilation;
    bool ceil_mode, count_include_pad;
  };
  const std::vector<PoolOption> options = {
      {{1, 1, 7, 7}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, true, true},
      {{2, 2, 9, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true, true},
      {{1, 2, 7, 9}, {2, 3}, {1, 2}, {1, 1}, {2, 1}, false, true},
      {{1, 1, 10, 10}, {3, 3}, {3, 3}, {1, 1}, {2, 2}, true, true},
      {{2, 1, 6, 7}, {3, 2}, {2, 2}, {1, 1}, {1, 1}, false, false},
      {{1, 3, 5, 5}, {2, 2}, {2, 2}, {1, 1}, {1, 1}, true, false},
      {{3, 2, 8, 11}, {4, 3}, {3, 2}, {2, 1}, {1, 1}, true, false},
  };
  for (const PoolOption& o : options) {
    const std::string name = shape_text(o.x) + " k" + std::to_string(o.kernel[0]) + "x" +
                             std::to_string(o.kernel[1]) + (o.ceil_mode ? " ceil" : "");
    const bool small = shape_numel(o.x) <= 60;
    t.add(
        "max_pool2d", name + " dilation " + std::to_string(o.dilation[0]), {{o.x}},
        [o](const Inputs& in) {
          return max_pool2d(in[0], o.kernel, o.stride, o.padding, o.dilation, o.ceil_mode);
        },
        small);
    t.add(
        "avg_pool2d", name + (o.count_include_pad ? "" : " excluding padding"), {{o.x}},
        [o](const Inputs& in) {
          return avg_pool2d(in[0], o.kernel, o.stride, o.padding, o.ceil_mode, o.count_include_pad);
        },
        small);
  }
}

void index_families(Table& t) {
  // gather: index (int64) picks along a dim.
  const std::vector<std::tuple<Shape, Shape, int64_t>> gathers = {{{3, 4}, {3, 2}, 1},
                                                                  {{3, 4}, {2, 4}, 0},
                                                                  {{2, 3, 4}, {2, 3, 1}, 2},
                                                                  {{5}, {7}, 0},
                                                                  {{1, 1}, {1, 1}, 0},
                                                                  {{33, 65}, {33, 1}, 1},
                                                                  {{65, 33}, {100, 33}, 0},
                                                                  {{4, 10}, {4, 3}, 1},
                                                                  {{2, 5, 3}, {2, 5, 3}, 1},
                                                                  {{1025, 2}, {1025, 2}, 0},
                                                                  {{6, 6}, {3, 6}, 0},
                                                                  {{128, 10}, {128, 1}, 1},
                                                                  {{2, 2, 2, 2}, {2, 2, 2, 1}, 3},
                                                                  {{7, 1}, {7, 1}, 1},
                                                                  {{3, 4}, {3, 0}, 1},
                                                                  {{4097}, {4097}, 0},
                                                                  {{9, 8, 7}, {9, 8, 3}, 2},
                                                                  {{2, 300}, {2, 17}, 1},
                                                                  {{1, 65537}, {1, 5}, 1},
                                                                  {{10, 10}, {1, 10}, 0},
                                                                  {{3, 3}, {3, 3}, 1},
                                                                  {{5, 2}, {5, 2}, 0},
                                                                  {{2, 9}, {1, 4}, 1},
                                                                  {{12, 3}, {6, 3}, 0},
                                                                  {{8, 4, 2}, {8, 1, 2}, 1},
                                                                  {{256, 4}, {256, 4}, 1},
                                                                  {{1, 3}, {1, 6}, 1},
                                                                  {{31, 31}, {31, 2}, 1},
                                                                  {{4, 4, 4}, {4, 4, 4}, 0},
                                                                  {{2, 1000}, {2, 1}, 1}};
  for (const auto& [xs, is, dim] : gathers) {
    t.add(
        "gather", shape_text(xs) + " by " + shape_text(is) + " dim " + std::to_string(dim),
        {{xs}, {is, Fill::Classes, xs[dim]}},
        [dim = dim](const Inputs& in) { return gather(in[0], dim, in[1]); }, shape_numel(xs) <= 24);
  }
  const std::vector<std::tuple<Shape, int64_t, int64_t>> selects = {
      {{5, 3}, 0, 4},     {{5, 3}, 1, 2},     {{2, 3, 4}, 1, 5},  {{7}, 0, 3},
      {{1, 1}, 0, 1},     {{100, 10}, 0, 32}, {{10, 100}, 1, 7},  {{33, 65}, 0, 65},
      {{4, 4, 4}, 2, 1},  {{3, 2}, 0, 0},     {{1025}, 0, 1025},  {{6, 5, 4}, 0, 12},
      {{2, 257}, 1, 3},   {{9, 9}, 1, 9},     {{1, 4097}, 1, 2},  {{50, 3}, 0, 50},
      {{8, 2, 2}, 1, 4},  {{3, 31}, 1, 33},   {{12, 1}, 0, 6},    {{2, 2, 2, 2}, 3, 3},
      {{64, 16}, 0, 128}, {{5, 5}, 0, 25},    {{1, 10}, 1, 10},   {{20, 2}, 0, 1},
      {{2, 20}, 1, 40},   {{4, 3, 2}, 2, 2},  {{3, 65537}, 0, 2}, {{7, 7}, 1, 14},
      {{16, 1}, 0, 16},   {{1, 1, 5}, 2, 5}};
  for (const auto& [xs, dim, count] : selects) {
    t.add(
        "index_select",
        shape_text(xs) + " dim " + std::to_string(dim) + " x" + std::to_string(count),
        {{xs}, {{count}, Fill::Classes, xs[dim]}},
        [dim = dim](const Inputs& in) { return index_select(in[0], dim, in[1]); },
        shape_numel(xs) <= 24);
  }
  // embedding: tables of 1 to 1025 rows (one of 0 columns), index tensors of 0 to 3 dims
  // with repeats, without padding and with a padding row (first, last, negative).
  const std::vector<std::pair<Shape, Shape>> lookups = {
      {{1, 1}, {1}},        {{3, 4}, {5}},        {{10, 7}, {2, 3}},  {{6, 2}, {2, 2, 2}},
      {{33, 65}, {17}},     {{1025, 3}, {64}},    {{5, 0}, {4}},      {{4, 5}, {0}},
      {{2, 1}, {9}},        {{7, 9}, {3, 1}},     {{16, 16}, {4, 4}}, {{100, 2}, {250}},
      {{9, 33}, {1, 1, 1}}, {{12, 5}, {6, 2, 3}}, {{3, 4097}, {2}},   {{50, 8}, {7, 7}}};
  for (const auto& [ws, is] : lookups) {
    const bool small = shape_numel(ws) <= 24;
    t.add(
        "embedding", shape_text(ws) + " by " + shape_text(is), {{ws}, {is, Fill::Classes, ws[0]}},
        [](const Inputs& in) { return embedding(in[0], in[1]); }, small);
    // The padding row is read but gets no gradient by design (PyTorch's too), which finite
    // differences would contradict: these are parity cases; the golden test has PyTorch's.
    const int64_t pad = ws[0] == 1 ? 0 : (ws[0] % 2 == 0 ? -1 : 1);
    t.add(
        "embedding", shape_text(ws) + " by " + shape_text(is) + ", padding " + std::to_string(pad),
        {{ws}, {is, Fill::Classes, ws[0]}},
        [pad](const Inputs& in) { return embedding(in[0], in[1], pad); }, false);
  }
  for (const auto& [n, c] : kRowShapes) {
    t.add(
        "one_hot", "[" + std::to_string(n) + "] of " + std::to_string(c), {{{n}, Fill::Classes, c}},
        [c = c](const Inputs& in) { return one_hot(in[0], c); }, false, false);
  }
  const std::vector<std::pair<std::vector<Shape>, int64_t>> cats = {
      {{{2, 3}, {4, 3}}, 0},
      {{{2, 3}, {2, 1}, {2, 5}}, 1},
      {{{1}, {1}}, 0},
      {{{3, 0}, {3, 2}}, 1},
      {{{2, 3, 4}, {2, 1, 4}}, 1},
      {{{33, 65}, {33, 65}}, 0},
      {{{1025}, {3}}, 0},
      {{{5, 5}}, 1},
      {{{2, 2}, {2, 2}, {2, 2}, {2, 2}}, 0},
      {{{1, 4097}, {1, 1}}, 1},
      {{{7, 3}, {7, 3}}, -1},
      {{{4, 4, 4}, {4, 4, 4}}, 2},
      {{{0, 3}, {2, 3}}, 0},
      {{{128, 10}, {64, 10}}, 0},
      {{{3, 1}, {3, 1}, {3, 1}}, 1},
      {{{2, 65537}, {2, 3}}, 1},
      {{{9}, {8}, {7}}, 0},
      {{{1, 2, 3, 4}, {1, 2, 3, 4}}, 3},
      {{{6, 2}, {6, 3}}, 1},
      {{{10, 1}, {5, 1}}, 0},
      {{{2, 5}, {2, 5}}, 0},
      {{{3, 3, 3}, {3, 1, 3}, {3, 2, 3}}, 1},
      {{{257}, {255}}, 0},
      {{{1, 1}, {1, 1}}, 1},
      {{{4, 2}, {4, 2}}, 1},
      {{{2, 31}, {2, 33}}, 1},
      {{{11, 2}, {1, 2}}, 0},
      {{{5, 1, 2}, {5, 1, 2}}, 0},
      {{{16, 16}, {16, 16}}, 1},
      {{{3, 7}, {3, 7}}, 0}};
  for (const auto& [shapes, dim] : cats) {
    std::vector<InputSpec> inputs;
    int64_t total = 0;
    for (const Shape& s : shapes) {
      inputs.push_back({s});
      total += shape_numel(s);
    }
    t.add(
        "cat",
        std::to_string(shapes.size()) + " tensors from " + shape_text(shapes[0]) + " dim " +
            std::to_string(dim),
        inputs, [dim = dim](const Inputs& in) { return cat(in, dim); }, total <= 30);
  }
  for (int64_t n : kLengths) {
    for (int64_t dim : {0, 1}) {
      t.add(
          "stack", "3 x [" + std::to_string(n) + "] dim " + std::to_string(dim),
          {{{n}}, {{n}}, {{n}}}, [dim](const Inputs& in) { return stack(in, dim); },
          n > 0 && n <= 4);
    }
  }
  // Each entry scaled by its position and stacked back: a misplaced gradient shows; only
  // some entries used, so the zeros left for unused ones are checked too.
  for (const auto& [shape, dim] : std::vector<std::pair<Shape, int64_t>>{{{5, 3}, 0},
                                                                         {{2, 3, 4}, 1},
                                                                         {{1}, 0},
                                                                         {{3, 1, 2}, -1},
                                                                         {{33, 65}, 1},
                                                                         {{7, 0}, 0},
                                                                         {{0, 4}, 1},
                                                                         {{9}, 0},
                                                                         {{1, 1, 1}, 2},
                                                                         {{3, 5}, 1},
                                                                         {{6, 2, 2}, 2},
                                                                         {{64, 8}, 0},
                                                                         {{300, 3}, 0},
                                                                         {{2, 1025}, 1},
                                                                         {{2, 2, 2, 2}, 3},
                                                                         {{4, 3, 2}, 0}}) {
    for (const bool all : {true, false}) {
      t.add(
          "unbind",
          shape_text(shape) + " dim " + std::to_string(dim) + (all ? "" : ", odd entries"),
          {{shape}},
          [dim = dim, all](const Inputs& in) {
            std::vector<Tensor> entries = unbind(in[0], dim);
            std::vector<Tensor> used;
            for (size_t i = 0; i < entries.size(); ++i) {
              if (all || i % 2 == 1) used.push_back(mul(entries[i], static_cast<double>(i + 1)));
            }
            return used.empty() ? sum(in[0]) : stack(used, dim);
          },
          shape_numel(shape) <= 24);
    }
  }
  for (const Shape& s : std::vector<Shape>{{2, 3, 4}, {1}, {5, 1, 2}, {33, 65}, {2, 2, 2, 2}}) {
    for (const auto& [start, end] :
         std::vector<std::pair<int64_t, int64_t>>{{0, -1}, {1, -1}, {0, 0}}) {
      if (start >= static_cast<int64_t>(s.size())) continue;
      t.add(
          "flatten", shape_text(s) + " " + std::to_string(start) + ".." + std::to_string(end),
          {{s}},
          [start = start, end = end](const Inputs& in) { return flatten(in[0], start, end); },
          shape_numel(s) <= 24);
    }
  }
  for (int i = 0; i < 20; ++i) {
    t.add(
        "flatten", "[4, 3]^T #" + std::to_string(i), {{{4, 3 + i}}},
        [](const Inputs& in) { return flatten(in[0].transpose(0, 1)); }, i == 0);
  }
}

void normalization_families(Table& t) {
  // dropout with a fresh generator per call, so every evaluation draws the same mask.
  for (double p : {0.3, 0.0, 0.9}) {
    unary_family(t, "dropout", Fill::Normal, [p](const Tensor& x) {
      Generator g(11);
      return dropout(x, p, true, &g);
    });
  }
  t.add(
      "dropout", "eval", {{{4, 5}}}, [](const Inputs& in) { return dropout(in[0], 0.5, false); },
      true);
  // relu + dropout (Note [relu + dropout]): the fused op on the CPU against the float64 ops.
  for (double p : {0.3, 0.0, 0.9}) {
    unary_family(t, "relu_dropout", Fill::Normal, [p](const Tensor& x) {
      Generator g(11);
      return relu_dropout(x, p, true, &g);
    });
  }
  t.add(
      "relu_dropout", "eval", {{{4, 5}}},
      [](const Inputs& in) { return relu_dropout(in[0], 0.5, false); }, true);
  const std::vector<Shape> shapes = {{4, 3},
                                     {2, 3, 2, 2},
                                     {5, 1},
                                     {3, 2, 1, 4},
                                     {16, 8},
                                     {2, 4, 3, 3},
                                     {64, 10},
                                     {8, 3, 5, 7},
                                     {2, 1, 33, 65},
                                     {1025, 2},
                                     {3, 64, 4, 4},
                                     {128, 1},
                                     {2, 2, 31, 31},
                                     {4, 16, 1, 1},
                                     {6, 5},
                                     // (N, C, L), as BatchNorm1d takes sequences
                                     {4, 3, 5},
                                     {2, 8, 33}};
  // batch_norm, and batch_norm_relu (Note [batch norm + relu]) on the same cases.
  using BatchNormOp = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                 const Tensor&, bool, double, double);
  const std::pair<const char*, BatchNormOp> norms[] = {{"batch_norm", &batch_norm},
                                                       {"batch_norm_relu", &batch_norm_relu}};
  for (const auto& [name, op] : norms) {
    for (const Shape& s : shapes) {
      const int64_t c = s[1];
      const bool small = shape_numel(s) <= 24;
      t.add(
          name, shape_text(s) + " training", {{s}, {{c}}, {{c}}},
          [c, op = op](const Inputs& in) {
            const TensorOptions o = TensorOptions(in[0].dtype()).device(in[0].device());
            return op(in[0], zeros({c}, o), ones({c}, o), in[1], in[2], true, 0.1, 1e-5);
          },
          small);
      t.add(
          name, shape_text(s) + " eval",
          {{s}, {{c}}, {{c}}, {{c}, Fill::Normal, 0, true}, {{c}, Fill::Positive, 0, true}},
          [op = op](const Inputs& in) {
            return op(in[0], in[3], in[4], in[1], in[2], false, 0.1, 1e-5);
          },
          small);
    }
  }
  // batch_norm_relu_max_pool2d (Note [batch norm + relu + pool]): even and odd planes, one
  // window to many, short and long rows.
  const std::vector<Shape> pooled_shapes = {
      {2, 3, 2, 2},   {2, 4, 3, 3},   {8, 3, 5, 7},    {2, 1, 33, 65}, {3, 64, 4, 4},
      {2, 2, 31, 31}, {1, 1, 2, 2},   {3, 2, 2, 5},    {5, 3, 6, 6},   {2, 5, 7, 2},
      {4, 2, 9, 4},   {1, 3, 28, 28}, {16, 4, 14, 14}, {2, 8, 3, 8},   {7, 1, 4, 3}};
  for (const Shape& s : pooled_shapes) {
    const int64_t c = s[1];
    const bool small = shape_numel(s) <= 24;
    t.add(
        "batch_norm_relu_max_pool2d", shape_text(s) + " training", {{s}, {{c}}, {{c}}},
        [c](const Inputs& in) {
          const TensorOptions o = TensorOptions(in[0].dtype()).device(in[0].device());
          return batch_norm_relu_max_pool2d(in[0], zeros({c}, o), ones({c}, o), in[1], in[2], true,
                                            0.1, 1e-5);
        },
        small);
    t.add(
        "batch_norm_relu_max_pool2d", shape_text(s) + " eval",
        {{s}, {{c}}, {{c}}, {{c}, Fill::Normal, 0, true}, {{c}, Fill::Positive, 0, true}},
        [](const Inputs& in) {
          return batch_norm_relu_max_pool2d(in[0], in[3], in[4], in[1], in[2], false);
        },
        small);
  }
  // conv2d_batch_norm_relu_max_pool2d (Note [conv block]): in float32 the CPU's block (its
  // output and gradients blocked between the ops), in float64 the ops apart. The CNN's three
  // blocks, odd planes, strides, paddings, kernels, planes of one window, 16 to 48 channels;
  // the smallest gradchecked (through the ops apart: float64).
  struct ConvBlock {
    Shape x;
    int64_t c_out, kernel, stride, padding;
  };
  const std::vector<ConvBlock> blocks = {
      {{4, 3, 8, 8}, 16, 3, 1, 1},   {{3, 16, 9, 7}, 32, 3, 1, 1},   {{5, 8, 6, 6}, 16, 3, 2, 1},
      {{2, 1, 2, 2}, 16, 1, 1, 0},   {{2, 2, 3, 3}, 16, 1, 1, 0},    {{1, 4, 5, 5}, 16, 3, 1, 0},
      {{6, 3, 10, 10}, 16, 5, 1, 2}, {{2, 32, 4, 4}, 16, 3, 1, 1},   {{3, 3, 12, 9}, 48, 3, 1, 1},
      {{2, 1, 28, 28}, 32, 3, 1, 1}, {{4, 32, 14, 14}, 64, 3, 1, 1}, {{2, 64, 7, 7}, 128, 3, 1, 1},
      {{7, 5, 7, 11}, 16, 3, 2, 0},  {{1, 2, 4, 6}, 32, 2, 1, 0},    {{3, 16, 5, 5}, 16, 1, 1, 0}};
  for (const ConvBlock& k : blocks) {
    const int64_t c = k.c_out;
    const Shape w = {c, k.x[1], k.kernel, k.kernel};
    const std::string name = shape_text(k.x) + " -> " + std::to_string(c) + ", kernel " +
                             std::to_string(k.kernel) + ", stride " + std::to_string(k.stride);
    const bool small = shape_numel(k.x) <= 18;
    const auto block = [k](const Inputs& in, const Tensor& mean, const Tensor& var, bool training) {
      return conv2d_batch_norm_relu_max_pool2d(in[0], in[1], in[2], {k.stride, k.stride},
                                               {k.padding, k.padding}, {1, 1}, mean, var, in[3],
                                               in[4], training, 0.1, 1e-5);
    };
    t.add(
        "conv2d_batch_norm_relu_max_pool2d", name + ", training", {{k.x}, {w}, {{c}}, {{c}}, {{c}}},
        [block, c](const Inputs& in) {
          const TensorOptions o = TensorOptions(in[0].dtype()).device(in[0].device());
          return block(in, zeros({c}, o), ones({c}, o), true);
        },
        small);
    t.add(
        "conv2d_batch_norm_relu_max_pool2d", name + ", eval",
        {{k.x},
         {w},
         {{c}},
         {{c}},
         {{c}},
         {{c}, Fill::Normal, 0, true},
         {{c}, Fill::Positive, 0, true}},
        [block](const Inputs& in) { return block(in, in[5], in[6], false); }, small);
  }
  // layer_norm over the last one or two dims, with and without the affine transform.
  for (const Shape& s : shapes) {
    for (size_t k = 1; k <= std::min<size_t>(s.size(), 2); ++k) {
      const Shape normalized(s.end() - static_cast<std::ptrdiff_t>(k), s.end());
      const bool small = shape_numel(s) <= 24;
      t.add(
          "layer_norm", shape_text(s) + " over " + shape_text(normalized) + ", affine",
          {{s}, {normalized}, {normalized}},
          [normalized](const Inputs& in) {
            return layer_norm(in[0], normalized, in[1], in[2], 1e-5);
          },
          small);
    }
    t.add(
        "layer_norm", shape_text(s) + " over its last dim, no affine", {{s}},
        [n = s.back()](const Inputs& in) { return layer_norm(in[0], {n}); }, shape_numel(s) <= 24);
  }
  t.add(
      "batch_norm", "[4, 3] training, no affine", {{{4, 3}}},
      [](const Inputs& in) {
        return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
      },
      true);
}

}  // namespace tg::testing
