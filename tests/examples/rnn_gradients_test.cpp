// rnn_gradients on a short adding problem (20 steps, 600 training steps, a few seconds):
// the per-time-step gradient that the hooks measure vanishes back through a default tanh
// RNN and grows through one with a large recurrent matrix, whose SGD run is thrown off while
// the clipped one trains on; LSTM and GRU learn the task and carry the gradient back to the
// first step; the curves are one JSON line per run and step, the chart well-formed SVG.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "program_runner.h"

namespace tg {
namespace {

using testing::Outcome;
using testing::run;
using testing::ScratchDir;
using testing::slurp;

// `key` of `run_name` in the summary (stdout's last line); NaN for null.
double field(const std::string& out, const std::string& run_name, const std::string& key) {
  const size_t line = out.rfind("{\"runs\": [");
  const size_t at_run = out.find("{\"run\": \"" + run_name + "\"", line);
  EXPECT_NE(at_run, std::string::npos) << run_name << " in " << out;
  const std::string tag = "\"" + key + "\": ";
  const size_t at = out.find(tag, at_run);
  EXPECT_NE(at, std::string::npos) << key << " of " << run_name;
  const std::string value = out.substr(at + tag.size(), 24);
  return value.rfind("null", 0) == 0 ? NAN : std::stod(value);
}

TEST(RnnGradients, VanishingExplodingAndTheRemediesOnTheAddingProblem) {
  ScratchDir dir;
  const Outcome r = run(dir,
                        "--seq-len 20 --hidden 32 --batch 32 --steps 600 --adam-lr 1e-2 "
                        "--profile-every 200 --jsonl " +
                            dir.file("curves.jsonl") + " --svg " + dir.file("chart.svg"),
                        TG_RNN_GRADIENTS);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rnn: ||dL/dh_t|| at step 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| rnn_clip | rnn_large with gradient-norm clipping; SGD | 600 | "),
            std::string::npos)
      << r.out;
  // The default tanh RNN: the first step's gradient is a tiny share of the last one's, and
  // it learns no more than the mean (MSE 1/6), under SGD or Adam.
  EXPECT_LT(field(r.out, "rnn", "first_to_last_start"), 1e-4);
  EXPECT_GT(field(r.out, "rnn", "test_mse"), 0.1);
  EXPECT_GT(field(r.out, "rnn_adam", "test_mse"), 0.1);
  // The large recurrent matrix: the gradient grows back through time and explodes; SGD is
  // thrown far off the mean, the clipped run is not.
  EXPECT_GT(field(r.out, "rnn_large", "first_to_last_start"), 1);
  EXPECT_GT(field(r.out, "rnn_large", "max_grad_norm"), 100);
  const double large = field(r.out, "rnn_large", "test_mse");
  EXPECT_TRUE(std::isnan(large) || large > 0.5) << large;
  EXPECT_LT(field(r.out, "rnn_clip", "test_mse"), 0.25);
  // Gated cells learn the task and, trained, carry the gradient to the first step.
  for (const char* gated : {"lstm", "gru"}) {
    SCOPED_TRACE(gated);
    EXPECT_LT(field(r.out, gated, "test_mse"), 0.01);
    EXPECT_GT(field(r.out, gated, "within_0_04"), 0.5);
    EXPECT_GT(field(r.out, gated, "first_to_last_end"), 0.01);
  }
  // One JSON line per run and step, a profile of 20 norms at the profiled steps.
  std::istringstream lines(slurp(dir.file("curves.jsonl")));
  int count = 0, profiles = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    if (line.find("\"grad_h\": [") != std::string::npos) ++profiles;
  }
  EXPECT_EQ(count, 6 * 600);
  EXPECT_EQ(profiles, 6 * 4);  // steps 0, 200, 400 and the last
  const std::string check =
      "python3 -c \"import sys, xml.etree.ElementTree as ET\n"
      "root = ET.parse(sys.argv[1]).getroot()\n"
      "ns = '{http://www.w3.org/2000/svg}'\n"
      "texts = [t.text for t in root.iter(ns + 'text')]\n"
      "assert '||dL/dh_t|| through time at step 0' in texts, texts\n"
      "assert len(list(root.iter(ns + 'polyline'))) >= 20, 'too few lines'\" " +
      dir.file("chart.svg") + " > " + dir.file("svg.out") + " 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0) << slurp(dir.file("svg.out"));
}

TEST(RnnGradients, UnknownRunsAreRefused) {
  ScratchDir dir;
  const Outcome r = run(dir, "--runs rnn,transformer", TG_RNN_GRADIENTS);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--runs: unknown remedy 'transformer' (known: rnn, rnn_large"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace tg
