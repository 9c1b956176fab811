// PromQL parsing, type checking, printing. The one entry point is parse().
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "ruleeval/common/error.hpp"
#include "ruleeval/parser/promql_ast.hpp"
#include "ruleeval/parser/promql_functions.hpp"

namespace ruleeval::promql {

// Prometheus's parser options, one per --enable-feature flag (promql/parser/parse.go Options).
struct ParseOptions {
  // promql-experimental-functions: sort_by_label, mad_over_time, info, limitk, limit_ratio, ...
  bool experimental_functions = false;
  // promql-extended-range-selectors: the `anchored` and `smoothed` modifiers.
  bool extended_range_selectors = false;
  // promql-binop-fill-modifiers: fill(), fill_left(), fill_right().
  bool binop_fill_modifiers = false;
  // Duration expressions (`[step() * 2]`). Prometheus has made promql-duration-expr permanent
  // (the flag is a no-op in Prometheus and promtool), so this is on by default.
  bool duration_expr = true;

  // Every experimental feature on (promqltest's .test harness, the status page's query box).
  static constexpr ParseOptions all() { return ParseOptions{true, true, true, true}; }
};

// Bits of the --enable-feature PromQL flags, as carried by the command-line options.
enum PromqlFeature : unsigned {
  kFeatureExperimentalFunctions = 1u,
  kFeatureExtendedRangeSelectors = 2u,
  kFeatureBinopFillModifiers = 4u,
  kFeatureAllPromql = 7u,  // the parser's switches
  // Not a parser switch: the evaluator keeps __name__ until the query ends
  // (promql-delayed-name-removal; off by default in Prometheus 3 and promtool 3).
  kFeatureDelayedNameRemoval = 8u,
};
// The parser options for a set of PromqlFeature bits.
constexpr ParseOptions parse_options_for(unsigned features) {
  ParseOptions o;
  o.experimental_functions = (features & kFeatureExperimentalFunctions) != 0;
  o.extended_range_selectors = (features & kFeatureExtendedRangeSelectors) != 0;
  o.binop_fill_modifiers = (features & kFeatureBinopFillModifiers) != 0;
  return o;
}

// parse() and parse_series_selector() fail with an Error of kind kParse: `message` in
// Prometheus's wording (e.g. `unexpected end of input`), `where` the 1-based line and column (in
// bytes) of the offending token, `where.end_col` just past it (0 for a point); `where.file` is
// empty (the caller knows which file or field the text came from).
Result<ExprPtr> parse(std::string_view input, const ParseOptions& opts = {});

// "<line>:<col>: parse error: <message>", Prometheus's form of a parse error.
std::string format_parse_error(const Error& e);
// format_parse_error(e), then the source line of `input` and a caret under the span, like a
// compiler.
std::string render_parse_error(const Error& e, std::string_view input);

// Canonical form; parse(format(e)) == e for every parsed e.
std::string format(const Expr& e);
// JSON dump of the AST (node types, fields, spans).
std::string to_json(const Expr& e);

// Parses a label matcher set such as `metric{a="b"}` (used by the test loaders for series).
Result<ExprPtr> parse_series_selector(std::string_view input);

}  // namespace ruleeval::promql
