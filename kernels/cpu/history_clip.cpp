// CPU launcher of history-based clipping (kernels/history_clip.h): the order statistics
// by selection on a copy of the recorded norms.
#include <algorithm>
#include <vector>

#include "../history_clip.h"

namespace tg::kernels::cpu {

void history_clip(const HistoryClipArgs& a) {
  const int64_t n = history_record(a);
  double lo_value = 0, hi_value = 0;
  if (n > 0) {
    int64_t lo = 0, hi = 0;
    double fraction = 0;
    percentile_ranks(a.options.percentile, n, &lo, &hi, &fraction);
    std::vector<double> values(a.history, a.history + n);
    std::nth_element(values.begin(), values.begin() + lo, values.end());
    lo_value = values[lo];
    hi_value = hi == lo ? lo_value : *std::min_element(values.begin() + lo + 1, values.end());
  }
  history_finish(a, lo_value, hi_value);
}

}  // namespace tg::kernels::cpu
