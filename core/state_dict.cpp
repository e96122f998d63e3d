#include "state_dict.h"

#include <cmath>
#include <map>

#include "autograd.h"

namespace tg {

std::vector<std::pair<Tensor, Tensor>> match_state(const std::string& who, const NamedTensors& own,
                                                   const NamedTensors& given, bool strict,
                                                   bool exact_dtype) {
  std::map<std::string, Tensor> by_name;
  std::vector<std::string> problems;
  for (const auto& [name, t] : given) {
    if (!by_name.emplace(name, t).second) problems.push_back("key '" + name + "' given twice");
  }
  std::vector<std::pair<Tensor, Tensor>> pairs;
  for (const auto& [name, target] : own) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      if (strict) problems.push_back("missing key '" + name + "'");
      continue;
    }
    if (!it->second.defined()) {
      problems.push_back("key '" + name + "' holds an undefined tensor");
    } else if (it->second.shape() != target.shape()) {
      problems.push_back("key '" + name + "': shape " + to_string(it->second.shape()) +
                         " given, expected " + to_string(target.shape()));
    } else if (exact_dtype && it->second.dtype() != target.dtype()) {
      problems.push_back("key '" + name + "': dtype " + dtype_name(it->second.dtype()) +
                         " given, expected " + dtype_name(target.dtype()));
    } else {
      pairs.emplace_back(target, it->second);
    }
    by_name.erase(it);
  }
  if (strict) {
    for (const auto& [name, t] : by_name) problems.push_back("unexpected key '" + name + "'");
  }
  if (!problems.empty()) {
    std::string all;
    for (const std::string& p : problems) all += "\n  " + p;
    TG_CHECK(false, who, ".load_state_dict: ", problems.size(),
             " problem(s), nothing loaded:", all);
  }
  return pairs;
}

Tensor find_state(const NamedTensors& state, const std::string& name) {
  for (const auto& [key, t] : state) {
    if (key == name) return t;
  }
  return Tensor();
}

std::vector<std::string> non_finite_entries(const NamedTensors& state) {
  NoGradGuard no_grad;
  std::vector<std::string> out;
  for (const auto& [name, t] : state) {
    if (!t.defined() || !is_floating(t.dtype()) || t.numel() == 0) continue;
    const Tensor values = t.to(Device::cpu()).to(DType::Float64).contiguous();
    const double* v = values.data_ptr<double>();
    int64_t bad = 0;
    for (int64_t i = 0; i < values.numel(); ++i) bad += !std::isfinite(v[i]);
    if (bad > 0) {
      out.push_back(name + " (" + std::to_string(bad) + " of " + std::to_string(values.numel()) +
                    ")");
    }
  }
  return out;
}

}  // namespace tg
