// The op-case table, part: softmax, log_softmax and the losses (class-index and
// probability cross-entropy with their options, NLL, MSE, BCE with logits).
#include "../../core/factory.h"
#include "../../core/ops.h"
#include "op_families.h"

namespace tg::testing {

void softmax_family(Table& t, const std::string& op,
                    const std::function<Tensor(const Tensor&, int64_t)>& f) {
  for (const auto& [r, c] : kRowShapes) {
    t.add(
        op, shape_text({r, c}) + " dim -1", {{{r, c}}},
        [f](const Inputs& in) { return f(in[0], -1); }, r * c <= 15 && r * c > 0);
  }
  t.add(
      op, "[3, 4] dim 0", {{{3, 4}}}, [f](const Inputs& in) { return f(in[0], 0); }, true);
  t.add(
      op, "[2, 3, 4] dim 1", {{{2, 3, 4}}}, [f](const Inputs& in) { return f(in[0], 1); }, true);
  t.add(
      op, "[4, 3]^T dim 1", {{{4, 3}}},
      [f](const Inputs& in) { return f(in[0].transpose(0, 1), 1); }, true);
}

void class_loss_family(Table& t, const std::string& op,
                       const std::function<Tensor(const Tensor&, const Tensor&, Reduction)>& f) {
  int i = 0;
  for (const auto& [n, c] : kRowShapes) {
    if (n == 0) continue;
    const Reduction reduction =
        i % 3 == 0 ? Reduction::Mean : (i % 3 == 1 ? Reduction::Sum : Reduction::None);
    const char* name = i % 3 == 0 ? "mean" : (i % 3 == 1 ? "sum" : "none");
    ++i;
    t.add(
        op, shape_text({n, c}) + " " + name, {{{n, c}}, {{n}, Fill::Classes, c}},
        [f, reduction](const Inputs& in) { return f(in[0], in[1], reduction); }, n * c <= 15);
  }
}

// Note [class losses]: weights, ignored targets (every third target), K-dim scores and
// probability targets. The targets and weights are built inside the case (fixed values).
void class_loss_option_cases(Table& t) {
  const auto targets = [](const Shape& shape, int64_t classes, const Tensor& like) {
    std::vector<int64_t> values(static_cast<size_t>(shape_numel(shape)));
    for (size_t i = 0; i < values.size(); ++i) {
      values[i] = i % 3 == 2 ? -100 : static_cast<int64_t>((i * 7 + 1) % classes);
    }
    return from_vector(values, shape).to(like.device());
  };
  const auto weights = [](int64_t classes, const Tensor& like) {
    std::vector<double> values(static_cast<size_t>(classes));
    for (int64_t c = 0; c < classes; ++c) values[c] = 0.5 + 0.25 * static_cast<double>(c);
    return from_vector(values).to(like.dtype()).to(like.device());
  };
  const std::vector<Shape> shapes = {{4, 3}, {2, 3, 4}, {2, 5, 3, 2}, {7, 2}, {3, 4, 1}};
  int i = 0;
  for (const Shape& s : shapes) {
    const Reduction reduction =
        i % 3 == 0 ? Reduction::Mean : (i % 3 == 1 ? Reduction::Sum : Reduction::None);
    ++i;
    const bool small = shape_numel(s) <= 24;
    Shape sample = s;
    sample.erase(sample.begin() + 1);
    t.add(
        "cross_entropy", shape_text(s) + " weight, ignore_index, smoothing", {{s}},
        [=](const Inputs& in) {
          ClassLossOptions o;
          o.weight = weights(s[1], in[0]);
          o.reduction = reduction;
          o.label_smoothing = 0.1;
          return cross_entropy(in[0], targets(sample, s[1], in[0]), o);
        },
        small);
    t.add(
        "cross_entropy", shape_text(s) + " probability targets",
        {{s}, {s, Fill::Positive, 0, true}},
        [=](const Inputs& in) {
          ClassLossOptions o;
          o.weight = weights(s[1], in[0]);
          o.reduction = reduction;
          return cross_entropy(in[0], softmax(in[1], 1), o);
        },
        small);
    t.add(
        "nll_loss", shape_text(s) + " weight, ignore_index", {{s}},
        [=](const Inputs& in) {
          ClassLossOptions o;
          o.weight = weights(s[1], in[0]);
          o.reduction = reduction;
          return nll_loss(log_softmax(in[0], 1), targets(sample, s[1], in[0]), o);
        },
        small);
  }
}

void pair_loss_family(Table& t, const std::string& op,
                      const std::function<Tensor(const Tensor&, const Tensor&, Reduction)>& f) {
  int i = 0;
  for (int64_t n : kLengths) {
    if (n == 0) continue;
    const Reduction reduction =
        i % 3 == 0 ? Reduction::Mean : (i % 3 == 1 ? Reduction::Sum : Reduction::None);
    ++i;
    t.add(
        op, "[" + std::to_string(n) + "] reduction " + std::to_string(i % 3), {{{n}}, {{n}}},
        [f, reduction](const Inputs& in) { return f(in[0], in[1], reduction); }, n <= 5);
  }
  for (const Shape& s :
       std::vector<Shape>{{3, 4}, {2, 3, 5}, {33, 65}, {1, 1}, {7, 1}, {128, 10}, {2, 2, 2}}) {
    t.add(
        op, shape_text(s) + " mean", {{s}, {s}},
        [f](const Inputs& in) { return f(in[0], in[1], Reduction::Mean); }, shape_numel(s) <= 30);
  }
}

}  // namespace tg::testing
