// Error and Result: the one status type every public header returns. Errors carry an optional
// source location (file:line:col, and the end of the offending span where it is known) so that
// every diagnostic can point at the offending input, and a kind (with an HTTP status and the
// peer's error code for errors that came from a backend) for callers that act on the failure,
// e.g. retry transport errors. Internal helpers may use other types; they do not cross headers.
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
  // 1-based column just past the offending span, counted from the start of `line` (a span that
  // runs onto later lines ends past that line's end); 0 = a point. Only parsers that report
  // spans (PromQL) set it; to_string() does not show it.
  uint32_t end_col = 0;

  bool known() const { return line != 0; }
  // "file:line:col", "file:line", "file", or "" depending on what is known.
  std::string to_string() const;
};

// What failed, for callers that branch on it. Most errors are kGeneric; the message says the rest.
enum class ErrorKind : uint8_t {
  kGeneric,
  kParse,      // the input does not parse (`where` points at it)
  kConfig,     // the configuration cannot be used (e.g. an unreadable bearer_token_file)
  kTransport,  // no HTTP response: connect, TLS, timeout, size limit (common/http)
  kHttp,       // an HTTP response with a non-2xx status and no API error envelope
  kApi,        // the backend's API error envelope ({"status":"error","errorType","error"})
  kMalformed,  // a response that is not in the expected shape
};

struct Error {
  std::string message;
  SourceLocation where;
  ErrorKind kind = ErrorKind::kGeneric;
  int http_status = 0;  // the HTTP status when a response was received (kHttp, kApi, kMalformed)
  std::string code;     // the peer's error code, e.g. Prometheus's errorType ("bad_data", ...)

  Error() = default;
  explicit Error(std::string msg) : message(std::move(msg)) {}
  Error(std::string msg, SourceLocation loc) : message(std::move(msg)), where(std::move(loc)) {}
  Error(ErrorKind k, std::string msg, SourceLocation loc = {})
      : message(std::move(msg)), where(std::move(loc)), kind(k) {}

  // "where: message" (or just the message when the location is unknown), the message preceded by
  // what the kind adds: "parse error: ", "configuration: ", "request failed: ",
  // "HTTP 422 (execution): ", "HTTP 200: malformed response: "; nothing for kGeneric.
  std::string to_string() const;
  // That prefix alone ("" for kGeneric).
  std::string kind_prefix() const;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> make_error(std::string msg, SourceLocation loc = {}) {
  return std::unexpected<Error>(Error(std::move(msg), std::move(loc)));
}

}  // namespace ruleeval
