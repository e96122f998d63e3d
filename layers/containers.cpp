#include "containers.h"

namespace tg::layers {

ModuleList::ModuleList(std::initializer_list<std::shared_ptr<Module>> modules)
    : Module("ModuleList") {
  for (const auto& m : modules) push_back(m);
}

ModuleList& ModuleList::push_back(std::shared_ptr<Module> module) {
  TG_CHECK(module != nullptr, "ModuleList: a null module at index ", modules_.size());
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
  return *this;
}

const std::shared_ptr<Module>& ModuleList::operator[](int64_t i) const {
  const int64_t n = static_cast<int64_t>(modules_.size());
  TG_CHECK(i >= -n && i < n, "ModuleList: index ", i, " is out of range for ", n, " modules");
  return modules_[static_cast<size_t>(i < 0 ? i + n : i)];
}

Tensor ModuleList::forward(const Tensor&) {
  TG_THROW(
      "ModuleList has no forward: call its modules from the forward of the module that "
      "holds it (or use Sequential to run them in order)");
}

ModuleDict::ModuleDict(
    std::initializer_list<std::pair<std::string, std::shared_ptr<Module>>> modules)
    : Module("ModuleDict") {
  for (const auto& [key, m] : modules) insert(key, m);
}

ModuleDict& ModuleDict::insert(const std::string& key, std::shared_ptr<Module> module) {
  TG_CHECK(module != nullptr, "ModuleDict: a null module under '", key, "'");
  TG_CHECK(!key.empty() && key.find('.') == std::string::npos, "ModuleDict: key '", key,
           "' must be non-empty and without '.'");
  TG_CHECK(!contains(key), "ModuleDict: key '", key, "' is there already");
  register_module(key, module);
  modules_.emplace_back(key, std::move(module));
  return *this;
}

bool ModuleDict::contains(const std::string& key) const {
  for (const auto& [k, m] : modules_) {
    if (k == key) return true;
  }
  return false;
}

const std::shared_ptr<Module>& ModuleDict::operator[](const std::string& key) const {
  std::string known;
  for (const auto& [k, m] : modules_) {
    if (k == key) return m;
    known += (known.empty() ? "" : ", ") + k;
  }
  TG_THROW("ModuleDict: no module under '", key, "' (keys: ", known.empty() ? "none" : known, ")");
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, m] : modules_) out.push_back(k);
  return out;
}

Tensor ModuleDict::forward(const Tensor&) {
  TG_THROW(
      "ModuleDict has no forward: call its modules from the forward of the module that "
      "holds it");
}

}  // namespace tg::layers
