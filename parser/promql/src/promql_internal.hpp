// Private helpers shared by the PromQL parser, checker and printer.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "ruleeval/parser/promql.hpp"

namespace ruleeval::promql::detail {

// Thrown inside the parser (never across the public API) for a semantic error at `span`.
struct Failure {
  Span span;
  std::string message;
};

// The Error (kind kParse) for `message` at `span` of `input`: line, column and end column.
Error parse_error_at(std::string_view input, Span span, std::string message);

inline Span make_span(size_t b, size_t e) {
  return Span{static_cast<uint32_t>(b), static_cast<uint32_t>(e)};
}

// Skips whitespace and `#` comments from `pos`; returns the first significant offset.
size_t skip_blank(std::string_view input, size_t pos);

// Prometheus's description of the token at `pos` for "unexpected ..." messages:
// `end of input`, `identifier "foo"`, `number "1"`, `<op:+>`, `<aggr:sum>`, `"("`, ...
// `len` receives the token length (at least 1 unless at end of input).
std::string describe_token(std::string_view input, size_t pos, size_t* len);

// Go's strconv.Unquote (as Prometheus's strutil.Unquote: single quotes may hold strings).
std::expected<std::string, std::string> unquote(std::string_view quoted);

// Number literal text (hex, octal, decimal, float, Inf/NaN, `_` separators, durations) to value.
// Durations are returned in seconds.
std::expected<double, std::string> number_value(std::string_view text);
// The largest duration literal in seconds, either sign: a Go time.Duration is +-2^63 ns
// (Prometheus's durationLiteralOutOfRange refuses larger ones: "duration out of range").
inline constexpr double kMaxDurationSeconds = 9223372036854775808.0 / 1e9;
// Duration text for ranges/offsets: a duration literal or a number of seconds, to milliseconds.
std::expected<int64_t, std::string> duration_value(std::string_view text);

// [a-zA-Z_][a-zA-Z0-9_]* (labels) and [a-zA-Z_:][a-zA-Z0-9_:]* (metric names).
bool is_legacy_label_name(std::string_view s);
bool is_legacy_metric_name(std::string_view s);

// Type checking and the semantic rules Prometheus applies after parsing (checkAST).
// Throws Failure on the first problem.
void check(std::string_view input, Expr& e);

}  // namespace ruleeval::promql::detail
