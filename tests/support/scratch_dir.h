// A fresh directory under /tmp for a test's files, removed with them at scope exit (a test
// that made its own with mkdtemp left one behind per run).
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace tg::testing {

class ScratchDir {
 public:
  // Throws when /tmp takes no new directory: a test's files must never land elsewhere.
  ScratchDir() {
    char name[] = "/tmp/tg_test_XXXXXX";
    if (mkdtemp(name) == nullptr)
      throw std::runtime_error(std::string("ScratchDir: mkdtemp under /tmp failed: ") +
                               std::strerror(errno));
    path_ = name;
  }
  ~ScratchDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace tg::testing
