// Runs an example program (mnist_train by default) as the user would, capturing its exit
// code, stdout and stderr, and reads its --metrics JSON lines: for the tests under
// tests/examples/.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../data/idx_files.h"

namespace tg::testing {

struct Outcome {
  int exit_code;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Outcome run(const ScratchDir& dir, const std::string& args,
                   const std::string& program = TG_MNIST_TRAIN) {
  const std::string cmd = program + " " + args + " > " + dir.file("out") + " 2> " + dir.file("err");
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir.file("out")),
          slurp(dir.file("err"))};
}

// The values under `key` in a --metrics file, one per line, as printed.
inline std::vector<std::string> metric_text(const std::string& metrics, const std::string& key) {
  std::vector<std::string> out;
  std::istringstream lines(metrics);
  std::string line;
  const std::string field = "\"" + key + "\": ";
  while (std::getline(lines, line)) {
    const size_t at = line.find(field);
    if (at == std::string::npos) continue;
    const size_t from = at + field.size();
    out.push_back(line.substr(from, line.find_first_of(",}", from) - from));
  }
  return out;
}

inline std::vector<std::string> train_losses(const std::string& metrics) {
  return metric_text(metrics, "train_loss");
}

// The same as numbers.
inline std::vector<double> metric(const std::string& metrics, const std::string& key) {
  std::vector<double> out;
  for (const std::string& text : metric_text(metrics, key)) out.push_back(std::stod(text));
  return out;
}

}  // namespace tg::testing
