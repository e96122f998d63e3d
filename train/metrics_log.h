// MetricsLog: each epoch's logs appended to a file, as JSON Lines (one object per epoch:
// {"epoch": 3, "train_loss": 0.312, ...}, JSON values such as the monitor's alarms as they
// are, non-finite numbers as null) or, for a name ending in ".csv", as CSV (a header of the
// numeric logs' names, then one row per epoch). The file is created at the run's start
// (replacing one there) and flushed after every epoch. Rank 0 only.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "../foundation/config.h"
#include "callback.h"

TG_API_BEGIN

namespace tg::train {

class MetricsLog : public Callback {
 public:
  explicit MetricsLog(std::string path);
  void on_train_begin(TrainState& state) override;
  void on_epoch_end(TrainState& state) override;

 private:
  std::string path_;
  bool csv_;
  std::ofstream out_;
  std::vector<std::string> columns_;  // CSV: the header's names
};

}  // namespace tg::train

TG_API_END
