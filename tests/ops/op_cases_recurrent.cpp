// Op-table families of the fused LSTM and GRU cells: batches and hidden sizes of one, odd and
// large, gates large enough to saturate; the LSTM's output is [h | c'] so one comparison covers
// both.
#include "op_families.h"

namespace tg::testing {

void recurrent_families(Table& t) {
  const std::vector<std::pair<int64_t, int64_t>> sizes = {
      {1, 1},   {1, 2},   {2, 3},    {3, 5},    {4, 8},   {1, 31},  {2, 32}, {3, 33},
      {5, 64},  {2, 127}, {7, 128},  {1, 255},  {64, 64}, {33, 65}, {0, 4},  {128, 10},
      {2, 257}, {9, 1},   {1, 1024}, {16, 16},  {65, 3},  {3, 100}, {31, 7}, {256, 2},
      {2, 513}, {10, 10}, {1, 4097}, {100, 20}, {5, 5},   {17, 33}};
  for (const auto& [batch, hidden] : sizes) {
    t.add(
        "lstm_cell", "batch " + std::to_string(batch) + " hidden " + std::to_string(hidden),
        {{{batch, 4 * hidden}}, {{batch, hidden}}},
        [](const Inputs& in) {
          const LstmCellResult r = lstm_cell(in[0], in[1]);
          return cat({r.h, mul(r.c, 0.5)}, 1);
        },
        batch * hidden <= 24);
  }
  for (const auto& [batch, hidden] : sizes) {
    t.add(
        "gru_cell", "batch " + std::to_string(batch) + " hidden " + std::to_string(hidden),
        {{{batch, 3 * hidden}}, {{batch, 3 * hidden}}, {{batch, hidden}}},
        [](const Inputs& in) { return gru_cell(in[0], in[1], in[2]); }, batch * hidden <= 24);
  }
  t.add(
      "gru_cell", "saturated gates", {{{3, 6}}, {{3, 6}}, {{3, 2}}},
      [](const Inputs& in) { return gru_cell(mul(in[0], 6.0), mul(in[1], 4.0), in[2]); }, true);
  // Gates scaled up: sigmoids and tanhs near saturation.
  t.add(
      "lstm_cell", "saturated gates", {{{3, 8}}, {{3, 2}}},
      [](const Inputs& in) {
        const LstmCellResult r = lstm_cell(mul(in[0], 6.0), in[1]);
        return cat({r.h, r.c}, 1);
      },
      true);
}

}  // namespace tg::testing
