// Errors: tg::Error and the checking macros every layer uses.
//
// TG_CHECK(cond, parts...)  what a user can get wrong; the message names the op and the
//                           shapes, dtypes and devices involved (parts are streamed).
// TG_ASSERT(cond, parts...) an internal invariant; failing it is a tamegrad bug.
// Both throw tg::Error (never exit), so tests can EXPECT_THROW bad input. The message
// ends with the file:line of the check.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.h"

TG_API_BEGIN

namespace tg {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "[2, 3]": how shapes and index lists appear in messages.
std::string to_string(const std::vector<int64_t>& values);

namespace detail {

inline void stream_parts(std::ostringstream&) {}

template <typename T, typename... Rest>
void stream_parts(std::ostringstream& os, const T& first, const Rest&... rest) {
  if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    os << ::tg::to_string(first);
  } else {
    os << first;
  }
  stream_parts(os, rest...);
}

template <typename... Parts>
[[noreturn]] void throw_error(const char* kind, const char* file, int line, const Parts&... parts) {
  std::ostringstream os;
  stream_parts(os, parts...);
  os << " (" << kind << " at " << file << ":" << line << ")";
  throw Error(os.str());
}

}  // namespace detail
}  // namespace tg

#define TG_CHECK(cond, ...)                                                           \
  do {                                                                                \
    if (!(cond)) ::tg::detail::throw_error("check", __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#define TG_ASSERT(cond, ...)                                                                 \
  do {                                                                                       \
    if (!(cond))                                                                             \
      ::tg::detail::throw_error("internal assertion '" #cond "' failed", __FILE__, __LINE__, \
                                __VA_ARGS__);                                                \
  } while (0)

#define TG_THROW(...) ::tg::detail::throw_error("error", __FILE__, __LINE__, __VA_ARGS__)

TG_API_END
