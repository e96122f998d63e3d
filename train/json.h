// A small JSON writer for the training package's logs and the programs' summary lines:
// values are formatted by the caller; non-finite numbers become null (JSON has no NaN).
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace tg::train {

// {"key": value, ...} from (key, already-formatted value) pairs, values written as given.
inline std::string json_object(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    out += (i ? ", \"" : "\"") + fields[i].first + "\": " + fields[i].second;
  }
  return out + "}";
}
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
// Non-finite values are written as null.
inline std::string json_number(double v, const char* format = "%.6g") {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace tg::train
