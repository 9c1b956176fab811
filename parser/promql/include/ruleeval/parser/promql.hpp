// PromQL parsing, type checking, printing. The one entry point is parse().
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "ruleeval/parser/promql_ast.hpp"
#include "ruleeval/parser/promql_functions.hpp"

namespace ruleeval::promql {

struct ParseOptions {
  bool experimental_functions = false;  // sort_by_label, mad_over_time, limitk, ...
};

struct ParseError {
  std::string message;  // Prometheus's wording, e.g. `unexpected end of input`
  Span span;            // offending bytes in the input
  uint32_t line = 1;    // 1-based
  uint32_t col = 1;     // 1-based, in bytes
  // "line:col: parse error: message" followed by the source line and a caret, like a compiler.
  std::string render(std::string_view input) const;
  // "<line>:<col>: parse error: <message>" in Prometheus's form.
  std::string to_string() const;
};

std::expected<ExprPtr, ParseError> parse(std::string_view input, const ParseOptions& opts = {});

// Canonical form; parse(format(e)) == e for every parsed e.
std::string format(const Expr& e);
// JSON dump of the AST (node types, fields, spans).
std::string to_json(const Expr& e);

// Parses a label matcher set such as `metric{a="b"}` (used by the test loaders for series).
std::expected<ExprPtr, ParseError> parse_series_selector(std::string_view input);

}  // namespace ruleeval::promql
