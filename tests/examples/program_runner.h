// Runs an example program (mnist_train by default) as the user would, capturing its exit
// code, stdout and stderr, and reads its --metrics JSON lines: for the tests under
// tests/examples/.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../../core/safetensors.h"
#include "../data/idx_files.h"
#include "../support/parity.h"

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

// Runs `flags` for 3 epochs straight (--checkpoint a.st, --metrics a.jsonl in `data`), then
// again stopped after epoch 1 (b.st) and resumed from it to epoch 3 (b.jsonl): the resumed
// run's losses and final checkpoint must be the straight run's, bit for bit. Returns the
// straight run's checkpoint (empty when a run failed).
inline SafetensorsContents expect_resumed_run_is_the_straight_one(const ScratchDir& data,
                                                                  const std::string& flags) {
  const Outcome straight = run(data, flags + " --epochs 3 --checkpoint " + data.file("a.st") +
                                         " --metrics " + data.file("a.jsonl"));
  EXPECT_EQ(straight.exit_code, 0) << straight.err;
  const Outcome first =
      run(data, flags + " --epochs 3 --stop-after 1 --checkpoint " + data.file("b.st"));
  EXPECT_EQ(first.exit_code, 0) << first.err;
  const Outcome resumed =
      run(data, flags + " --epochs 3 --resume " + data.file("b.st") + " --checkpoint " +
                    data.file("b.st") + " --metrics " + data.file("b.jsonl"));
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  if (straight.exit_code != 0 || first.exit_code != 0 || resumed.exit_code != 0) return {};
  EXPECT_NE(resumed.out.find("resumed from " + data.file("b.st") + " after epoch 1"),
            std::string::npos);
  const std::vector<std::string> all = train_losses(slurp(data.file("a.jsonl")));
  EXPECT_EQ(all.size(), 3u);
  if (all.size() == 3) {
    EXPECT_EQ(train_losses(slurp(data.file("b.jsonl"))),
              std::vector<std::string>(all.begin() + 1, all.end()));
  }
  SafetensorsContents a = load_safetensors(data.file("a.st"));
  const SafetensorsContents b = load_safetensors(data.file("b.st"));
  EXPECT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size() && i < b.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].first, b.tensors[i].first);
    EXPECT_TRUE(tensors_bitwise_equal(b.tensors[i].second, a.tensors[i].second))
        << a.tensors[i].first;
  }
  return a;
}

}  // namespace tg::testing
