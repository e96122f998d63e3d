// Op-table families of conv1d (composed of conv2d), adaptive_avg_pool2d and interpolate
// (products with per-axis maps): shapes of one element, odd and large sizes, batched and
// unbatched, shrinking and growing.
#include "op_families.h"

namespace tg::testing {

void resample_families(Table& t) {
  struct Conv1dCase {
    Shape x, w;
    int64_t stride, padding, dilation, groups;
  };
  const std::vector<Conv1dCase> convs = {
      {{1, 1, 1}, {1, 1, 1}, 1, 0, 1, 1},      {{2, 3, 7}, {4, 3, 3}, 1, 1, 1, 1},
      {{2, 3, 11}, {4, 3, 3}, 2, 1, 2, 1},     {{1, 4, 9}, {6, 2, 4}, 1, 2, 1, 2},
      {{3, 2, 5}, {2, 2, 5}, 1, 0, 1, 1},      {{1, 1, 33}, {1, 1, 7}, 3, 3, 1, 1},
      {{2, 6, 10}, {6, 1, 3}, 1, 1, 1, 6},     {{4, 8, 129}, {16, 8, 5}, 2, 2, 1, 1},
      {{1, 16, 1000}, {8, 16, 9}, 4, 4, 2, 1}, {{2, 2, 4}, {2, 2, 2}, 2, 0, 1, 1},
      {{0, 3, 7}, {2, 3, 3}, 1, 1, 1, 1},      {{1, 3, 64}, {3, 1, 3}, 1, 1, 1, 3},
      {{1, 2, 3}, {3, 2, 3}, 1, 2, 2, 1},      {{5, 1, 17}, {1, 1, 1}, 2, 0, 1, 1},
      {{2, 4, 31}, {4, 4, 31}, 1, 0, 1, 1}};
  for (const Conv1dCase& c : convs) {
    for (const bool bias : {true, false}) {
      const bool small = shape_numel(c.x) * c.w[0] <= 200 && c.x[0] > 0;
      std::vector<InputSpec> inputs{{c.x}, {c.w}};
      if (bias) inputs.push_back({{c.w[0]}});
      t.add(
          "conv1d",
          shape_text(c.x) + " * " + shape_text(c.w) + " s" + std::to_string(c.stride) + " p" +
              std::to_string(c.padding) + " d" + std::to_string(c.dilation) + " g" +
              std::to_string(c.groups) + (bias ? "" : " no bias"),
          inputs,
          [c, bias](const Inputs& in) {
            return conv1d(in[0], in[1], bias ? in[2] : Tensor(), c.stride, c.padding, c.dilation,
                          c.groups);
          },
          small);
    }
  }
  t.add(
      "conv1d", "unbatched [3, 9] * [2, 3, 2]", {{{3, 9}}, {{2, 3, 2}}},
      [](const Inputs& in) { return conv1d(in[0], in[1]); }, true);

  // (input shape, output size): shrinking, growing, uneven windows, global pooling.
  const std::vector<std::pair<Shape, Size2>> pools = {
      {{1, 1, 1, 1}, {1, 1}},    {{2, 3, 7, 10}, {3, 4}}, {{1, 2, 2, 5}, {3, 1}},
      {{2, 4, 8, 8}, {1, 1}},    {{1, 1, 5, 5}, {5, 5}},  {{3, 2, 9, 4}, {2, 3}},
      {{1, 3, 33, 65}, {7, 7}},  {{2, 1, 6, 6}, {4, 4}},  {{1, 2, 13, 3}, {6, 2}},
      {{4, 16, 14, 14}, {1, 1}}, {{1, 1, 1, 9}, {1, 4}},  {{2, 2, 3, 3}, {2, 2}},
      {{1, 8, 64, 64}, {3, 5}},  {{0, 2, 4, 4}, {2, 2}},  {{3, 5, 7}, {2, 3}}};
  for (const auto& [shape, out] : pools) {
    t.add(
        "adaptive_avg_pool2d",
        shape_text(shape) + " to " + std::to_string(out[0]) + "x" + std::to_string(out[1]),
        {{shape}}, [out = out](const Inputs& in) { return adaptive_avg_pool2d(in[0], out); },
        shape_numel(shape) <= 400);
  }
  for (int i = 0; i < 15; ++i) {  // odd sizes to odd sizes
    const Shape shape{1 + i % 3, 2, 3 + 2 * i, 5 + i};
    const Size2 out{1 + (7 * i) % 9, 1 + (5 * i) % 11};
    t.add(
        "adaptive_avg_pool2d", shape_text(shape) + " #" + std::to_string(i), {{shape}},
        [out](const Inputs& in) { return adaptive_avg_pool2d(in[0], out); }, i < 3);
  }

  struct Resize {
    Shape x;
    Size2 size;
    std::array<double, 2> scale;
  };
  const std::vector<Resize> resizes = {
      {{1, 1, 1, 1}, {3, 2}, {0, 0}},      {{2, 2, 3, 5}, {7, 4}, {0, 0}},
      {{1, 3, 4, 3}, {0, 0}, {2.0, 1.5}},  {{1, 2, 8, 8}, {3, 5}, {0, 0}},
      {{2, 1, 5, 7}, {0, 0}, {0.5, 0.75}}, {{1, 1, 33, 17}, {65, 9}, {0, 0}},
      {{3, 4, 6, 6}, {0, 0}, {3.0, 3.0}},  {{1, 2, 2, 2}, {1, 1}, {0, 0}},
      {{2, 3, 7}, {14, 3}, {0, 0}},        {{1, 1, 64, 64}, {0, 0}, {0.25, 0.5}},
      {{1, 1, 3, 3}, {9, 9}, {0, 0}},      {{2, 2, 10, 1}, {5, 4}, {0, 0}}};
  for (const Resize& r : resizes) {
    for (const auto& [mode, corners, name] :
         std::vector<std::tuple<InterpolateMode, bool, const char*>>{
             {InterpolateMode::Nearest, false, "nearest"},
             {InterpolateMode::Bilinear, false, "bilinear"},
             {InterpolateMode::Bilinear, true, "bilinear corners"}}) {
      if (corners && r.size[0] == 0) continue;
      InterpolateOptions o;
      o.size = r.size;
      o.scale_factor = r.scale;
      o.mode = mode;
      o.align_corners = corners;
      const std::string target =
          r.size[0] > 0 ? std::to_string(r.size[0]) + "x" + std::to_string(r.size[1])
                        : "scale " + std::to_string(r.scale[0]) + "," + std::to_string(r.scale[1]);
      t.add(
          "interpolate", shape_text(r.x) + " " + name + " to " + target, {{r.x}},
          [o](const Inputs& in) { return interpolate(in[0], o); }, shape_numel(r.x) <= 200);
    }
  }
}

}  // namespace tg::testing
