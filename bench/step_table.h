// The table bench_train_step prints (bench/bench_train_step.cpp): our time per row beside
// each PyTorch peer's (bench/torch_train_step.py's "row ms" lines), the best peer, the ratio,
// and the row's floor on this machine (Note [row floors]). Bench-internal.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../core/factory.h"
#include "../core/generator.h"
#include "../core/ops.h"
#include "bench_common.h"

namespace tg::bench {

inline std::map<std::string, double> read_peer(const std::string& path) {
  std::map<std::string, double> times;
  if (path.empty()) return times;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "bench_train_step: --peer %s: cannot read it\n", path.c_str());
    std::exit(2);
  }
  std::string name;
  double ms;
  while (in >> name >> ms) times[name] = ms;
  return times;
}

// Note [row floors]
// What a row cannot go below on this machine: its matrix-product and convolution FLOPs at
// the rate of a large float32 GEMM, and the bytes it must read and write at least once at
// the copy bandwidth; for one op the larger of the two (its loads and its arithmetic
// overlap), for a step their sum (its products and its optimizer update run one after the
// other). Both rates are measured at the start of the run with our own kernels (a 1024^3
// matmul, an 8 MiB clone: the size of the op rows, which stay in the caches), the best of
// ten; a copy-like row (relu) lands within a few percent of its floor. Activation, loss and
// bookkeeping work counts as free: a floor, not a model of the step.
struct Work {
  double flops = 0;          // in products and convolutions
  double bytes = 0;          // read + written at least once
  bool in_sequence = false;  // a step: its products and its memory work do not overlap
};

struct Rates {
  double flops_per_s = 0;
  double bytes_per_s = 0;
};

inline Rates measure_rates() {
  Generator gen(1);
  const Tensor a = randn({1024, 1024}, {}, &gen), b = randn({1024, 1024}, {}, &gen);
  const Tensor big = randn({int64_t(1) << 21}, {}, &gen);  // 8 MiB: the op rows' size
  Rates r;
  r.flops_per_s =
      2.0 * 1024 * 1024 * 1024 / best_seconds(Device::cpu(), 10, [&] { (void)matmul(a, b); });
  r.bytes_per_s =
      2.0 * big.numel() * 4 / best_seconds(Device::cpu(), 10, [&] { (void)big.clone(); });
  return r;
}

class Table {
 public:
  // `peers`: (name, file) of "row ms" lines; `only`: the prefix of the rows to run.
  Table(const std::vector<std::pair<std::string, std::string>>& peers, const std::string& only,
        bool json)
      : json_(json), only_(only) {
    for (const auto& [name, file] : peers) peers_.emplace_back(name, read_peer(file));
    if (json_) return;
    std::printf("%-24s %9s", "row", "ours_ms");
    for (const auto& peer : peers_) std::printf(" %12s", (peer.first + "_ms").c_str());
    if (!peers_.empty()) std::printf(" %9s %6s", "best_ms", "ratio");
    std::printf(" %9s %8s\n", "floor_ms", "x_floor");
  }
  void set_rates(const Rates& rates) {
    rates_ = rates;
    std::printf(
        "# floors: float32 GEMM %.1f GFLOP/s (1024^3 matmul), copy %.1f GB/s (read + write)\n",
        rates.flops_per_s / 1e9, rates.bytes_per_s / 1e9);
  }
  bool wants(const std::string& name) const { return name.compare(0, only_.size(), only_) == 0; }
  void row(const std::string& name, double seconds, Work work = {}) {
    const double ms = seconds * 1e3;
    std::vector<double> peer_ms;
    double best = 0;
    for (const auto& peer : peers_) {
      const auto it = peer.second.find(name);
      peer_ms.push_back(it == peer.second.end() ? 0.0 : it->second);
      if (peer_ms.back() > 0 && (best == 0 || peer_ms.back() < best)) best = peer_ms.back();
    }
    double floor = 0;
    if (rates_.flops_per_s > 0 && (work.flops > 0 || work.bytes > 0)) {
      const double compute = work.flops / rates_.flops_per_s,
                   memory = work.bytes / rates_.bytes_per_s;
      floor = 1e3 * (work.in_sequence ? compute + memory : std::max(compute, memory));
    }
    if (json_) {
      std::printf("{\"name\": \"%s\", \"ours_ms\": %.4f", name.c_str(), ms);
      for (size_t i = 0; i < peers_.size(); ++i) {
        if (peer_ms[i] > 0) std::printf(", \"%s_ms\": %.4f", peers_[i].first.c_str(), peer_ms[i]);
      }
      if (best > 0) std::printf(", \"best_peer_ms\": %.4f, \"ratio\": %.3f", best, ms / best);
      if (floor > 0) std::printf(", \"floor_ms\": %.4f, \"x_floor\": %.2f", floor, ms / floor);
      std::printf("}\n");
    } else {
      std::printf("%-24s %9.3f", name.c_str(), ms);
      for (double p : peer_ms) print_ms(p, 12);
      if (!peers_.empty()) {
        print_ms(best, 9);
        if (best > 0) {
          std::printf(" %6.2f", ms / best);
        } else {
          std::printf(" %6s", "-");
        }
      }
      print_ms(floor, 9);
      if (floor > 0) {
        std::printf(" %8.2f\n", ms / floor);
      } else {
        std::printf(" %8s\n", "-");
      }
    }
    std::fflush(stdout);
  }

 private:
  static void print_ms(double ms, int width) {
    if (ms > 0) {
      std::printf(" %*.3f", width, ms);
    } else {
      std::printf(" %*s", width, "-");
    }
  }
  bool json_;
  std::string only_;
  std::vector<std::pair<std::string, std::map<std::string, double>>> peers_;
  Rates rates_;
};

}  // namespace tg::bench
