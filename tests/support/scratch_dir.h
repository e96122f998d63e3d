// A fresh directory under /tmp for a test's files, removed with them at scope exit (a test
// that made its own with mkdtemp left one behind per run).
#pragma once

#include <cstdlib>
#include <string>

#include <unistd.h>

namespace tg::testing {

class ScratchDir {
 public:
  ScratchDir() {
    char name[] = "/tmp/tg_test_XXXXXX";
    const char* made = mkdtemp(name);
    path_ = made != nullptr ? made : "";
  }
  ~ScratchDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }  // empty when none could be made
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace tg::testing
