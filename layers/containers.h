// Containers that hold modules without running them, as torch.nn.ModuleList and ModuleDict:
// their children are registered (so parameters, state dicts, to() and train() reach them,
// under "0.weight", "1.bias" ... or "<key>.weight"), and the owning module's forward
// decides how to call them. Calling the container's own forward is an error that says so.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../foundation/config.h"
#include "module.h"

TG_API_BEGIN

namespace tg::layers {

class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);
  // Appends a module under the next index; returns this for chaining.
  ModuleList& push_back(std::shared_ptr<Module> module);
  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  // The i-th module; a negative i counts from the end. Throws when out of range.
  const std::shared_ptr<Module>& operator[](int64_t i) const;
  std::vector<std::shared_ptr<Module>>::const_iterator begin() const { return modules_.begin(); }
  std::vector<std::shared_ptr<Module>>::const_iterator end() const { return modules_.end(); }
  Tensor forward(const Tensor& x) override;  // throws: a ModuleList is not run

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

class ModuleDict : public Module {
 public:
  ModuleDict() : Module("ModuleDict") {}
  ModuleDict(std::initializer_list<std::pair<std::string, std::shared_ptr<Module>>> modules);
  // Adds a module under a new key (no '.', not empty); returns this for chaining.
  ModuleDict& insert(const std::string& key, std::shared_ptr<Module> module);
  size_t size() const { return modules_.size(); }
  bool contains(const std::string& key) const;
  // The module under `key`; throws naming the key and the keys there are.
  const std::shared_ptr<Module>& operator[](const std::string& key) const;
  std::vector<std::string> keys() const;     // in insertion order
  Tensor forward(const Tensor& x) override;  // throws: a ModuleDict is not run

 private:
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules_;
};

// module_list({make<Linear>(4, 4), ...}), module_dict({{"head", make<Linear>(4, 3)}}): shared
// containers of these modules.
inline std::shared_ptr<ModuleList> module_list(
    std::initializer_list<std::shared_ptr<Module>> modules) {
  return std::make_shared<ModuleList>(modules);
}
inline std::shared_ptr<ModuleDict> module_dict(
    std::initializer_list<std::pair<std::string, std::shared_ptr<Module>>> modules) {
  return std::make_shared<ModuleDict>(modules);
}

}  // namespace tg::layers

TG_API_END
