// Validators for the example programs' flags (CLI11), for what CLI11's own let through:
// NaN and infinity pass PositiveNumber and Range, a number that does not parse aborted a
// validator that called std::stod, "-1" and "99999999999999999999" both became 2^64 - 1 as a
// uint64 seed, and an empty path meant "the default". Each refuses with a message that
// CLI11 prints after the flag's name (exit 2).
#pragma once

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace tg::examples {

// A finite number in [lo, hi] (lo excluded when lo_open, hi excluded when hi_open).
inline CLI::Validator finite_number(double lo, double hi, bool lo_open = false,
                                    bool hi_open = false) {
  const auto bound = [](double v) {
    if (std::isinf(v)) return std::string(v > 0 ? "inf" : "-inf");
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return s;
  };
  std::string range = std::string(lo_open || std::isinf(lo) ? "(" : "[") + bound(lo) + ", " +
                      bound(hi) + (hi_open || std::isinf(hi) ? ")" : "]");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size())
          return "must be a number, got '" + text + "'";
        if (!std::isfinite(v) || errno == ERANGE) return "must be a finite number, got " + text;
        if (v < lo || v > hi || (lo_open && v == lo) || (hi_open && v == hi))
          return "must be in " + range + ", got " + text;
        return "";
      },
      "FINITE in " + range);
}
inline CLI::Validator positive_number() { return finite_number(0, HUGE_VAL, true); }
inline CLI::Validator non_negative_number() { return finite_number(0, HUGE_VAL); }

// A whole number in [0, 2^64 - 1], digits only.
inline CLI::Validator unsigned_64() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
          return "must be a whole number >= 0, got '" + text + "'";
        errno = 0;
        std::strtoull(text.c_str(), nullptr, 10);
        if (errno == ERANGE) return "must be at most 2^64 - 1, got " + text;
        return "";
      },
      "UINT64");
}

inline CLI::Validator non_empty() {
  return CLI::Validator(
      [](std::string& text) -> std::string { return text.empty() ? "must not be empty" : ""; }, "");
}

// OpenMP threads: more than this is a mistake, and libgomp crashes on some (100000).
constexpr int kMaxThreads = 1024;
inline CLI::Validator thread_count() { return CLI::Range(1, kMaxThreads); }

}  // namespace tg::examples
