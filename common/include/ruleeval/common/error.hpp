// Error and Result: the cheap status type every layer returns. Errors carry an optional source
// location (file:line:col) so that every diagnostic can point at the offending input.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <utility>

namespace ruleeval {

struct SourceLocation {
  std::string file;   // empty when the input has no file (stdin, a literal)
  uint32_t line = 0;  // 1-based; 0 = unknown
  uint32_t col = 0;   // 1-based; 0 = unknown

  bool known() const { return line != 0; }
  // "file:line:col", "file:line", "file", or "" depending on what is known.
  std::string to_string() const;
};

struct Error {
  std::string message;
  SourceLocation where;

  Error() = default;
  explicit Error(std::string msg) : message(std::move(msg)) {}
  Error(std::string msg, SourceLocation loc) : message(std::move(msg)), where(std::move(loc)) {}

  // "where: message" (or just the message when the location is unknown).
  std::string to_string() const;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> make_error(std::string msg, SourceLocation loc = {}) {
  return std::unexpected<Error>(Error(std::move(msg), std::move(loc)));
}

}  // namespace ruleeval
