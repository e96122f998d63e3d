// The gradient monitor in the programs: mnist_train --monitor raises no alarm on a healthy
// CNN run and stops a diverging one on its non-finite alarm (exit 0, the alarm on stderr,
// in the metrics and the summary); grad_explosion shows a naive deep network exploding
// (the monitor naming a layer) and a remedy that does not, and writes its curves as JSON
// Lines and an SVG chart that an XML parser reads (Python's xml.etree).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

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
  const std::string check =
      "python3 -c \"import sys, xml.etree.ElementTree as ET\n"
      "root = ET.parse(sys.argv[1]).getroot()\n"
      "ns = '{http://www.w3.org/2000/svg}'\n"
      "assert root.tag == ns + 'svg', root.tag\n"
      "titles = [t.text for t in root.iter(ns + 'title')]\n"
      "texts = [t.text for t in root.iter(ns + 'text')]\n"
      "assert 'training loss per step' in texts, texts\n"
      "assert 'per-layer gradient norm: naive' in texts, texts\n"
      "assert all(r in titles for r in ('naive', 'he', 'clip')), titles\n"
      "assert len(list(root.iter(ns + 'polyline'))) >= 3 * 2 + 12, 'too few lines'\n"
      "print('svg ok')\" " +
      dir.file("chart.svg") + " > " + dir.file("svg.out") + " 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0)
      << "python3 could not parse the chart or it lacks curves: " << slurp(dir.file("svg.out"));
}

}  // namespace
}  // namespace tg
