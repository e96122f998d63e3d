// The gradient monitor in the programs: mnist_train --monitor raises no alarm on a healthy
// CNN run and stops a diverging one on its non-finite alarm (exit 0, the alarm on stderr,
// in the metrics and the summary); grad_explosion shows a naive deep network exploding
// (the monitor naming a layer) and a remedy that does not, and grad_vanish a deep sigmoid
// network whose first layers' gradients vanish (the monitor naming the first) and remedies
// that keep them; both write their curves as JSON Lines and an SVG chart that an XML parser
// reads (Python's xml.etree).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../data/idx_files.h"
#include "program_runner.h"

namespace tg {
namespace {

using testing::Outcome;
using testing::run;
using testing::ScratchDir;
using testing::slurp;

// The summary line: stdout's last line.
std::string last_line(const std::string& out) {
  const size_t end = out.find_last_not_of('\n');
  const size_t start = out.rfind('\n', end);
  return out.substr(start == std::string::npos ? 0 : start + 1, end - start);
}

bool is_dir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The chart in dir/chart.svg: well-formed SVG (parsed by Python's xml.etree) with the loss
// panel, the per-layer panel of `table_run`, a line titled after each run, and at least
// `min_lines` lines.
void expect_chart(const ScratchDir& dir, const std::string& table_run,
                  const std::vector<std::string>& runs, int min_lines) {
  std::string titles = "(";
  for (const std::string& r : runs) titles += "'" + r + "', ";
  titles += ")";
  const std::string check =
      "python3 -c \"import sys, xml.etree.ElementTree as ET\n"
      "root = ET.parse(sys.argv[1]).getroot()\n"
      "ns = '{http://www.w3.org/2000/svg}'\n"
      "assert root.tag == ns + 'svg', root.tag\n"
      "titles = [t.text for t in root.iter(ns + 'title')]\n"
      "texts = [t.text for t in root.iter(ns + 'text')]\n"
      "assert 'training loss per step' in texts, texts\n"
      "assert 'per-layer gradient norm: " +
      table_run +
      "' in texts, texts\n"
      "assert all(r in titles for r in " +
      titles +
      "), titles\n"
      "assert len(list(root.iter(ns + 'polyline'))) >= " +
      std::to_string(min_lines) +
      ", 'too few lines'\n"
      "print('svg ok')\" " +
      dir.file("chart.svg") + " > " + dir.file("svg.out") + " 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0)
      << "python3 could not parse the chart or it lacks curves: " << slurp(dir.file("svg.out"));
}

TEST(MnistTrainMonitor, AHealthyCnnRunRaisesNoAlarm) {
  ScratchDir dir;
  // Real data where the set-up installed it (CI does), else the generated set.
  std::string data = "/usr/share/datasets/fashion-mnist";
  if (!is_dir(data)) {
    testing::write_mnist(dir, 300, 100);
    data = dir.path();
  }
  const Outcome r = run(dir,
                        "--model cnn --limit 1500 --epochs 2 --device cpu --monitor "
                        "--metrics " +
                            dir.file("m.jsonl") + " --data " + data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("alarm"), std::string::npos) << r.err;
  EXPECT_NE(last_line(r.out).find("\"alarms\": 0, \"stopped_by\": \"\""), std::string::npos)
      << r.out;
  EXPECT_EQ(testing::metric_text(slurp(dir.file("m.jsonl")), "alarms"),
            (std::vector<std::string>{"[]", "[]"}));
}

// The monitor raises its explosion alarm as the run diverges; the first non-finite loss
// then ends the run with exit 1, naming the epoch and batch (it once went on to exit 0).
TEST(MnistTrainMonitor, ADivergingRunRaisesAnAlarmThenStopsAtItsFirstNonFiniteLoss) {
  ScratchDir dir;
  testing::write_mnist(dir, 300, 100);
  const Outcome r = run(dir,
                        "--model mlp --optimizer sgd --lr 5000 --batch 20 --epochs 3 --device cpu "
                        "--monitor --metrics " +
                            dir.file("m.jsonl") + " --data " + dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("mnist_train: alarm: step 1: explosion in "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mnist_train: the training loss became NaN at epoch 1, batch 4 of 15; "
                       "training stopped there"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("\"test_accuracy\""), std::string::npos) << "no summary of a failed run";
}

TEST(GradExplosion, ShowsTheDivergenceAndARemedyAndWritesItsCurves) {
  ScratchDir dir;
  testing::write_mnist(dir, 300, 100);
  const Outcome r = run(dir,
                        "--depth 12 --width 64 --naive-std 0.3 --steps 40 --remedies naive,he,clip "
                        "--tables naive --table-steps 0,1,2 --device cpu --data " +
                            dir.path() + " --jsonl " + dir.file("curves.jsonl") + " --svg " +
                            dir.file("chart.svg"),
                        TG_GRAD_EXPLOSION);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The naive run explodes and the monitor names a layer; He initialisation trains on.
  EXPECT_NE(r.out.find("| naive | naive N(0, std^2) init, ReLU, no normalisation, no clipping "
                       "| 3 | diverged | "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("explosion @1 "), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("grad_explosion: alarm: step 1: explosion in "), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("| he | He (Kaiming) normal initialisation | 40 | "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("per-layer gradient norm, naive"), std::string::npos);
  const std::string summary = last_line(r.out);
  EXPECT_NE(summary.find("{\"remedy\": \"naive\", \"steps\": 3, \"final_loss\": null"),
            std::string::npos)
      << summary;
  // JSON Lines: one per step of each run, each with 12 layer norms.
  std::istringstream lines(slurp(dir.file("curves.jsonl")));
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    ASSERT_NE(line.find("\"layer_grad_norms\": ["), std::string::npos) << line;
  }
  EXPECT_EQ(count, 3 + 40 + 40);
  // The chart: well-formed SVG with a loss line per run and a line per layer.
  expect_chart(dir, "naive", {"naive", "he", "clip"}, 3 * 2 + 12);
}

TEST(GradVanish, TheDeepSigmoidNetsGradientsVanishAndAResidualNetsDoNot) {
  ScratchDir dir;
  testing::write_mnist(dir, 300, 100);
  const Outcome r = run(dir,
                        "--depth 12 --width 32 --steps 30 --remedies naive,residual,shallow "
                        "--tables naive --table-steps 0,29 --device cpu --data " +
                            dir.path() + " --jsonl " + dir.file("curves.jsonl") + " --svg " +
                            dir.file("chart.svg"),
                        TG_GRAD_VANISH);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The monitor names the first layer at the first step; the residual net raises nothing.
  EXPECT_NE(r.out.find("| naive | sigmoid, PyTorch's default init, no normalisation | 30 | "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| vanishing @0 1.weight | "), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("grad_vanish: alarm: step 0: vanishing in 1.weight"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("per-layer gradient norm, naive"), std::string::npos);
  // The first layer's gradient against the last one's, at step 0: orders of magnitude below
  // in the sigmoid stack, within a few of it around the residual blocks.
  const std::string summary = last_line(r.out);
  auto ratio = [&](const std::string& remedy) {
    const std::string key = "\"remedy\": \"" + remedy + "\"";
    const size_t at = summary.find("\"first_to_last\": ", summary.find(key));
    EXPECT_NE(at, std::string::npos) << summary;
    return std::stod(summary.substr(at + 17));
  };
  EXPECT_LT(ratio("naive"), 1e-5) << summary;
  EXPECT_GT(ratio("residual"), 1e-3) << summary;
  EXPECT_GT(ratio("shallow"), 1e-3) << summary;
  EXPECT_NE(summary.find("{\"remedy\": \"residual\", \"steps\": 30, \"final_loss\": "),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("\"first_alarm\": \"-\""), std::string::npos) << summary;
  // JSON Lines: one per step of each run; 12, 12 and 3 layer norms.
  std::istringstream lines(slurp(dir.file("curves.jsonl")));
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    ASSERT_NE(line.find("\"layer_grad_norms\": ["), std::string::npos) << line;
  }
  EXPECT_EQ(count, 3 * 30);
  expect_chart(dir, "naive", {"naive", "residual", "shallow"}, 3 * 2 + 12);
}

TEST(GradientPrograms, UnknownRemediesAreRefusedListingTheKnownOnes) {
  ScratchDir dir;
  const Outcome vanish = run(dir, "--remedies naive,dropout", TG_GRAD_VANISH);
  EXPECT_EQ(vanish.exit_code, 2);
  EXPECT_NE(vanish.err.find("--remedies: unknown remedy 'dropout' (known: naive, tanh, relu"),
            std::string::npos)
      << vanish.err;
  const Outcome explosion = run(dir, "--tables naive,nope", TG_GRAD_EXPLOSION);
  EXPECT_EQ(explosion.exit_code, 2);
  EXPECT_NE(explosion.err.find("--tables: unknown remedy 'nope'"), std::string::npos)
      << explosion.err;
}

}  // namespace
}  // namespace tg
