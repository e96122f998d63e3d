#include "metrics_log.h"

#include <cmath>
#include <cstdio>

#include "../foundation/error.h"
#include "json.h"

namespace tg::train {

MetricsLog::MetricsLog(std::string path)
    : path_(std::move(path)),
      csv_(path_.size() >= 4 && path_.compare(path_.size() - 4, 4, ".csv") == 0) {
  TG_CHECK(!path_.empty(), "MetricsLog: needs a file name");
}

void MetricsLog::on_train_begin(TrainState& state) {
  if (!state.primary) return;
  out_.open(path_, std::ios::trunc);
  TG_CHECK(out_.good(), "MetricsLog: cannot open ", path_, " for writing");
  columns_.clear();
}

void MetricsLog::on_epoch_end(TrainState& state) {
  if (!state.primary) return;
  if (!csv_) {
    std::vector<std::pair<std::string, std::string>> fields{{"epoch", std::to_string(state.epoch)}};
    for (const Logs::Entry& e : state.logs.entries())
      fields.emplace_back(e.name, e.json.empty() ? json_number(e.value) : e.json);
    out_ << json_object(fields) << "\n";
  } else {
    if (columns_.empty()) {
      out_ << "epoch";
      for (const Logs::Entry& e : state.logs.entries()) {
        if (!e.json.empty()) continue;
        columns_.push_back(e.name);
        out_ << "," << e.name;
      }
      out_ << "\n";
    }
    out_ << state.epoch;
    for (const std::string& name : columns_) {
      char text[40] = "";
      if (state.logs.has(name)) std::snprintf(text, sizeof text, "%.9g", state.logs.get(name));
      out_ << "," << text;
    }
    out_ << "\n";
  }
  out_.flush();
  TG_CHECK(out_.good(), "MetricsLog: cannot write ", path_);
}

}  // namespace tg::train
